import Koa from 'koa';
import type Router from '@koa/router';
import { errorMiddleware } from './http/error-middleware';
import { requestContext } from './http/request-context';
import { bodyReader } from './http/body';
import type { Logger } from './logging/logger';

export interface AppOptions {
  logger: Logger;
  bodyLimitBytes: number;
  routers: Router[];
}

/** Composes the HTTP application: request context → errors → body → routes. Nothing else happens here. */
export function createApp({ logger, bodyLimitBytes, routers }: AppOptions): Koa {
  const app = new Koa({ proxy: true });
  app.silent = true; // errors are logged by the error middleware, with the request id
  app.use(requestContext(logger));
  app.use(errorMiddleware());
  app.use(bodyReader(bodyLimitBytes));
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
