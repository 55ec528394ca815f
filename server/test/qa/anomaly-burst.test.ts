import pino from 'pino';
import { createInsight } from '../../src/analytics';
import { Alert } from '../../src/analytics/alerts';
import { loadInsightSettings } from '../../src/analytics/settings';
import { EventBus } from '../../src/events/bus';
import { inspectTranscript } from '../../src/qa/inspect';
import { loadQaRules } from '../../src/qa/rules';
import { seededRandom } from '../analytics/synthetic';
import { useTestDatabase } from '../support/database';
import { simulatedConversation, type Behaviour } from './simulated-agents';

useTestDatabase(__filename);

describe('agent anomaly alerts for a burst of inspections', () => {
  it('judges every inspection of a burst (one sweep pass), not only its first: the agent is alerted on by the sweep', async () => {
    const NOW = Date.UTC(2025, 6, 10, 8);
    let clock = NOW;
    const events = new EventBus((event, err) => { throw new Error(`${event}: ${String(err)}`); });
    const insight = createInsight({
      events, now: () => new Date(clock), logger: pino({ level: 'silent' }), settings: loadInsightSettings({}),
      knowledge: { search: () => [] }, answerConfidence: 0.5, recipientsFor: async () => [],
    });
    const rules = loadQaRules();
    const random = seededRandom(7);
    let counter = 0;
    const inspect = async (agentId: string, behaviour: Behaviour, start: number) => {
      const conversation = simulatedConversation({ conversationId: `official-account:o_burst_${++counter}`, agentId, start: new Date(start), behaviour, random });
      const result = inspectTranscript({ transcript: conversation.transcript }, rules);
      await insight.inspector.record(`${conversation.conversationId}@${conversation.transcript.turns[0].messageId}`, conversation.transcript, result, { kind: 'chat', customerKey: conversation.conversationId });
    };
    // The rest of the team, well within the last day, spread out (each agent judged as they go).
    for (let slot = 0; slot < 6; slot++) {
      for (const [i, agentId] of ['zhangsan', 'lisi', 'zhouyu'].entries()) {
        clock = NOW - (12 - slot) * 3_600_000 + i * 60_000;
        await inspect(agentId, 'good', clock - 20 * 60_000);
      }
    }
    // liuyang's six bad conversations are finished by one sweep pass: inspected in a row at the same time.
    clock = NOW;
    for (let n = 0; n < 6; n++) await inspect('liuyang', 'bad', NOW - (3 - n * 0.4) * 3_600_000);
    // The first of them was judged at once, alone (too few to judge); nothing else came for liuyang since.
    expect(await Alert.countDocuments({ subject: 'liuyang' })).toBe(0);

    clock = NOW + 60_000;
    await insight.sweep();
    const alerts = await Alert.find({ subject: 'liuyang' }).lean();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'agent_anomaly', severity: 'critical' });
    // Only them: the well-behaved agents are not alerted on, and the next sweep raises nothing more.
    clock = NOW + 2 * 60_000;
    await insight.sweep();
    expect(await Alert.countDocuments()).toBe(1);
  }, 60_000);
});
