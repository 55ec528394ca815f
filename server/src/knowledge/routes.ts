import Router from '@koa/router';
import { z } from 'zod';
import { requireStaff } from '../agents/auth';
import { notFound } from '../http/errors';
import { validate } from '../http/validation';
import { Intent, Scenario, Solution, SubIntent } from './models';
import type { KnowledgeBase } from './service';

const paging = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};
const MAX_SEARCH_HITS = 200;

function paginate<T>(items: T[], page: number, pageSize: number) {
  return { page, pageSize, total: items.length, items: items.slice((page - 1) * pageSize, page * pageSize) };
}

/** Knowledge search for agents (never for end users): keyword, browse the tree, similar questions. */
export function agentKnowledgeRoutes(knowledge: KnowledgeBase): Router {
  const router = new Router({ prefix: '/api/agent/knowledge' });
  router.use(requireStaff('agent', 'manager'));

  router.get('/search', async (ctx) => {
    const query = validate(z.object({ q: z.string().trim().min(1, 'is required'), ...paging }), ctx.query, 'query');
    const hits = knowledge.search(query.q, { k: MAX_SEARCH_HITS });
    const page = paginate(hits, query.page, query.pageSize);
    ctx.body = {
      ...page,
      items: await Promise.all(
        page.items.map(async (hit) => ({
          subIntentId: hit.id, name: hit.name, scenarioId: hit.scenarioId, intentId: hit.intentId,
          confidence: hit.confidence, matchedQuestion: hit.matchedQuestion,
          answer: (await knowledge.selectSolution(hit.id))?.text,
        })),
      ),
    };
  });

  router.get('/similar', (ctx) => {
    const query = validate(z.object({ question: z.string().trim().min(1, 'is required'), ...paging }), ctx.query, 'query');
    const hits = knowledge.search(query.question, { k: MAX_SEARCH_HITS });
    ctx.body = paginate(
      hits.map((hit) => ({ subIntentId: hit.id, name: hit.name, question: hit.matchedQuestion, confidence: hit.confidence })),
      query.page,
      query.pageSize,
    );
  });

  /** Children of a node: no parent → scenarios; a scenario → its intents; an intent → its sub-intents. */
  router.get('/tree', async (ctx) => {
    const query = validate(z.object({ parent: z.string().optional(), ...paging }), ctx.query, 'query');
    const depth = query.parent ? query.parent.split('/').length : 0;
    const skip = (query.page - 1) * query.pageSize;
    const page = async (model: typeof Scenario | typeof Intent | typeof SubIntent, filter: Record<string, string>) => {
      const published = { ...filter, status: 'published' as const };
      const [total, items] = await Promise.all([
        (model as typeof Scenario).countDocuments(published),
        (model as typeof Scenario).find(published, { _id: 1, name: 1 }).sort({ _id: 1 }).skip(skip).limit(query.pageSize).lean(),
      ]);
      return { page: query.page, pageSize: query.pageSize, total, items: items.map((i) => ({ id: i._id, name: i.name })) };
    };
    if (depth === 0) ctx.body = await page(Scenario, {});
    else if (depth === 1) ctx.body = await page(Intent, { scenarioId: query.parent! });
    else if (depth === 2) ctx.body = await page(SubIntent, { intentId: query.parent! });
    else throw notFound('unknown_node', `"${query.parent}" has no children`);
  });

  // Sub-intent ids contain '/', so clients URL-encode them (claim-report%2Fhow-to-report%2Fonline-report).
  router.get('/sub-intents/:id', async (ctx) => {
    const sub = await SubIntent.findById(ctx.params.id).lean();
    if (!sub) throw notFound('unknown_sub_intent', `no sub-intent "${ctx.params.id}"`);
    const solutions = await Solution.find({ subIntentId: sub._id }).sort({ _id: 1 }).limit(500).lean();
    ctx.body = {
      id: sub._id, name: sub.name, intentId: sub.intentId, scenarioId: sub.scenarioId, status: sub.status, version: sub.version,
      questions: sub.questions, sensitive: sub.sensitive, updatedBy: sub.updatedBy,
      solutions: solutions.map((s) => ({ id: s._id, name: s.name, text: s.text, rich: s.rich, conditions: s.conditions, status: s.status })),
    };
  });

  return router;
}
