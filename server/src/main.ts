import path from 'node:path';
import { loadConfig, ConfigError } from './config';
import { createLogger } from './logging/logger';
import { launchDatabase, NoDatabaseError } from './db/launcher';
import { defaultLauncherDeps } from './db/default-launcher';
import { connectDatabase, disconnectDatabase, pingDatabase, withDatabaseName, DatabaseUnreachableError } from './db/connection';
import { createApp } from './app';
import { healthRoutes } from './health/routes';
import { closeGracefully, listen } from './http/server-lifecycle';

const REPO_ROOT = path.resolve(__dirname, '../..');

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);

  const database = await launchDatabase(
    { uri: config.MONGODB_URI, dataDir: path.resolve(REPO_ROOT, config.DATA_DIR) },
    defaultLauncherDeps((message) => logger.info(message)),
  );
  const uri = database.kind === 'uri' ? database.uri : withDatabaseName(database.uri, 'insurance_cs');
  await connectDatabase(uri).catch(async (err: unknown) => {
    await database.stop();
    throw err;
  });
  logger.info({ database: database.kind }, `database: ${database.description}`);

  const app = createApp({
    logger,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    routers: [healthRoutes(() => pingDatabase(), database.kind)],
  });
  const server = await listen(app, config.PORT, config.HOST);
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.PORT }, 'server listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    await closeGracefully(server, config.SHUTDOWN_GRACE_MS);
    await disconnectDatabase();
    await database.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Known start-up failures get one readable message, not a stack trace.
  if (err instanceof ConfigError || err instanceof NoDatabaseError || err instanceof DatabaseUnreachableError) {
    console.error(err.message);
  } else {
    console.error('Failed to start:', err);
  }
  process.exit(1);
});
