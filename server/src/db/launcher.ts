import path from 'node:path';

/** A database server this process can talk to, and how to stop it when we started it. */
export interface RunningDatabase {
  kind: 'uri' | 'mongod' | 'ferretdb';
  /** Server URI without a database name; callers append one. */
  uri: string;
  description: string;
  stop(): Promise<void>;
}

/** Everything the launcher needs from the outside world, injectable so its choices can be tested. */
export interface LauncherDeps {
  probeOfficialMongod(): Promise<string | undefined>;
  downloadHostReachable(): Promise<boolean>;
  downloadOfficialMongod(): Promise<string | undefined>;
  startOfficialMongod(binary: string, dataDir: string): Promise<RunningDatabase>;
  findFerretdb(): Promise<string | undefined>;
  findGo(): Promise<string | undefined>;
  buildFerretdb(goBinary: string): Promise<string>;
  startFerretdb(binary: string, dataDir: string): Promise<RunningDatabase>;
  log(message: string): void;
}

export class NoDatabaseError extends Error {
  constructor() {
    super(
      'No database available: MONGODB_URI is not set, no official mongod was found or could be downloaded, ' +
        'and FerretDB could not be found (FERRETDB_BIN or `ferretdb` on PATH) or built because Go is not installed. ' +
        'Fix: set MONGODB_URI=mongodb://host:27017/yourdb, or install Go >= 1.24 (https://go.dev/dl) and start again.',
    );
    this.name = 'NoDatabaseError';
  }
}

/**
 * Picks the database in the documented order:
 * MONGODB_URI → an official mongod already on disk → a download when the network allows → FerretDB
 * (found, or built once with Go) → one clear error.
 */
export async function launchDatabase(
  opts: { uri?: string; dataDir: string },
  deps: LauncherDeps,
): Promise<RunningDatabase> {
  if (opts.uri) {
    return { kind: 'uri', uri: opts.uri, description: 'MONGODB_URI', stop: async () => {} };
  }

  let mongod = await deps.probeOfficialMongod();
  if (!mongod && (await deps.downloadHostReachable())) {
    deps.log('no local mongod; downloading one with mongodb-memory-server');
    mongod = await deps.downloadOfficialMongod();
  }
  if (mongod) return deps.startOfficialMongod(mongod, path.join(opts.dataDir, 'mongod'));

  let ferretdb = await deps.findFerretdb();
  if (!ferretdb) {
    const go = await deps.findGo();
    if (!go) throw new NoDatabaseError();
    ferretdb = await deps.buildFerretdb(go);
  }
  return deps.startFerretdb(ferretdb, path.join(opts.dataDir, 'ferretdb'));
}
