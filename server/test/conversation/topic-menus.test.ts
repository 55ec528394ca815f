import type { ConversationPipeline } from '../../src/conversation/pipeline';
import { asPlainText } from '../../src/conversation/plain-text';
import { useTestDatabase } from '../support/database';
import { shippedKnowledgePipeline } from '../support/shipped-knowledge';

useTestDatabase(__filename);
jest.setTimeout(60_000);

/**
 * A bare topic word ("理赔", "续保") is among the commonest things followers send. The shipped knowledge answers it
 * with the topic's menu, through the store, retrieval and the pipeline, and the user's number picks from it.
 */
describe('topic menus of the shipped knowledge', () => {
  let pipeline: ConversationPipeline;
  let n = 0;
  const say = (userId: string, text: string) =>
    pipeline.handle({ channel: 'official-account', userId, dedupeKey: `menu-${++n}`, kind: 'text', text, receivedAt: new Date() });

  beforeAll(async () => {
    pipeline = await shippedKnowledgePipeline();
  });

  it('answers 理赔 with 报案 · 材料 · 进度, and "2" with the documents to prepare', async () => {
    const menu = await say('u-claim', '理赔');
    expect(menu.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-report/overview/claim-menu' });
    expect(menu.replies).toHaveLength(1);
    const text = asPlainText(menu.replies[0]);
    expect(text).toMatch(/请回复数字：\n1\. 线上自助报案\n2\. 理赔要准备哪些材料\n3\. 在哪查理赔进度$/);

    const picked = await say('u-claim', '2');
    expect(picked.decision).toMatchObject({ action: 'answer', subIntentId: 'claim-documents/documents-by-product/document-list', reason: 'user picked choice 2' });
  });

  it.each([
    ['女儿骨折了想申请理赔', 'claim-report/report-for-others/child-claim'],
    ['我老公想买保险有什么推荐', 'purchase-consulting/recommendation/which-first'],
  ])('a longer question that contains the topic words goes to the specific sub-intent, not the menu: %s', async (text, specific) => {
    const result = await say(`u-${n}`, text);
    const offered = result.decision.action === 'answer' ? [result.decision.subIntentId] : result.decision.action === 'clarify' ? result.decision.choices.map((c) => c.subIntentId) : [];
    expect(offered[0]).toBe(specific);
    expect(offered.filter((id) => id.includes('/overview/'))).toEqual([]);
  });

  it.each([
    ['我要续保', 'renewal/overview/renewal-menu'],
    ['退保', 'surrender/overview/surrender-menu'],
    ['发票', 'invoice/overview/invoice-menu'],
    ['我想买保险', 'purchase-consulting/overview/purchase-menu'],
    // A greeting before the topic word does not make it a longer question.
    ['你好，我想问下续保', 'renewal/overview/renewal-menu'],
    ['您好，请问发票', 'invoice/overview/invoice-menu'],
  ])('%s gets its topic menu', async (text, subIntentId) => {
    const result = await say(`u-${n}`, text);
    expect(result.decision).toMatchObject({ action: 'answer', subIntentId });
    expect(result.replies[0]).toMatchObject({ kind: 'choices' });
  });

  // Each menu button answers what it says, straight from its sub-intent (some were confirm-questions or another
  // topic when the button stood for a question to be understood).
  it.each(['MENU_PRODUCTS', 'MENU_QUOTE', 'MENU_HEALTH', 'MENU_CLAIM_REPORT', 'MENU_CLAIM_DOCS', 'MENU_CLAIM_PROGRESS', 'MENU_MY_POLICIES', 'MENU_INVOICE'])(
    'the %s button answers its sub-intent', async (key) => {
      const result = await pipeline.handle({ channel: 'official-account', userId: `u-${key}`, dedupeKey: `menu-${++n}`, kind: 'event', event: { type: 'menu_click', key }, receivedAt: new Date() });
      expect(result.decision).toMatchObject({ action: 'answer', confidence: 1 });
      expect(asPlainText(result.replies[0]).length).toBeGreaterThan(10);
    },
  );
});
