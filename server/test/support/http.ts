import type http from 'node:http';
import type Koa from 'koa';
import { listen } from '../../src/http/server-lifecycle';

/** Serves a Koa app on a free loopback port for the duration of a test. */
export async function serve(app: Koa): Promise<{ server: http.Server; baseUrl: string; close(): Promise<void> }> {
  const server = await listen(app, 0, '127.0.0.1');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return {
    server,
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
