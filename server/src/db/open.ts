import path from 'node:path';
import mongoose from 'mongoose';
import type { AppConfig } from '../config';
import type { Logger } from '../logging/logger';
import { connectDatabase, disconnectDatabase, withDatabaseName } from './connection';
import { dropDatabaseAndPartitions } from './write-partitions';
import { defaultLauncherDeps } from './default-launcher';
import { launchDatabase, type RunningDatabase } from './launcher';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
const EMBEDDED_DATABASE_NAME = 'insurance_cs';

export interface OpenDatabase {
  database: RunningDatabase;
  close(): Promise<void>;
}

/** Launches (or finds) the database as configured and connects mongoose to it; used by the server and every CLI. */
export async function openDatabase(
  config: AppConfig,
  logger: Logger,
  options: { /** A throw-away database, dropped on close (evaluations, benchmarks). */ scratchDatabaseName?: string } = {},
): Promise<OpenDatabase> {
  const database = await launchDatabase(
    { uri: config.MONGODB_URI, dataDir: path.resolve(REPO_ROOT, config.DATA_DIR) },
    defaultLauncherDeps((message) => logger.info(message)),
  );
  const uri = options.scratchDatabaseName
    ? withDatabaseName(database.uri, options.scratchDatabaseName, { replace: true })
    : database.kind === 'uri' ? database.uri : withDatabaseName(database.uri, EMBEDDED_DATABASE_NAME);
  try {
    await connectDatabase(uri);
  } catch (err) {
    await database.stop();
    throw err;
  }
  logger.info({ database: database.kind }, `database: ${database.description}`);
  return {
    database,
    close: async () => {
      if (options.scratchDatabaseName) await dropDatabaseAndPartitions().catch(() => {});
      await disconnectDatabase();
      await database.stop();
    },
  };
}
