import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { EMOTIONS } from '../conversation/types';
import { badRequest, conflict, notFound } from '../http/errors';
import { validate } from '../http/validation';
import { VoiceCallConflictError, type QaInspector } from './inspector';
import { lastUtcDays } from './models';

const CALL_START_FORMATS = 'an ISO 8601 date-time with a time zone (e.g. 2025-06-04T11:00:00+08:00) or epoch milliseconds';
/** Earlier starts are mistakes (epoch seconds sent as milliseconds land in January 1970). */
const EARLIEST_CALL_START = Date.UTC(2000, 0, 1);
const isoDateTimeWithZone = z.iso.datetime({ offset: true });
/** No call lasts a day: a larger offset is a unit mistake (it made an Invalid Date, a 500). */
const MAX_CALL_OFFSET_MS = 86_400_000;
/** Clocks of the call-centre system and ours may disagree a little; a call that starts later has not happened. */
const MAX_CLOCK_SKEW_MS = 10 * 60_000;

const describeValue = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
};

/**
 * When the call started: only an ISO string with a zone (a local time would depend on the server's zone) or epoch
 * milliseconds. Nothing else is coerced: z.coerce.date() turned null and booleans into 1970.
 */
const callStart = z.unknown().transform((value, ctx) => {
  const at =
    (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && isoDateTimeWithZone.safeParse(value).success)
      ? new Date(value)
      : undefined;
  if (at && at.getTime() >= EARLIEST_CALL_START) return at;
  ctx.addIssue({ code: 'custom', message: `must be ${CALL_START_FORMATS}${at ? ', not before 2000' : ''}; got ${describeValue(value)}` });
  return z.NEVER;
});

const voiceCall = z.object({
  callId: z.string().regex(/^[A-Za-z0-9._:-]{1,80}$/, 'letters, digits and . _ : - (at most 80)'),
  agentId: z.string().min(1).max(64),
  customerId: z.string().min(1).max(64).optional(),
  startedAt: callStart,
  turns: z.array(z.object({
    speaker: z.enum(['agent', 'customer']),
    text: z.string().trim().min(1).max(2_000),
    /** Milliseconds from the start of the call. */
    startMs: z.number().int().min(0).max(MAX_CALL_OFFSET_MS),
    endMs: z.number().int().min(0).max(MAX_CALL_OFFSET_MS).optional(),
    emotion: z.object({ label: z.enum(EMOTIONS), intensity: z.number().min(0).max(1), polarity: z.enum(['positive', 'negative', 'neutral']) }).optional(),
  }).refine((turn) => turn.endMs === undefined || turn.endMs >= turn.startMs, { message: 'endMs must not be before startMs', path: ['endMs'] }))
    .min(1).max(2_000),
}).strict();

/** Inspections and voice-call transcripts, for managers and the call-centre system (admin token). */
export function qaRoutes(inspector: QaInspector, auth: Middleware, now: () => Date = () => new Date()): Router {
  const router = new Router({ prefix: '/api/qa' });
  router.use(auth);

  /**
   * A finished voice call's transcript (speaker turns with times): inspected at once, the result returned (201).
   * An identical retry gets the stored inspection (200); the same call id with other content is refused (409).
   */
  router.post('/voice-calls', async (ctx) => {
    const input = validate(voiceCall, ctx.request.body, 'body');
    // A start in the future would sort above every real inspection for good (a year-275760 call did).
    if (input.startedAt.getTime() > now().getTime() + MAX_CLOCK_SKEW_MS) {
      throw badRequest('invalid_input', `startedAt: must not be in the future; got ${input.startedAt.toISOString()}`, { fields: ['startedAt'] });
    }
    const { inspection, created } = await inspector.inspectVoiceCall(input).catch((err: unknown) => {
      if (err instanceof VoiceCallConflictError) throw conflict('call_already_inspected', err.message);
      throw err;
    });
    ctx.status = created ? 201 : 200;
    ctx.body = inspection;
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
    const { from, to } = lastUtcDays(now(), days);
    ctx.body = { items: await inspector.agentSummaries(from, to) };
  });

  return router;
}
