import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline, DuplicateInProgress, type KnowledgeReader } from '../../src/conversation/pipeline';
import { ConversationState, Message, MessageClaim } from '../../src/conversation/models';
import { ConversationStates, readConversation } from '../../src/conversation/states';
import type { Decision, InboundMessage } from '../../src/conversation/types';
import { EventBus } from '../../src/events/bus';
import type { DomainEvents } from '../../src/events/types';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';

useTestDatabase(__filename);

const knowledge: KnowledgeReader = {
  getSubIntent: (id) => ({
    'claim-report/how/online': { id, name: '线上报案', scenarioId: 'claim-report', sensitive: false, needsProduct: false },
    'claim-progress/query/status': { id, name: '查询理赔进度', scenarioId: 'claim-progress', sensitive: false, needsProduct: false },
    'products/waiting/period': { id, name: '等待期多久', scenarioId: 'products', sensitive: false, needsProduct: true },
  } as Record<string, { id: string; name: string; scenarioId: string; sensitive: boolean; needsProduct: boolean }>)[id],
  selectSolution: async (id, { product }) => ({ id: `${id}|${product ?? '*'}|*`, text: `答案:${id}${product ? `:${product}` : ''}` }),
};

const understander = scriptedUnderstander([
  { when: '国寿的理赔', candidates: [
    { subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.35 },
    { subIntentId: 'claim-progress/query/status', name: '查询理赔进度', confidence: 0.33 },
  ], entities: [{ type: 'insurer', value: '中国人寿', text: '国寿' }] },
  { when: '国寿的怎么报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.92 }],
    entities: [{ type: 'insurer', value: '中国人寿', text: '国寿' }] },
  { when: '怎么报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.92 }] },
  { when: '理赔', candidates: [
    { subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.35 },
    { subIntentId: 'claim-progress/query/status', name: '查询理赔进度', confidence: 0.33 },
  ] },
  { when: '等待期', candidates: [{ subIntentId: 'products/waiting/period', name: '等待期多久', confidence: 0.9 }] },
  { when: '进度好像', candidates: [{ subIntentId: 'claim-progress/query/status', name: '查询理赔进度', confidence: 0.3 }] },
  { when: '医疗险', entities: [{ type: 'product', value: 'medical', text: '医疗险' }] },
]);

function pipelineWithEvents(now?: () => Date, humanDesk?: boolean) {
  const events = new EventBus();
  const seen: Array<{ name: keyof DomainEvents; payload: unknown }> = [];
  for (const name of ['message.received', 'conversation.handed_off', 'question.unanswered'] as const) {
    events.on(name, (payload) => { seen.push({ name, payload }); });
  }
  // Menu buttons of this test's knowledge: one answers a sub-intent, one stands for a question, one names nothing.
  const menuActions = new Map([
    ['MENU_CLAIM_REPORT', { subIntentId: 'claim-report/how/online' }],
    ['MENU_ASK', { question: '怎么报案' }],
    ['MENU_GONE', { subIntentId: 'no/such/sub-intent' }],
  ]);
  const config = { ...loadWechatConfig(), menuActions };
  const pipeline = new ConversationPipeline({ understander, knowledge, config, events, now, humanDesk });
  return { pipeline, events, seen };
}

let counter = 0;
const text = (userId: string, body: string, extra: Partial<InboundMessage> = {}): InboundMessage => ({
  channel: 'official-account', userId, dedupeKey: `msg:${++counter}`, kind: 'text', text: body, receivedAt: new Date(), ...extra,
});

describe('answers written for the user\'s state', () => {
  const surrender = { id: 'surrender/x/how', name: '退保怎么办', scenarioId: 'surrender', sensitive: false, needsProduct: false, variants: { userStates: ['in-cooling-off'] } };
  const stateKnowledge: KnowledgeReader = {
    getSubIntent: (id) => (id === surrender.id ? surrender : undefined),
    selectSolution: async (id, { userState }) => ({ id: `${id}|*|${userState ?? '*'}`, text: userState === 'in-cooling-off' ? '犹豫期内全额退' : '通用退保说明' }),
  };
  const asked: string[] = [];
  const liveAnswers = {
    answer: async () => undefined,
    command: async () => undefined,
    userStates: async (user: { userId: string }) => { asked.push(user.userId); return user.userId === 'u-cooling' ? ['in-cooling-off', 'has-policy'] : ['has-policy']; },
  };
  const pipeline = new ConversationPipeline({
    understander: scriptedUnderstander([{ when: '退保', candidates: [{ subIntentId: surrender.id, name: '退保怎么办', confidence: 0.9 }] }]),
    knowledge: stateKnowledge, config: loadWechatConfig(), events: new EventBus(), liveAnswers,
  });

  it('gives a user in the cooling-off period the answer written for it, and others the general one', async () => {
    const cooling = await pipeline.handle(text('u-cooling', '我想退保'));
    expect(cooling.replies).toEqual([{ kind: 'text', text: '犹豫期内全额退' }]);
    expect(cooling.decision).toMatchObject({ action: 'answer', solutionId: 'surrender/x/how|*|in-cooling-off' });
    const other = await pipeline.handle(text('u-other', '我想退保'));
    expect(other.replies).toEqual([{ kind: 'text', text: '通用退保说明' }]);
    expect(asked).toEqual(['u-cooling', 'u-other']);
  });
});

describe('conversation pipeline', () => {
  it('answers a clear question and stores the message, its understanding and the decision', async () => {
    const { pipeline } = pipelineWithEvents();
    const result = await pipeline.handle(text('u-answer', '怎么报案'));
    expect(result.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/how/online' });
    expect(result.replies).toEqual([{ kind: 'text', text: '答案:claim-report/how/online' }]);
    const stored = await Message.findById(result.messageId).lean();
    expect(stored).toMatchObject({ status: 'done', text: '怎么报案', decision: { action: 'answer' } });
    expect((stored?.understanding as { candidates: unknown[] }).candidates).toHaveLength(1);
  });

  it('tells a user who names another insurer that the answer is ours, before giving it', async () => {
    const { pipeline } = pipelineWithEvents();
    const result = await pipeline.handle(text('u-other', '国寿的怎么报案'));
    expect(result.replies).toEqual([{ kind: 'text', text: `您问的是中国人寿的产品或保单，具体以该公司的合同和规定为准。以下是安心保的做法和一般说明，供参考：\n答案:claim-report/how/online` }]);
    const plain = await pipeline.handle(text('u-plain', '怎么报案'));
    expect(plain.replies).toEqual([{ kind: 'text', text: '答案:claim-report/how/online' }]);
    // also when the answer is a choice picked from those offered for that question, and only then
    await pipeline.handle(text('u-other-pick', '国寿的理赔'));
    const picked = await pipeline.handle(text('u-other-pick', '2'));
    expect(picked.replies[0]).toMatchObject({ kind: 'text', text: expect.stringMatching(/^您问的是中国人寿的产品或保单.*\n答案:claim-progress\/query\/status$/) });
    const next = await pipeline.handle(text('u-other-pick', '怎么报案'));
    expect(next.replies).toEqual([{ kind: 'text', text: '答案:claim-report/how/online' }]);
  });

  it('clarifies with numbered choices and answers the picked one', async () => {
    const { pipeline, seen } = pipelineWithEvents();
    const first = await pipeline.handle(text('u-clarify', '理赔的事'));
    expect(first.decision.action).toBe('clarify');
    expect(first.replies[0]).toMatchObject({ kind: 'choices', choices: [{ number: 1 }, { number: 2, subIntentId: 'claim-progress/query/status' }] });
    expect(seen.map((e) => e.name)).toContain('question.unanswered');
    const second = await pipeline.handle(text('u-clarify', '2'));
    expect(second.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/query/status', reason: 'user picked choice 2' });
    const third = await pipeline.handle(text('u-clarify', '2'));
    expect(third.decision.action).not.toBe('answer'); // choices are used once
  });

  it('confirms a single plausible meaning with a question, not "which one"', async () => {
    const { pipeline } = pipelineWithEvents();
    const result = await pipeline.handle(text('u-confirm', '进度好像不动了'));
    expect(result.replies).toEqual([{ kind: 'choices', text: loadWechatConfig().replies.clarifyOne, choices: [{ number: 1, label: '查询理赔进度', subIntentId: 'claim-progress/query/status' }] }]);
    expect(loadWechatConfig().replies.clarifyOne).not.toBe(loadWechatConfig().replies.clarify);
    const picked = await pipeline.handle(text('u-confirm', '1'));
    expect(picked.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/query/status' });
    // asked as a question, it is answered as one
    await pipeline.handle(text('u-confirm-yes', '进度好像不动了'));
    const yes = await pipeline.handle(text('u-confirm-yes', '是的'));
    expect(yes.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/query/status', reason: 'user confirmed the choice' });
  });

  it('asks for a missing product and carries it across turns', async () => {
    const { pipeline } = pipelineWithEvents();
    const ask = await pipeline.handle(text('u-slot', '等待期多久'));
    expect(ask.decision).toMatchObject({ action: 'ask_slot', slot: 'product' });
    const answer = await pipeline.handle(text('u-slot', '医疗险'));
    expect(answer.decision).toMatchObject({ action: 'answer', subIntentId: 'products/waiting/period' });
    expect(answer.replies[0]).toMatchObject({ text: '答案:products/waiting/period:medical' });
    const again = await pipeline.handle(text('u-slot', '那等待期呢'));
    expect(again.replies[0]).toMatchObject({ text: '答案:products/waiting/period:medical' });
  });

  it('forgets pending choices after a long silence', async () => {
    let clock = new Date('2026-01-01T08:00:00Z');
    const { pipeline } = pipelineWithEvents(() => clock);
    await pipeline.handle(text('u-reset', '理赔的事'));
    clock = new Date('2026-01-01T09:00:00Z');
    const late = await pipeline.handle(text('u-reset', '2'));
    expect(late.decision.action).not.toBe('answer');
  });

  it('offering choices is no miss: "都不是" to them asks again, and only a second miss hands off', async () => {
    const { pipeline } = pipelineWithEvents();
    expect((await pipeline.handle(text('u-misses', '理赔'))).decision.action).toBe('clarify');
    expect((await pipeline.handle(text('u-misses', '都不是'))).decision).toMatchObject({ action: 'fallback', reason: 'user rejected the choices' });
    expect((await pipeline.handle(text('u-misses', '天气怎么样'))).decision).toMatchObject({ action: 'handoff', reasons: ['repeated_low_confidence'] });
  });

  it('hands off on request, records the reason, and stops answering', async () => {
    const { pipeline, events, seen } = pipelineWithEvents();
    const result = await pipeline.handle(text('u-human', '转人工'));
    expect(result.decision).toMatchObject({ action: 'handoff', reasons: ['explicit_request'] });
    await events.settled();
    expect(seen.find((e) => e.name === 'conversation.handed_off')?.payload).toMatchObject({ reasons: ['explicit_request'], userId: 'u-human' });
    expect(await readConversation('official-account:u-human')).toMatchObject({ state: 'waiting_agent', handoff: { reasons: ['explicit_request'] } });
    const next = await pipeline.handle(text('u-human', '怎么报案'));
    expect(next.decision.action).toBe('relay_to_agent');
    expect(next.replies).toEqual([]);
  });

  it('without a human desk, a handoff is recorded but the user is pointed to the hotline and the bot keeps answering', async () => {
    const { pipeline, events, seen } = pipelineWithEvents(undefined, false);
    const result = await pipeline.handle(text('u-no-desk', '转人工'));
    expect(result.decision).toMatchObject({ action: 'handoff', reasons: ['explicit_request'] });
    expect(result.replies).toEqual([{ kind: 'text', text: loadWechatConfig().replies.handoffUnavailable }]);
    await events.settled();
    expect(seen.find((e) => e.name === 'conversation.handed_off')?.payload).toMatchObject({ reasons: ['explicit_request'], userId: 'u-no-desk' });
    expect(await readConversation('official-account:u-no-desk')).toMatchObject({ state: 'bot' });
    const next = await pipeline.handle(text('u-no-desk', '怎么报案'));
    expect(next.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/how/online' });
    // Asked again soon: told again, but one handoff in the statistics (three had made the handoff rate 300%).
    for (const again of ['转人工', '转人工']) expect((await pipeline.handle(text('u-no-desk', again))).decision.action).toBe('handoff');
    await events.settled();
    expect(seen.filter((e) => e.name === 'conversation.handed_off' && (e.payload as { userId: string }).userId === 'u-no-desk')).toHaveLength(1);
  });

  it('without a human desk, a question understood in a handoff is still answered, with the hotline after it', async () => {
    const { pipeline } = pipelineWithEvents(undefined, false);
    const result = await pipeline.handle(text('u-no-desk-answer', '我要投诉，到底怎么报案'));
    expect(result.decision).toMatchObject({ action: 'handoff', reasons: ['complaint'], subIntentId: 'claim-report/how/online' });
    // One message (a push spends the customer-service quota per message).
    expect(result.replies).toEqual([{ kind: 'text', text: `答案:claim-report/how/online\n\n${loadWechatConfig().replies.handoffUnavailable}` }]);
    // With a desk the agent answers: the handoff text alone.
    const withDesk = await pipelineWithEvents().pipeline.handle(text('u-desk-answer', '我要投诉，到底怎么报案'));
    expect(withDesk.replies).toEqual([{ kind: 'text', text: loadWechatConfig().replies.handoff }]);
  });

  it('a conversation left waiting for an agent is served by the bot again once there is no desk', async () => {
    await pipelineWithEvents().pipeline.handle(text('u-desk-removed', '转人工'));
    expect(await readConversation('official-account:u-desk-removed')).toMatchObject({ state: 'waiting_agent' });
    const { pipeline } = pipelineWithEvents(undefined, false);
    const next = await pipeline.handle(text('u-desk-removed', '怎么报案'));
    expect(next.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/how/online' });
    expect(await readConversation('official-account:u-desk-removed')).toMatchObject({ state: 'bot' });
  });

  it('returns the stored reply to a retried delivery without running again', async () => {
    const { pipeline } = pipelineWithEvents();
    const message = text('u-retry', '怎么报案');
    const first = await pipeline.handle(message);
    const asked = understander.asked.length;
    const retry = await pipeline.handle({ ...message });
    expect(retry).toMatchObject({ duplicate: true, replies: first.replies, decision: first.decision });
    expect(understander.asked.length).toBe(asked);
    expect(await Message.countDocuments({ conversationId: 'official-account:u-retry' })).toBe(1);
  });

  it('tells a concurrent retry that the delivery is in progress, and lets it take over a dead claim', async () => {
    let clock = new Date('2026-02-01T08:00:00Z');
    const { pipeline } = pipelineWithEvents(() => clock);
    const message = text('u-dead', '怎么报案');
    await MessageClaim.create({ _id: ConversationPipeline.messageId(message), conversationId: 'official-account:u-dead', claimedAt: clock });
    await expect(pipeline.handle(message)).rejects.toBeInstanceOf(DuplicateInProgress);
    clock = new Date('2026-02-01T08:01:00Z');
    const recovered = await pipeline.handle(message);
    expect(recovered).toMatchObject({ duplicate: false, decision: { action: 'answer' } });
    // Taken over once: a second stale retry finds the stored answer.
    expect(await pipeline.handle(message)).toMatchObject({ duplicate: true, decision: { action: 'answer' } });
  });

  it('finishes a dead claim from the decision it already wrote, without deciding again', async () => {
    let clock = new Date('2026-02-01T09:00:00Z');
    const { pipeline } = pipelineWithEvents(() => clock);
    const message = text('u-half', '转人工');
    const messageId = ConversationPipeline.messageId(message);
    // The dead process claimed the message and wrote its decision (a handoff) as the conversation's state.
    await MessageClaim.create({ _id: messageId, conversationId: 'official-account:u-half', claimedAt: clock });
    const decided = { action: 'handoff', reasons: ['explicit_request'], reason: 'asked for a human' };
    await new ConversationStates().append(
      { _id: 'official-account:u-half', seq: 1, channel: 'official-account', userId: 'u-half', state: 'waiting_agent', vip: false, pendingChoices: [], slots: {}, lowConfidenceStreak: 0, emotions: [], lastActivityAt: clock },
      { messageId, decision: decided as Decision, replies: [{ kind: 'text', text: 'stored reply' }] },
    );
    clock = new Date('2026-02-01T09:01:00Z');
    const finished = await pipeline.handle(message);
    expect(finished).toMatchObject({ duplicate: false, decision: decided, replies: [{ kind: 'text', text: 'stored reply' }] });
    expect(await ConversationState.countDocuments({ conversationId: 'official-account:u-half' })).toBe(1); // no second decision
    expect(await Message.findById(messageId).lean()).toMatchObject({ status: 'done', decision: decided });
  });

  it('keeps one dialogue when two instances answer the same user in turns', async () => {
    const first = pipelineWithEvents().pipeline;
    const second = pipelineWithEvents().pipeline; // another server instance: its own memory, the same database
    const ask = (pipeline: ConversationPipeline, body: string) => pipeline.handle(text('u-two', body));
    expect((await ask(first, '理赔')).decision.action).toBe('clarify');
    // The other instance has never seen this user, yet picks up the pending choices.
    expect((await ask(second, '2')).decision).toMatchObject({ action: 'answer' });
    expect((await ask(second, '理赔')).decision.action).toBe('clarify');
    // The first instance remembers an older state: its write is refused, it reads the newer one and decides again.
    expect((await ask(first, '1')).decision).toMatchObject({ action: 'answer' });
    const seqs = (await ConversationState.find({ conversationId: 'official-account:u-two' }).lean()).map((s) => s.seq).sort((a, b) => a - b);
    expect(seqs).toEqual([1, 2, 3, 4]);
  });

  it('decides concurrent messages of one user one after the other', async () => {
    const { pipeline } = pipelineWithEvents();
    await Promise.all(['理赔', '怎么报案', '发票怎么开', '你好'].map((body) => pipeline.handle(text('u-burst', body))));
    const seqs = (await ConversationState.find({ conversationId: 'official-account:u-burst' }).lean()).map((s) => s.seq).sort((a, b) => a - b);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(await Message.countDocuments({ conversationId: 'official-account:u-burst' })).toBe(4);
  });

  it('welcomes a new follower and acknowledges media', async () => {
    const { pipeline } = pipelineWithEvents();
    const welcome = await pipeline.handle(text('u-events', '', { kind: 'event', event: { type: 'subscribe' }, text: undefined }));
    expect(welcome.decision.action).toBe('welcome');
    expect(welcome.replies[0]).toMatchObject({ kind: 'text', text: expect.stringContaining('欢迎') });
    const scanned = await pipeline.handle(text('u-events', '', { kind: 'event', event: { type: 'scan', key: 'poster-1' }, text: undefined }));
    expect(scanned.replies).toEqual([{ kind: 'text', text: loadWechatConfig().replies.welcomeBack }]);
    const image = await pipeline.handle(text('u-events', '', { kind: 'image', text: undefined, media: { url: 'http://x/p.jpg' } }));
    expect(image.replies[0]).toMatchObject({ text: expect.stringContaining('图片') });
    const click = await pipeline.handle(text('u-events', '', { kind: 'event', event: { type: 'menu_click', key: 'MENU_CLAIM_REPORT' }, text: undefined }));
    expect(click.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/how/online', confidence: 1 });
    const asked = await pipeline.handle(text('u-events', '', { kind: 'event', event: { type: 'menu_click', key: 'MENU_ASK' }, text: undefined }));
    expect(asked.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/how/online' });
    const video = await pipeline.handle(text('u-events', '', { kind: 'video', text: undefined, media: { id: 'm1' } }));
    expect(video.replies[0]).toMatchObject({ text: expect.stringContaining('视频') });
    // A key with no action, one that names no sub-intent, and one only an object has: the same "nothing here" reply.
    for (const key of ['MENU_UNKNOWN', 'MENU_GONE', 'constructor']) {
      const result = await pipeline.handle(text('u-events', '', { kind: 'event', event: { type: 'menu_click', key }, text: undefined }));
      expect(result.replies).toEqual([{ kind: 'text', text: loadWechatConfig().replies.menuUnknown }]);
    }
  });
});
