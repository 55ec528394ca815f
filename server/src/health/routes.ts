import Router from '@koa/router';
import type { IntentModelState } from '../nlu/intent-model-holder';

export interface HealthChecks {
  isDatabaseReady(): Promise<boolean>;
  databaseKind: string;
  /**
   * Whether the intent model in service was trained from the current knowledge. Reported, not gating readiness:
   * while it trains, answers lean on retrieval, so an instance still serves (benchmarks and deploy scripts wait
   * for `current`).
   */
  intentModel(): IntentModelState;
}

/** Liveness (process up) and readiness (database answers a ping), for load balancers and orchestrators. */
export function healthRoutes(checks: HealthChecks): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const ready = await checks.isDatabaseReady();
    ctx.status = ready ? 200 : 503;
    ctx.body = ready
      ? { status: 'ready', database: checks.databaseKind, intentModel: checks.intentModel() }
      : { error: { code: 'database_unavailable', message: 'the database does not answer' } };
  });
  return router;
}
