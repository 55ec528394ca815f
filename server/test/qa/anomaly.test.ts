import pino from 'pino';
import { createInsight } from '../../src/analytics';
import { Alert } from '../../src/analytics/alerts';
import { loadInsightSettings } from '../../src/analytics/settings';
import { EventBus } from '../../src/events/bus';
import { inspectTranscript } from '../../src/qa/inspect';
import { Inspection } from '../../src/qa/models';
import { loadQaRules } from '../../src/qa/rules';
import { WeChatHttpClient } from '../../src/wechat/api-client';
import { WeComClient } from '../../src/wechat/wecom-client';
import { FakeWeChatApi, FAKE_WECOM_APP } from '../fakes/wechat-api';
import { seededRandom } from '../analytics/synthetic';
import { useTestDatabase } from '../support/database';
import { simulatedConversation, storeConversation, type Behaviour } from './simulated-agents';

useTestDatabase(__filename);

const AGENTS = ['zhangsan', 'lisi', 'zhouyu', 'chenjing', 'liuyang', 'sunli'];
const MISBEHAVING = 'liuyang';
const DAY = 86_400_000;
const HISTORY_DAYS = 7;
const PER_DAY = 6;
const TODAY = new Date('2025-06-20T00:00:00Z').getTime();

describe('agent anomaly alerts: an agent who misbehaves, in a simulation of the whole team', () => {
  let fake: FakeWeChatApi;
  beforeAll(async () => {
    fake = await FakeWeChatApi.start({ wecomApps: [{ ...FAKE_WECOM_APP, members: [...AGENTS, 'wangfang', 'zhaolei'] }] });
  });
  afterAll(async () => { await fake.stop(); });

  it('raises exactly one alert, about that agent, with evidence, and tells the managers once in WeCom', async () => {
    let clock = TODAY - HISTORY_DAYS * DAY;
    const now = () => new Date(clock);
    const events = new EventBus((event, err) => { throw new Error(`${event} listener failed: ${String(err)}`); });
    const wecomClient = new WeComClient({
      http: new WeChatHttpClient({ baseUrl: fake.baseUrl }), corpId: FAKE_WECOM_APP.corpId, agentId: FAKE_WECOM_APP.agentId, corpSecret: FAKE_WECOM_APP.corpSecret,
    });
    const insight = createInsight({
      events, now, logger: pino({ level: 'silent' }), settings: loadInsightSettings({}),
      knowledge: { search: () => [] }, answerConfidence: 0.5,
      wecom: { client: wecomClient, apiBase: fake.baseUrl },
      recipientsFor: async () => ['wangfang'],
    });
    await insight.start();
    await insight.stop(); // listeners stay; the test drives time itself, no timer
    const rules = loadQaRules();
    const random = seededRandom(42);

    // History: every agent behaves for HISTORY_DAYS days (inspected as they finish, anomaly checks included).
    let counter = 0;
    const converse = async (agentId: string, start: number, behaviour: Behaviour, viaEvents: boolean) => {
      const conversation = simulatedConversation({ conversationId: `official-account:o_${++counter}`, agentId, start: new Date(start), behaviour, random });
      clock = conversation.endedAt.getTime() + 1_000;
      if (viaEvents) {
        await storeConversation(conversation);
        events.publish('conversation.closed', { conversationId: conversation.conversationId, by: 'agent', at: now() });
        await events.settled();
      } else {
        const result = inspectTranscript({ transcript: conversation.transcript }, rules);
        await insight.inspector.record(`${conversation.conversationId}@${conversation.transcript.turns[0].messageId}`, conversation.transcript, result, { kind: 'chat', customerKey: conversation.conversationId });
      }
    };
    for (let day = HISTORY_DAYS; day >= 1; day--) {
      for (let slot = 0; slot < PER_DAY; slot++) {
        for (const [i, agentId] of AGENTS.entries()) await converse(agentId, TODAY - day * DAY + (1 + slot) * 3_600_000 + i * 60_000, 'good', false);
      }
    }
    expect(await Alert.countDocuments()).toBe(0);
    expect(fake.sent.wecom).toHaveLength(0);

    // Today: the team as usual; liuyang fine in the morning, then rude, slow and leaving customers angry.
    // Their conversations go the real way: stored messages, a close event, inspection by the listener.
    for (let slot = 0; slot < PER_DAY + 4; slot++) {
      for (const [i, agentId] of AGENTS.entries()) {
        const misbehaving = agentId === MISBEHAVING;
        await converse(agentId, TODAY + (1 + slot) * 3_600_000 + i * 60_000, misbehaving && slot >= 2 ? 'bad' : 'good', misbehaving);
      }
    }

    const alerts = await Alert.find({}).lean();
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert).toMatchObject({ kind: 'agent_anomaly', subject: MISBEHAVING, severity: 'critical', notified: ['wangfang'] });
    expect(alert.summary).toMatch(/质检均分|态度/);
    // The evidence points at real inspections and at the agent's own messages in them.
    expect(alert.evidence.inspectionIds!.length).toBeGreaterThan(0);
    const evidenceInspections = await Inspection.find({ _id: { $in: alert.evidence.inspectionIds } }).lean();
    expect(evidenceInspections.every((i) => i.agentIds.includes(MISBEHAVING))).toBe(true);
    expect(evidenceInspections.filter((i) => !i.passed).length).toBeGreaterThanOrEqual(2);
    expect(alert.evidence.messageIds!.some((id) => evidenceInspections.some((i) => id.startsWith(i.conversationId)))).toBe(true);

    expect(fake.sent.wecom).toHaveLength(1);
    expect(fake.sent.wecom[0]).toMatchObject({ touser: 'wangfang', msgtype: 'text' });
    expect(JSON.stringify(fake.sent.wecom[0].body)).toContain(MISBEHAVING);

    // Aggregates per agent: the misbehaving agent is the lowest today.
    const [worst] = await insight.inspector.agentSummaries(new Date(TODAY), new Date(TODAY + DAY));
    expect(worst.agentId).toBe(MISBEHAVING);
    expect(worst.hits.rudeness).toBeGreaterThan(0);
  }, 180_000);
});
