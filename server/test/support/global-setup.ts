import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchDatabase, type RunningDatabase } from '../../src/db/launcher';
import { defaultLauncherDeps } from '../../src/db/default-launcher';

declare global {
  // eslint-disable-next-line no-var
  var __TEST_DATABASE__: { running: RunningDatabase; dataDir: string } | undefined;
}

/**
 * One database server for the whole run, chosen exactly as `npm start` chooses it (MONGODB_URI, official mongod,
 * or FerretDB built from the Go module proxy). Each test file then makes its own database on it.
 */
export default async function globalSetup(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cs-test-db-'));
  const running = await launchDatabase(
    { uri: process.env.MONGODB_URI, dataDir },
    defaultLauncherDeps((message) => process.stderr.write(`[test database] ${message}\n`)),
  );
  process.stderr.write(`\n[test database] ${running.description}\n`);
  process.env.TEST_DATABASE_SERVER_URI = running.uri;
  process.env.TEST_DATABASE_KIND = running.kind;
  globalThis.__TEST_DATABASE__ = { running, dataDir };
}
