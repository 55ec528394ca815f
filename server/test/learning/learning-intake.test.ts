import pino from 'pino';
import { createInsight } from '../../src/analytics';
import { loadInsightSettings } from '../../src/analytics/settings';
import { Message } from '../../src/conversation/models';
import { EventBus } from '../../src/events/bus';
import { KnowledgeCandidate, UnansweredQuestion } from '../../src/learning/models';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

const MINUTE = 60_000;
const AGENT_ANSWER = '航班延误险按延误时长赔付：延误满3小时赔200元，以航空公司证明为准。';

function setup(start: number) {
  let clock = start;
  const events = new EventBus((event, err) => { throw new Error(`${event}: ${String(err)}`); });
  const insight = createInsight({
    events, now: () => new Date(clock), logger: pino({ level: 'silent' }), settings: loadInsightSettings({}),
    knowledge: { search: () => [] }, answerConfidence: 0.5, recipientsFor: async () => [], metricLingerMs: 0,
  });
  let n = 0;
  const missed = (text: string, at: number) => {
    n++;
    return insight.learning.collect({ messageId: `official-account:q${n}`, conversationId: `official-account:o_${n}`, text, confidence: 0.1, at: new Date(at) });
  };
  return { insight, missed, set: (ms: number) => { clock = ms; } };
}

describe('what the learning knowledge base collects', () => {
  beforeEach(async () => { await Promise.all([UnansweredQuestion.deleteMany({}), KnowledgeCandidate.deleteMany({}), Message.deleteMany({})]); });

  it('replies to the choices offered are not questions: many users saying "都不是" form no candidate', async () => {
    const start = Date.UTC(2025, 6, 2, 2);
    const { insight, missed, set } = setup(start);
    const replies = ['都不是', '都不是。', '都不是！', '不是这个', '都不是我要问的', '没有我要找的', '都没有', '是的', '第2个'];
    const kept = [];
    for (const [i, text] of replies.entries()) kept.push(await missed(text, start + i * MINUTE));
    expect(kept.every((k) => k === false)).toBe(true);
    set(start + 40 * MINUTE);
    expect((await insight.learning.refreshCandidates()).formed).toEqual([]);
    expect(await KnowledgeCandidate.countDocuments()).toBe(0);
  });

  it('the agent\'s answer to a question asked before its cluster formed is suggested once the cluster forms', async () => {
    const start = Date.UTC(2025, 6, 3, 2);
    const { insight, missed, set } = setup(start);
    await missed('航班延误有补偿吗', start);
    await Message.create({
      _id: 'official-account:out:1', conversationId: 'official-account:o_1', channel: 'official-account', userId: 'o_1',
      direction: 'out', author: 'agent', agentId: 'lisi', kind: 'text', text: AGENT_ANSWER, status: 'done',
      claimedAt: new Date(start + 2 * MINUTE), createdAt: new Date(start + 2 * MINUTE),
    });
    // Another topic is already a cluster meanwhile; the flight question, alone, is not (yet) one.
    for (const [i, text] of ['打疫苗后不良反应保险管吗', '疫苗不良反应能赔吗', '接种疫苗出现不良反应保不保'].entries()) await missed(text, start + (i + 1) * MINUTE);
    set(start + 40 * MINUTE);
    expect((await insight.learning.refreshCandidates()).formed).toHaveLength(1);

    // Hours later the wave arrives, and the cluster forms with the first question in it.
    await missed('飞机延误两小时有补偿吗', start + 3 * 60 * MINUTE);
    await missed('航班延误补偿标准是多少', start + 3 * 60 * MINUTE + MINUTE);
    set(start + 4 * 60 * MINUTE);
    const { formed } = await insight.learning.refreshCandidates();
    expect(formed).toHaveLength(1);
    expect(formed[0]).not.toBe((await KnowledgeCandidate.findOne({ questions: '疫苗不良反应能赔吗' }).lean())!._id);
    const candidate = await insight.learning.candidate(formed[0]);
    expect(candidate.questions).toContain('航班延误有补偿吗');
    expect(candidate.suggestedAnswers).toEqual([expect.objectContaining({ text: AGENT_ANSWER, agentId: 'lisi', count: 1 })]);
    // Counted once: a later pass does not add the same answer again.
    set(start + 5 * 60 * MINUTE);
    await insight.learning.refreshCandidates();
    expect((await insight.learning.candidate(formed[0])).suggestedAnswers).toEqual([expect.objectContaining({ count: 1 })]);
  });
});
