import type { ConversationPipeline } from '../../src/conversation/pipeline';
import { useTestDatabase } from '../support/database';
import { shippedKnowledgePipeline } from '../support/shipped-knowledge';

useTestDatabase(__filename);
jest.setTimeout(60_000);

/**
 * A short follow-up leans on the topic being discussed: after a claims question, "钱怎么还没到" is as likely about the
 * payout as about the surrender refund it reads as on its own. Through the shipped knowledge and the pipeline.
 */
describe('short follow-ups in the topic being discussed', () => {
  let pipeline: ConversationPipeline;
  let n = 0;
  const say = (userId: string, text: string) =>
    pipeline.handle({ channel: 'official-account', userId, dedupeKey: `follow-${++n}`, kind: 'text', text, receivedAt: new Date() });

  beforeAll(async () => {
    pipeline = await shippedKnowledgePipeline();
  });

  it('offers the reading in the topic first, and the other one, instead of guessing against the topic', async () => {
    expect((await say('u-claim', '理赔进度怎么查')).decision).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/check-progress/where-to-check' });
    const followUp = await say('u-claim', '钱怎么还没到');
    expect(followUp.decision).toMatchObject({ action: 'clarify' });
    const offered = followUp.decision.action === 'clarify' ? followUp.decision.choices.map((c) => c.subIntentId) : [];
    expect(offered).toEqual(['claim-progress/payment/when-paid', 'surrender/refund-timing/refund-not-received']);
    expect((await say('u-claim', '1')).decision).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/payment/when-paid' });
  });

  it('keeps the answer when nothing in the topic fits the follow-up, or with no topic yet', async () => {
    await say('u-switch', '理赔进度怎么查');
    expect((await say('u-switch', '发票怎么开')).decision).toMatchObject({ action: 'answer', subIntentId: expect.stringMatching(/^invoice\//) });
    expect((await say('u-new', '钱怎么还没到')).decision).toMatchObject({ action: 'answer', subIntentId: 'surrender/refund-timing/refund-not-received' });
  });
});
