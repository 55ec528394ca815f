import type { ConversationPipeline } from '../../src/conversation/pipeline';
import { coolingOffPeriods } from '../../src/insurance/cooling-off';
import { loadProductCatalog } from '../../src/insurance/products';
import { useTestDatabase } from '../support/database';
import { asNewFollowers, shippedKnowledgePipeline } from '../support/shipped-knowledge';

useTestDatabase(__filename);
jest.setTimeout(60_000);

/**
 * "买了重疾险十天了，不想要了" and "买了三年的保险不想要了" share their words, not their answer: within the cooling-off
 * period the premium comes back in full, after it only the cash value. The shipped knowledge and product catalog,
 * through the store, retrieval and the pipeline.
 */
describe('a stated time since purchase, with the shipped knowledge', () => {
  let pipeline: ConversationPipeline;
  const say = asNewFollowers(() => pipeline, 'held');
  const offered = (decision: Awaited<ReturnType<typeof say>>['decision']) =>
    decision.action === 'answer' ? [decision.subIntentId] : decision.action === 'clarify' ? decision.choices.map((c) => c.subIntentId) : [];

  beforeAll(async () => {
    pipeline = await shippedKnowledgePipeline({ coolingOffDays: coolingOffPeriods() });
  });

  it.each(['买了重疾险十天了，不想要了', '投保才一个礼拜想退', '昨天投保的重疾险想退掉'])('inside the period: %s → the full refund answer', async (text) => {
    const result = await say(text);
    expect(result.decision).toMatchObject({ action: 'answer', subIntentId: 'surrender/cooling-off/cooling-off-cancel' });
    expect(result.decision.reason).toMatch(/within the 15-day cooling-off period/);
  });

  it.each(['买了两年了现在后悔了怎么撤销', '买了半年多了考虑了一下不想买了怎么取消'])('past it: %s → the surrender after the period, not the full refund', async (text) => {
    const result = await say(text);
    // its words are those of a cooling-off phrasing ("前天投的保，现在后悔了怎么撤销"): without the period, that answer
    expect(result.decision.reason).toMatch(/past the 15-day cooling-off period: 犹豫期内取消保单 → 退保怎么办理/);
    expect(offered(result.decision).filter((id) => id.startsWith('surrender/cooling-off/'))).toEqual([]);
    // surrender after the period is sensitive: a human helps weigh the loss first
    expect(result.decision).toMatchObject({ action: 'handoff', reasons: ['sensitive_intent'] });
  });

  it('answers the surrender menu with the side the stated time is on', async () => {
    const menu = await pipeline.handle({ channel: 'official-account', userId: 'u-held-menu', dedupeKey: 'held-menu-1', kind: 'text', text: '退保', receivedAt: new Date() });
    expect(menu.decision).toMatchObject({ action: 'answer', subIntentId: 'surrender/overview/surrender-menu' });
    const reply = await pipeline.handle({ channel: 'official-account', userId: 'u-held-menu', dedupeKey: 'held-menu-2', kind: 'text', text: '买了十天了', receivedAt: new Date() });
    expect(reply.decision).toMatchObject({ action: 'answer', subIntentId: 'surrender/cooling-off/cooling-off-cancel' });
    expect(reply.decision.reason).toMatch(/^the stated time since purchase picks choice 1/);
  });

  it('takes the periods from the product catalog: the longest for no product, none for a one-year product or car insurance', () => {
    const days = coolingOffPeriods(loadProductCatalog());
    expect(days(undefined)).toBe(15);
    expect(days('critical-illness')).toBe(15);
    expect(days('medical')).toBeUndefined();
    expect(days('auto')).toBeUndefined();
  });
});
