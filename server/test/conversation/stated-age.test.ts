import type { ConversationPipeline } from '../../src/conversation/pipeline';
import { useTestDatabase } from '../support/database';
import { asNewFollowers, shippedKnowledgePipeline } from '../support/shipped-knowledge';

useTestDatabase(__filename);
jest.setTimeout(60_000);

const KIDS = 'purchase-consulting/recommendation/for-kids';
const YOUNG = 'purchase-consulting/recommendation/for-young-adult';
const MIDDLE = 'purchase-consulting/recommendation/for-middle-aged';
const ELDERLY = 'purchase-consulting/recommendation/for-parents';

/**
 * "44岁的人上什么保险好" reads like "23岁买什么保险好" to words alone. The life-stage answers declare the ages they are
 * written for (knowledge `forAges`), and a stated age picks among them. The shipped knowledge, through the store,
 * retrieval and the pipeline.
 */
describe('a stated age, with the shipped knowledge', () => {
  let pipeline: ConversationPipeline;
  const say = asNewFollowers(() => pipeline, 'age');
  /** What the bot offers first: its answer, or the first of its choices. */
  const firstOffered = (decision: Awaited<ReturnType<typeof say>>['decision']) =>
    decision.action === 'answer' ? decision.subIntentId : decision.action === 'clarify' ? decision.choices[0]?.subIntentId : undefined;

  beforeAll(async () => {
    pipeline = await shippedKnowledgePipeline();
  });

  it.each([
    ['44岁的人上什么保险好', MIDDLE],
    ['快50岁了，买什么保险好', MIDDLE],
    ['16岁买什么保险好', KIDS],
    ['我家宝宝一岁了，买什么保险合适', KIDS],
    ['六十一岁还能办什么保险', ELDERLY],
    ['二十六岁买啥保险', YOUNG],
    ['39岁的人适合买哪种保险', MIDDLE],
  ])('%s → the answer written for that age', async (text, expected) => {
    const { decision } = await say(text);
    expect(firstOffered(decision)).toBe(expected);
    expect(decision.action === 'answer' || decision.action === 'clarify').toBe(true);
  });

  it('records the restatement in the reason', async () => {
    const { decision } = await say('44岁的人上什么保险好');
    expect(decision.reason).toMatch(/stated age 44: .+ → 中年人怎么配置保险/);
  });

  it("keeps the question about someone else when the age is the user's own", async () => {
    const { decision } = await say('我30岁，想给爸妈买保险');
    expect(firstOffered(decision)).not.toBe(YOUNG);
    expect(decision.reason).not.toMatch(/stated age/);
  });

  it('keeps the general answer when no age is stated', async () => {
    const { decision } = await say('保险种类太多了，应该先买哪种');
    expect(firstOffered(decision)).toBe('purchase-consulting/recommendation/which-first');
  });

  it('leaves a question that is not about what to buy alone', async () => {
    const { decision } = await say('44岁买的重疾险怎么理赔');
    expect(decision.reason).not.toMatch(/stated age/);
  });
});
