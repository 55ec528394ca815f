import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { EMOTIONS } from '../conversation/types';
import { notFound } from '../http/errors';
import { validate } from '../http/validation';
import type { QaInspector } from './inspector';

const voiceCall = z.object({
  callId: z.string().regex(/^[A-Za-z0-9._:-]{1,80}$/, 'letters, digits and . _ : - (at most 80)'),
  agentId: z.string().min(1).max(64),
  customerId: z.string().min(1).max(64).optional(),
  startedAt: z.coerce.date(),
  turns: z.array(z.object({
    speaker: z.enum(['agent', 'customer']),
    text: z.string().trim().min(1).max(2_000),
    /** Milliseconds from the start of the call. */
    startMs: z.number().int().min(0),
    endMs: z.number().int().min(0).optional(),
    emotion: z.object({ label: z.enum(EMOTIONS), intensity: z.number().min(0).max(1), polarity: z.enum(['positive', 'negative', 'neutral']) }).optional(),
  })).min(1).max(2_000),
}).strict();

/** Inspections and voice-call transcripts, for managers and the call-centre system (admin token). */
export function qaRoutes(inspector: QaInspector, auth: Middleware, now: () => Date = () => new Date()): Router {
  const router = new Router({ prefix: '/api/qa' });
  router.use(auth);

  /** A finished voice call's transcript (speaker turns with times): inspected at once, the result returned. */
  router.post('/voice-calls', async (ctx) => {
    const input = validate(voiceCall, ctx.request.body, 'body');
    ctx.status = 201;
    ctx.body = await inspector.inspectVoiceCall(input);
  });

  router.get('/inspections', async (ctx) => {
    const query = validate(z.object({
      agentId: z.string().optional(),
      failed: z.enum(['true', 'false']).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }), ctx.query, 'query');
    ctx.body = { items: await inspector.recentInspections({ agentId: query.agentId, failedOnly: query.failed === 'true', limit: query.limit }) };
  });

  router.get('/inspections/:id', async (ctx) => {
    const found = await inspector.inspection(ctx.params.id);
    if (!found) throw notFound('inspection_not_found', `no inspection ${ctx.params.id}`);
    ctx.body = found;
  });

  /** Per-agent aggregates over the last `days` days. */
  router.get('/agents', async (ctx) => {
    const { days } = validate(z.object({ days: z.coerce.number().int().min(1).max(90).default(7) }), ctx.query, 'query');
    const to = new Date(now().getTime() + 86_400_000);
    ctx.body = { items: await inspector.agentSummaries(new Date(to.getTime() - (days + 1) * 86_400_000), to) };
  });

  return router;
}
