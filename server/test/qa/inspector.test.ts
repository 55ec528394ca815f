import pino from 'pino';
import { createApp } from '../../src/app';
import { createInsight } from '../../src/analytics';
import { loadInsightSettings } from '../../src/analytics/settings';
import { ConversationStates } from '../../src/conversation/states';
import { seedConversation } from '../support/conversations';
import { EventBus } from '../../src/events/bus';
import { Inspection, lastUtcDays, SessionStart, VoiceCall } from '../../src/qa/models';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';
import { seededRandom } from '../analytics/synthetic';
import { simulatedConversation, storeConversation } from './simulated-agents';

useTestDatabase(__filename);

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const logger = pino({ level: 'silent' });

function setup(start: number) {
  let clock = start;
  const events = new EventBus((event, err) => { throw new Error(`${event}: ${String(err)}`); });
  const insight = createInsight({
    events, now: () => new Date(clock), logger, settings: loadInsightSettings({ ADMIN_TOKEN, QA_IDLE_MINUTES: '30' }),
    knowledge: { search: () => [] }, answerConfidence: 0.5, recipientsFor: async () => [],
  });
  return { events, insight, advance: (ms: number) => { clock += ms; }, set: (ms: number) => { clock = ms; }, now: () => clock };
}

describe('inspection of finished conversations', () => {
  it('inspects a human conversation when it closes, with message ids as evidence; once', async () => {
    const start = Date.UTC(2025, 5, 2, 2);
    const { events, insight, set } = setup(start);
    await insight.start();
    await insight.stop();
    const conversation = simulatedConversation({ conversationId: 'official-account:o_closed', agentId: 'zhangsan', start: new Date(start), behaviour: 'bad', random: seededRandom(3) });
    await storeConversation(conversation);
    // The desk reports when the agent took the session: first response is measured from there.
    events.publish('agent.action', { actor: 'zhangsan', action: 'session.accept', conversationId: conversation.conversationId, at: new Date(start + 5_000) });
    await events.settled();
    expect(await SessionStart.countDocuments({ conversationId: conversation.conversationId })).toBe(1);

    set(conversation.endedAt.getTime() + 1_000);
    events.publish('conversation.closed', { conversationId: conversation.conversationId, by: 'agent', at: new Date(conversation.endedAt.getTime() + 1_000) });
    events.publish('conversation.closed', { conversationId: conversation.conversationId, by: 'agent', at: new Date(conversation.endedAt.getTime() + 1_000) });
    await events.settled();

    const inspections = await Inspection.find({ conversationId: conversation.conversationId }).lean();
    expect(inspections).toHaveLength(1);
    const [inspection] = inspections;
    expect(inspection).toMatchObject({ kind: 'chat', agentIds: ['zhangsan'], handledBy: 'bot+agent', passed: false });
    const rules = new Set(inspection.hits.map((h) => h.rule));
    for (const rule of ['rudeness', 'greeting', 'first_response', 'turn_response', 'emotion_worse']) expect(rules).toContain(rule);
    const turnIds = new Set(conversation.transcript.turns.map((t) => t.messageId));
    for (const hit of inspection.hits) expect(hit.evidence.every((id) => turnIds.has(id))).toBe(true);
    const rude = conversation.transcript.turns.find((t) => t.text.includes('你自己去查'))!;
    expect(inspection.hits.find((h) => h.rule === 'rudeness')!.evidence).toEqual([rude.messageId]);
  });

  it('inspects a bot conversation that just went quiet, after the idle time, and flags a repeat contact the next time', async () => {
    const start = Date.UTC(2025, 5, 3, 2);
    const { insight, set } = setup(start);
    const conversationId = 'official-account:o_quiet';
    const say = async (id: string, at: number, text: string, decision: object) => {
      const { Message } = await import('../../src/conversation/models');
      await Message.create({
        _id: id, conversationId, channel: 'official-account', userId: 'o_quiet', direction: 'in', author: 'user', kind: 'text', text,
        status: 'done', claimedAt: new Date(at), createdAt: new Date(at), inbound: { receivedAt: new Date(at) },
        understanding: { candidates: [], entities: [], emotion: { label: 'none', intensity: 0, polarity: 'neutral' } },
        decision, replies: [{ kind: 'text', text: '抱歉，这个问题我还不会回答。' }],
      });
    };
    await say('official-account:q1', start, '新冠疫苗副作用保不保', { action: 'fallback', reason: 'no plausible answer' });
    await seedConversation('official-account', 'o_quiet', { lastActivityAt: new Date(start) });

    set(start + 10 * 60_000);
    expect(await insight.inspector.sweepIdle()).toBe(0); // not quiet long enough
    set(start + 31 * 60_000);
    expect(await insight.inspector.sweepIdle()).toBe(1);
    expect(await insight.inspector.sweepIdle()).toBe(0); // nothing new since
    const first = await Inspection.findOne({ conversationId }).lean();
    expect(first!.hits.map((h) => h.rule)).toEqual(['unresolved']);
    expect(first!.hits[0].evidence).toEqual(['official-account:q1']);

    // Back three hours later: a new stretch, inspected on its own, a repeat contact within 24 h.
    const later = start + 3 * 3_600_000;
    await say('official-account:q2', later, '疫苗反应住院能报销吗', { action: 'fallback', reason: 'no plausible answer' });
    await new ConversationStates().change(conversationId, () => ({ lastActivityAt: new Date(later) }));
    set(later + 31 * 60_000);
    expect(await insight.inspector.sweepIdle()).toBe(1);
    const second = await Inspection.findOne({ conversationId, _id: { $ne: first!._id } }).lean();
    expect(second!.hits.find((h) => h.rule === 'repeat_contact')).toMatchObject({ evidence: ['official-account:q2'] });
    expect(second!.hits.find((h) => h.rule === 'repeat_contact')!.detail).toContain(first!._id);
  });
});

describe('voice-call transcripts through the API', () => {
  it('inspects posted speaker turns with times, answers with the inspection, and keeps per-agent aggregates', async () => {
    const start = Date.UTC(2025, 5, 4, 3);
    const { insight } = setup(start);
    const app = createApp({ logger, bodyLimitBytes: 1 << 20, routers: insight.routers });
    const server = await serve(app);
    try {
      const call = {
        callId: 'call-20250604-0001', agentId: 'chenjing', customerId: '13800000000', startedAt: new Date(start - 600_000).toISOString(),
        turns: [
          { speaker: 'agent', text: '您好，很高兴为您服务', startMs: 0, endMs: 3_000 },
          { speaker: 'customer', text: '我想买重疾险', startMs: 4_000, endMs: 6_000 },
          { speaker: 'agent', text: '推荐您投保安心重疾，每年只需两千，我这就帮您下单', startMs: 8_000, endMs: 15_000 },
          { speaker: 'customer', text: '等一下，这个不是保证赚钱吗', startMs: 200_000, endMs: 204_000, emotion: { label: 'anger', intensity: 0.7, polarity: 'negative' } },
          { speaker: 'agent', text: '对，保证赚钱，稳赚不赔', startMs: 400_000, endMs: 406_000 },
        ],
      };
      const unauthorised = await fetch(`${server.baseUrl}/api/qa/voice-calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call) });
      expect(unauthorised.status).toBe(401);

      const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
      const res = await fetch(`${server.baseUrl}/api/qa/voice-calls`, { method: 'POST', headers, body: JSON.stringify(call) });
      expect(res.status).toBe(201);
      const inspection = (await res.json()) as { _id: string; kind: string; hits: Array<{ rule: string; evidence: string[]; detail: string }> };
      expect(inspection).toMatchObject({ _id: 'voice:call-20250604-0001', kind: 'voice' });
      const byRule = Object.fromEntries(inspection.hits.map((h) => [h.rule, h]));
      expect(byRule.forbidden_phrase.evidence).toEqual(['voice:call-20250604-0001#5']);
      expect(byRule.selling_disclosure.detail).toContain('犹豫期');
      expect(byRule.selling_disclosure.evidence).toEqual(['voice:call-20250604-0001#3']);
      // The agent answered 196 s after the customer stopped talking.
      expect(byRule.turn_response.evidence).toEqual(['voice:call-20250604-0001#4', 'voice:call-20250604-0001#5']);
      expect(byRule.closing.evidence).toEqual(['voice:call-20250604-0001#5']);

      // An identical retry gets the stored inspection with 200: nothing new was created.
      const again = await fetch(`${server.baseUrl}/api/qa/voice-calls`, { method: 'POST', headers, body: JSON.stringify(call) });
      expect(again.status).toBe(200);
      expect(((await again.json()) as { _id: string })._id).toBe(inspection._id);
      expect(await Inspection.countDocuments({ kind: 'voice' })).toBe(1);

      const bad = await fetch(`${server.baseUrl}/api/qa/voice-calls`, { method: 'POST', headers, body: JSON.stringify({ ...call, turns: [] }) });
      expect(bad.status).toBe(400);

      const agents = (await (await fetch(`${server.baseUrl}/api/qa/agents?days=7`, { headers })).json()) as { items: Array<{ agentId: string; inspections: number; hits: Record<string, number> }> };
      expect(agents.items.find((a) => a.agentId === 'chenjing')).toMatchObject({ inspections: 1, hits: { forbidden_phrase: 1, selling_disclosure: 1 } });
    } finally {
      await server.close();
    }
  });
});

describe('voice-call intake', () => {
  const start = Date.UTC(2025, 5, 5, 3);
  const call = (overrides: Record<string, unknown> = {}) => ({
    callId: 'call-20250605-0001', agentId: 'chenjing', customerId: '13900000000', startedAt: new Date(start).toISOString(),
    turns: [
      { speaker: 'agent', text: '您好，很高兴为您服务', startMs: 0, endMs: 3_000 },
      { speaker: 'customer', text: '我想查一下理赔进度', startMs: 4_000, endMs: 6_000 },
      { speaker: 'agent', text: '好的，已为您查询，款项今天到账，感谢来电，再见', startMs: 8_000, endMs: 15_000 },
    ],
    ...overrides,
  });
  let server: Awaited<ReturnType<typeof serve>>;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
  const post = async (body: unknown) => {
    const res = await fetch(`${server.baseUrl}/api/qa/voice-calls`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  beforeAll(async () => {
    const { insight } = setup(start + 3_600_000);
    server = await serve(createApp({ logger, bodyLimitBytes: 1 << 20, routers: insight.routers }));
  });
  afterAll(() => server.close());
  beforeEach(async () => { await Promise.all([VoiceCall.deleteMany({}), Inspection.deleteMany({ kind: 'voice' })]); });

  it.each([
    ['null', null],
    ['a boolean', true],
    ['unparseable text', 'garbage'],
    ['a date without a time zone', '2025-06-05 11:00'],
    ['missing', undefined],
  ])('refuses a startedAt that is %s with a message naming the field', async (_what, startedAt) => {
    const res = await post(call({ startedAt }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.message).toMatch(/^startedAt: .*ISO 8601.*epoch milliseconds/);
    expect(res.body.error.message).not.toContain('received Date');
    expect(await VoiceCall.countDocuments({})).toBe(0);
  });

  it('refuses turn offsets no call could have and a call that has not started yet (400, not 500), storing nothing', async () => {
    const turn = { speaker: 'agent', text: '您好' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ turns: [{ ...turn, startMs: 9e15 }] }, 'turns.0.startMs'], // was an Invalid Date and a 500
      [{ turns: [{ ...turn, startMs: 0, endMs: 2 * 86_400_000 }] }, 'turns.0.endMs'],
      [{ turns: [{ ...turn, startMs: 5_000, endMs: 1_000 }] }, 'turns.0.endMs'],
      [{ startedAt: 8.64e15 }, 'startedAt'], // year 275760: it would have topped every list of recent inspections
      [{ startedAt: new Date(start + 3_600_000 + 86_400_000).toISOString() }, 'startedAt'],
    ];
    for (const [overrides, field] of cases) {
      const res = await post(call(overrides));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_input', details: { fields: [field] } });
    }
    expect(await VoiceCall.countDocuments({})).toBe(0);
  });

  it('takes startedAt as an ISO 8601 date-time with a zone or as epoch milliseconds', async () => {
    const iso = await post(call({ startedAt: '2025-06-05T11:00:00+08:00' }));
    expect(iso.status).toBe(201);
    expect(new Date(iso.body.startedAt).getTime()).toBe(start);
    const epoch = await post(call({ callId: 'call-20250605-0002', startedAt: start }));
    expect(epoch.status).toBe(201);
    expect(new Date(epoch.body.startedAt).getTime()).toBe(start);
  });

  it('refuses the same call id with different content (409), and answers an identical retry with the stored inspection (200)', async () => {
    const first = await post(call());
    expect(first.status).toBe(201);

    const otherAgent = await post(call({ agentId: 'zhouyu' }));
    expect(otherAgent.status).toBe(409);
    expect(otherAgent.body.error).toMatchObject({ code: 'call_already_inspected', message: expect.stringContaining('call-20250605-0001') });
    const otherTranscript = await post(call({ turns: [{ speaker: 'customer', text: '我要投诉', startMs: 0, endMs: 2_000 }] }));
    expect(otherTranscript.status).toBe(409);
    expect(otherTranscript.body.error.code).toBe('call_already_inspected');

    const retry = await post(call({ startedAt: start })); // the same instant, written as epoch milliseconds
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(await Inspection.countDocuments({ kind: 'voice' })).toBe(1);
    expect((await VoiceCall.findById('call-20250605-0001').lean())!.agentId).toBe('chenjing');
  });
});

describe('the last N days of agents\' QA', () => {
  it('are N whole UTC days, today included (7 had meant 8)', () => {
    const now = new Date('2026-03-10T15:30:00Z');
    expect(lastUtcDays(now, 1)).toEqual({ from: new Date('2026-03-10T00:00:00Z'), to: new Date('2026-03-11T00:00:00Z') });
    expect(lastUtcDays(now, 7)).toEqual({ from: new Date('2026-03-04T00:00:00Z'), to: new Date('2026-03-11T00:00:00Z') });
  });
});
