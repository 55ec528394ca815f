import type { Middleware } from 'koa';
import { HttpError } from './errors';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Errors thrown by body parsers and Koa itself carry a status; map the common ones to stable codes. */
function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'bad_request';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 405: return 'method_not_allowed';
    case 413: return 'payload_too_large';
    case 415: return 'unsupported_media_type';
    default: return status >= 500 ? 'internal_error' : 'request_error';
  }
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const candidate = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof candidate === 'number' && candidate >= 400 && candidate < 600 ? candidate : undefined;
}

/**
 * The one place that turns failures into `{"error":{"code","message"}}`.
 * Client errors say what was wrong; server errors say nothing of internals and are logged.
 */
export function errorMiddleware(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `no route for ${ctx.method} ${ctx.path}` } } satisfies ErrorBody;
      }
    } catch (err) {
      let body: ErrorBody;
      let status: number;
      if (err instanceof HttpError) {
        status = err.status;
        body = { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
      } else {
        status = statusOf(err) ?? 500;
        const exposed = status < 500 && err instanceof Error && (err as { expose?: boolean }).expose !== false;
        body = { error: { code: codeForStatus(status), message: exposed ? err.message : 'internal error' } };
      }
      if (status >= 500) ctx.log?.error({ err }, 'request failed');
      ctx.status = status;
      ctx.body = body;
    }
  };
}
