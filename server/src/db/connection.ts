import mongoose, { type Connection } from 'mongoose';
import { placeWriteHeavyCollections } from './write-partitions';

/** Hides credentials when a URI is shown in a message or log. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]+)@/, '//***@');
}

/** Puts a database name into a server URI (unless it names one, or `replace`), keeping any query options. */
export function withDatabaseName(serverUri: string, dbName: string, options: { replace?: boolean } = {}): string {
  // Not new URL(): a replica-set URI lists several hosts (`mongodb://a:27017,b:27017/…`), which URL refuses.
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(\/[^?]*)?(\?.*)?$/.exec(serverUri);
  if (!match) throw new Error(`not a MongoDB connection string: ${redactUri(serverUri)}`);
  const [, authority, pathPart = '', query = ''] = match;
  const named = pathPart.length > 1;
  return `${authority}/${options.replace || !named ? dbName : pathPart.slice(1)}${query}`;
}

export class DatabaseUnreachableError extends Error {
  constructor(uri: string, timeoutMs: number, cause: string) {
    super(`Cannot reach the database at ${redactUri(uri)} within ${timeoutMs} ms (${cause}). Check MONGODB_URI.`);
    this.name = 'DatabaseUnreachableError';
  }
}

/**
 * FerretDB on SQLite commits one write at a time: a hundred pooled connections only queue on its lock (and time
 * out with SQLITE_BUSY), so against FerretDB the pool stays small and the driver queues instead. MongoDB keeps the
 * driver's default. A `maxPoolSize` in MONGODB_URI always wins.
 */
export const FERRETDB_MAX_POOL_SIZE = 6;

/** Whether the server at `uri` is FerretDB (its buildInfo says so). */
export async function isFerretdb(uri: string, timeoutMs = 3_000): Promise<boolean> {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: timeoutMs, maxPoolSize: 1 });
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    return typeof info.ferretdbVersion === 'string';
  } finally {
    await client.close();
  }
}

/** Connects the shared mongoose connection; fails fast with one readable line. */
export async function connectDatabase(uri: string, timeoutMs = 3_000): Promise<Connection> {
  let ferretdb: boolean;
  try {
    const poolSizeGiven = /[?&]maxPoolSize=/i.test(uri); // not new URL(): replica-set URIs list several hosts
    ferretdb = await isFerretdb(uri, timeoutMs);
    const small = ferretdb && !poolSizeGiven;
    await mongoose.connect(uri, { serverSelectionTimeoutMS: timeoutMs, autoIndex: true, ...(small ? { maxPoolSize: FERRETDB_MAX_POOL_SIZE } : {}) });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new DatabaseUnreachableError(uri, timeoutMs, reason);
  }
  await placeWriteHeavyCollections(ferretdb);
  return mongoose.connection;
}

export async function pingDatabase(connection: Connection = mongoose.connection): Promise<boolean> {
  if (connection.readyState !== 1 || !connection.db) return false;
  try {
    await connection.db.admin().command({ ping: 1 });
    return true;
  } catch {
    return false;
  }
}

export async function disconnectDatabase(): Promise<void> {
  await mongoose.disconnect();
}
