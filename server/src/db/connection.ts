import mongoose, { type Connection } from 'mongoose';

/** Hides credentials when a URI is shown in a message or log. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]+)@/, '//***@');
}

/** Puts a database name into a server URI (unless it names one, or `replace`), keeping any query options. */
export function withDatabaseName(serverUri: string, dbName: string, options: { replace?: boolean } = {}): string {
  const url = new URL(serverUri);
  if (options.replace || url.pathname === '' || url.pathname === '/') url.pathname = `/${dbName}`;
  return url.toString();
}

export class DatabaseUnreachableError extends Error {
  constructor(uri: string, timeoutMs: number, cause: string) {
    super(`Cannot reach the database at ${redactUri(uri)} within ${timeoutMs} ms (${cause}). Check MONGODB_URI.`);
    this.name = 'DatabaseUnreachableError';
  }
}

/** Connects the shared mongoose connection; fails fast with one readable line. */
export async function connectDatabase(uri: string, timeoutMs = 3_000): Promise<Connection> {
  try {
    await mongoose.connect(uri, { serverSelectionTimeoutMS: timeoutMs, autoIndex: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new DatabaseUnreachableError(uri, timeoutMs, reason);
  }
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
