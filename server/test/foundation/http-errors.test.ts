import Router from '@koa/router';
import pino from 'pino';
import { createApp } from '../../src/app';
import { badRequest } from '../../src/http/errors';
import { serve } from '../support/http';

function echoRouter(): Router {
  const router = new Router();
  router.post('/echo', (ctx) => { ctx.body = { received: ctx.request.body }; });
  router.get('/boom', () => { throw new Error('secret internals'); });
  router.get('/refuse', () => { throw badRequest('missing_field', 'field "name" is required'); });
  return router;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('error middleware', () => {
  const app = createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1024, routers: [echoRouter()] });
  let base: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => { base = await serve(app); });
  afterAll(() => base.close());

  it('answers an unknown route with a JSON 404', async () => {
    const res = await fetch(`${base.baseUrl}/no/such/route`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /no/such/route' } });
  });

  it('answers bad JSON with a 400 and a code', async () => {
    const res = await fetch(`${base.baseUrl}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('invalid_json');
  });

  it('answers a body over the limit with a 413', async () => {
    const res = await fetch(`${base.baseUrl}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(5000) }),
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });

  it('passes good JSON through', async () => {
    const res = await fetch(`${base.baseUrl}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await res.json()).toEqual({ received: { a: 1 } });
  });

  it('hides internals of a server error', async () => {
    const res = await fetch(`${base.baseUrl}/boom`);
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
  });

  it('shows the code and message of a client error', async () => {
    const res = await fetch(`${base.baseUrl}/refuse`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'missing_field', message: 'field "name" is required' } });
  });

  it('answers a wrong method with 405', async () => {
    const res = await fetch(`${base.baseUrl}/echo`);
    expect(res.status).toBe(405);
    expect((await errorOf(res)).code).toBe('method_not_allowed');
  });

  it('gives every response a request id', async () => {
    const res = await fetch(`${base.baseUrl}/no/such/route`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const other = await fetch(`${base.baseUrl}/no/such/route`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
