import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { validate } from '../http/validation';
import { CANDIDATE_STATES } from './models';
import type { LearningService } from './service';

const edits = z.object({
  name: z.string().trim().min(1).max(60).optional(),
  questions: z.array(z.string().trim().min(1).max(200)).min(1).max(50).optional(),
  answer: z.string().trim().min(1).max(600).optional(),
}).strict();

/** The review queue of knowledge candidates, for managers (the dashboard uses these). */
export function learningRoutes(learning: LearningService, auth: Middleware): Router {
  const router = new Router({ prefix: '/api/learning' });
  router.use(auth);
  const reviewer = (state: { manager?: { id: string } }) => state.manager?.id ?? 'unknown';

  router.get('/candidates', async (ctx) => {
    const query = validate(z.object({ status: z.enum(CANDIDATE_STATES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }), ctx.query, 'query');
    ctx.body = { items: await learning.candidates(query.status, query.limit) };
  });

  router.get('/candidates/:id', async (ctx) => {
    ctx.body = await learning.candidate(ctx.params.id);
  });

  router.patch('/candidates/:id', async (ctx) => {
    ctx.body = await learning.edit(ctx.params.id, validate(edits, ctx.request.body ?? {}, 'body'), reviewer(ctx.state));
  });

  router.post('/candidates/:id/approve', async (ctx) => {
    const { candidate, report } = await learning.approve(ctx.params.id, validate(edits, ctx.request.body ?? {}, 'body'), reviewer(ctx.state));
    ctx.body = { candidate, revision: report.revision, changes: report.changes.length };
  });

  router.post('/candidates/:id/reject', async (ctx) => {
    const body = validate(z.object({ reason: z.string().trim().max(200).optional() }).strict(), ctx.request.body ?? {}, 'body');
    ctx.body = await learning.reject(ctx.params.id, body.reason, reviewer(ctx.state));
  });

  /** Clusters the latest unanswered questions now (the sweep does it every minute anyway). */
  router.post('/refresh', async (ctx) => {
    ctx.body = await learning.refreshCandidates();
  });

  /** The approved knowledge as knowledge/scenarios/learned.yaml would hold it. */
  router.get('/export', async (ctx) => {
    ctx.type = 'text/yaml; charset=utf-8';
    ctx.set('content-disposition', 'attachment; filename="learned.yaml"');
    ctx.body = await learning.exportYaml();
  });

  /** Writes it into the server's knowledge/ folder, to be reviewed and committed like any content change. */
  router.post('/export', async (ctx) => {
    ctx.body = await learning.exportToKnowledgeDir();
  });

  return router;
}
