import Router from '@koa/router';

/** Liveness (process up) and readiness (database answers a ping), for load balancers and orchestrators. */
export function healthRoutes(isDatabaseReady: () => Promise<boolean>, databaseKind: string): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const ready = await isDatabaseReady();
    ctx.status = ready ? 200 : 503;
    ctx.body = ready
      ? { status: 'ready', database: databaseKind }
      : { error: { code: 'database_unavailable', message: 'the database does not answer' } };
  });
  return router;
}
