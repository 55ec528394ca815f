import { loadConfig, ConfigError } from './config';
import { createLogger } from './logging/logger';
import { NoDatabaseError } from './db/launcher';
import { DatabaseUnreachableError } from './db/connection';
import path from 'node:path';
import { openDatabase, REPO_ROOT } from './db/open';
import { inServingThread, inWorkerThread } from './understanding';
import { createApp } from './app';
import { createPlatform } from './platform';
import { closeGracefully, listen } from './http/server-lifecycle';
import { settlesWithin } from './util/settles-within';
import { KnowledgeValidationError } from './knowledge/source';
import { InsightSettingsError } from './analytics';
import { QaRulesError } from './qa/rules';
import { ProductValidationError } from './insurance/products';
import { AgentDeskSettingsError } from './agents/settings';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const db = await openDatabase(config, logger);
  const modelDir = path.resolve(REPO_ROOT, config.DATA_DIR, 'models');
  const understanding = config.UNDERSTANDING_THREAD === 'worker'
    ? inWorkerThread({ modelDir, logLevel: config.LOG_LEVEL })
    : inServingThread({ modelDir });
  const platform = await createPlatform(config, logger, db.database.kind, understanding).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });

  const app = createApp({ logger, bodyLimitBytes: config.BODY_LIMIT_BYTES, routers: platform.routers });
  const server = await listen(app, config.PORT, config.HOST);
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.PORT }, 'server listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    await closeGracefully(server, config.SHUTDOWN_GRACE_MS);
    // Cutting a step short leaves no more than a crash would, and restarts recover from crashes; so a step waiting
    // on a database that never answers ends the process after the grace period instead of keeping it alive for ever.
    let step = 'platform';
    const stopped = settlesWithin((async () => {
      await platform.stop((name) => { step = name; });
      step = 'database connection';
      await db.close();
    })(), config.SHUTDOWN_GRACE_MS);
    if (!(await stopped)) {
      logger.error({ waitingFor: step, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutdown did not finish in time: exiting anyway');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Known start-up failures get one readable message, not a stack trace.
  const known = [ConfigError, NoDatabaseError, DatabaseUnreachableError, KnowledgeValidationError, InsightSettingsError, QaRulesError, ProductValidationError, AgentDeskSettingsError];
  if (known.some((type) => err instanceof type)) console.error((err as Error).message);
  else console.error('Failed to start:', err);
  process.exit(1);
});
