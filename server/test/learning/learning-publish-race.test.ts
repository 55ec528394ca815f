import { EventBus } from '../../src/events/bus';
import { Intent, Scenario, SubIntent } from '../../src/knowledge/models';
import { KnowledgeCandidate } from '../../src/learning/models';
import { LearningService } from '../../src/learning/service';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

describe('publishing learned knowledge while managers review at the same moment', () => {
  const at = new Date(Date.UTC(2025, 6, 1));
  const learning = new LearningService({
    events: new EventBus(), now: () => at, knowledge: { search: () => [] }, segment: (text) => [...text],
    answerConfidence: 0.5, knowledgeDir: '/nonexistent',
  });
  const candidate = (id: string) => ({
    _id: id, status: 'pending', name: `问题${id}`, questions: [`问题${id}怎么办`], questionCount: 3, firstSeenAt: at, lastSeenAt: at,
    suggestedAnswers: [], answer: `答案${id}`,
  });
  const inService = async () => (await SubIntent.find({ status: 'published' }, { _id: 1 }).lean()).map((s) => String(s._id).split('/').pop()).sort();
  const approvedIds = async () => (await KnowledgeCandidate.find({ status: 'approved' }, { _id: 1 }).lean()).map((c) => c._id).sort();

  it('two approvals at once both publish', async () => {
    await KnowledgeCandidate.insertMany([candidate('first'), candidate('second')]);
    await Promise.all([learning.approve('first', {}, 'manager-1'), learning.approve('second', {}, 'manager-2')]);
    expect(await inService()).toEqual(['first', 'second']);
  });

  it('an approval racing a rejection never leaves the rejected candidate in service', async () => {
    for (let round = 0; round < 6; round++) {
      const [kept, dropped] = [`r${round}a`, `r${round}b`];
      await KnowledgeCandidate.insertMany([candidate(kept), candidate(dropped)]);
      await learning.approve(dropped, {}, 'manager-1');
      await Promise.all([learning.approve(kept, {}, 'manager-1'), learning.reject(dropped, '过时', 'manager-2')]);
      expect(await inService()).toEqual(await approvedIds());
    }
  });

  it('rejecting the last published candidate retires the learned scenario and intent; the next approval restores them', async () => {
    for (const id of await approvedIds()) await learning.reject(id, '清理', 'manager-1');
    expect(await inService()).toEqual([]);
    expect((await Scenario.findById('learned').lean())?.status).toBe('retired');
    expect((await Intent.findById('learned/general').lean())?.status).toBe('retired');

    await KnowledgeCandidate.insertMany([candidate('again')]);
    await learning.approve('again', {}, 'manager-1');
    expect(await inService()).toEqual(['again']);
    expect((await Scenario.findById('learned').lean())?.status).toBe('published');
    expect((await Intent.findById('learned/general').lean())?.status).toBe('published');
  });
});
