import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { badRequest, HttpError } from './errors';

declare module 'koa' {
  interface Request {
    /** Parsed JSON body (undefined when the request had none). */
    body?: unknown;
    /** The raw bytes as received, for signature checks (WeChat Pay, webhooks). */
    rawBody?: string;
  }
}

/**
 * Reads the body once, with a size limit, for every request that has one.
 * JSON is parsed here; XML and other types are left as rawBody for their channel adapter.
 */
export function bodyReader(limitBytes: number): Middleware {
  return async (ctx, next) => {
    if (!ctx.request.length && !ctx.get('transfer-encoding')) return next();
    // Binary uploads are left unread for the route that streams them (bytes must not pass through UTF-8).
    if (ctx.is('multipart/*', 'application/octet-stream')) return next();
    let raw: string;
    try {
      raw = await getRawBody(ctx.req, { limit: limitBytes, length: ctx.request.length, encoding: 'utf8' });
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type === 'entity.too.large') {
        throw new HttpError(413, 'payload_too_large', `request body is larger than ${limitBytes} bytes`);
      }
      if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
        throw new HttpError(415, 'unsupported_media_type', 'unsupported body encoding');
      }
      throw badRequest('bad_body', 'request body could not be read');
    }
    ctx.request.rawBody = raw;
    if (ctx.is('application/json', '+json') && raw.length > 0) {
      try {
        ctx.request.body = JSON.parse(raw) as unknown;
      } catch {
        throw badRequest('invalid_json', 'request body is not valid JSON');
      }
    }
    return next();
  };
}
