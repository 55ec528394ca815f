import { BucketStore, HourBucket } from '../../src/analytics/buckets';
import { EventBus } from '../../src/events/bus';
import { KnowledgeCandidate, UnansweredQuestion } from '../../src/learning/models';
import { LearningService } from '../../src/learning/service';
import { segment } from '../../src/nlu/segmenter';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

const WAVE = ['打完新冠疫苗出现不良反应保险管不管', '疫苗不良反应保险管吗', '接种疫苗后出现不良反应能赔吗', '打疫苗有不良反应保险赔不赔', '孩子打疫苗后不良反应保险管吗'];

describe('clustering on several instances at once', () => {
  it('counts each question once when two instances sweep at the same moment', async () => {
    const start = Date.UTC(2025, 6, 4, 2);
    const at = new Date(start + 60 * 60_000);
    // Two server instances: each its own service and bucket writer, one database.
    const instance = () => new LearningService({
      events: new EventBus(), now: () => at, knowledge: { search: () => [] }, buckets: new BucketStore(), segment,
      answerConfidence: 0.5, knowledgeDir: '/nonexistent',
    });
    const [a, b] = [instance(), instance()];
    for (const [i, text] of WAVE.entries()) {
      await a.collect({ messageId: `official-account:v${i}`, conversationId: `official-account:o_v${i}`, text, confidence: 0.1, at: new Date(start + i * 60_000) });
    }
    await Promise.all([a.refreshCandidates(), b.refreshCandidates()]);

    const candidates = await KnowledgeCandidate.find({}).lean();
    expect(candidates).toHaveLength(1);
    expect(candidates[0].questionCount).toBe(WAVE.length);
    const counted = await HourBucket.find({ metric: 'unanswered_cluster' }).lean();
    expect(counted.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(WAVE.length);
    expect(await UnansweredQuestion.countDocuments({ candidateId: candidates[0]._id })).toBe(WAVE.length);

    // A later phrasing joins it once, again with both instances sweeping.
    await b.collect({ messageId: 'official-account:v9', conversationId: 'official-account:o_v9', text: '疫苗有不良反应的话保险管不管', confidence: 0.1, at });
    await Promise.all([a.refreshCandidates(), b.refreshCandidates()]);
    expect((await KnowledgeCandidate.findById(candidates[0]._id).lean())!.questionCount).toBe(WAVE.length + 1);
  });
});
