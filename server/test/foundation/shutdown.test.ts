import Router from '@koa/router';
import pino from 'pino';
import { createApp } from '../../src/app';
import { closeGracefully } from '../../src/http/server-lifecycle';
import { serve } from '../support/http';

function signal(): { promise: Promise<void>; fire(): void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => { fire = resolve; });
  return { promise, fire };
}

describe('graceful shutdown', () => {
  it('stops accepting connections but finishes the request in flight', async () => {
    const started = signal();
    const release = signal();
    const router = new Router();
    router.get('/slow', async (ctx) => {
      started.fire();
      await release.promise;
      ctx.body = { finished: true };
    });
    const { server, baseUrl } = await serve(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1024, routers: [router] }));

    const inFlight = fetch(`${baseUrl}/slow`);
    await started.promise;
    const closing = closeGracefully(server, 5_000);
    expect(server.listening).toBe(false);
    await expect(fetch(`${baseUrl}/slow`)).rejects.toThrow();

    release.fire();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await closing;
  });
});
