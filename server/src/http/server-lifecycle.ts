import http from 'node:http';
import type Koa from 'koa';

export async function listen(app: Koa, port: number, host: string): Promise<http.Server> {
  const server = http.createServer(app.callback());
  // Behind a load balancer keep-alive must outlive the balancer's idle timeout.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return server;
}

/**
 * Stops accepting connections, lets in-flight requests finish (closing idle keep-alive sockets now),
 * and after `graceMs` cuts whatever is left.
 */
export async function closeGracefully(server: http.Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  await closed;
  clearTimeout(timer);
}
