import { FERRETDB_MAX_POOL_SIZE } from './connection';
import { writeErrorsOf } from './batched-inserts';

/** FerretDB v1.24's SQLite backend opens at most this many connections per database file. */
const FERRETDB_SQLITE_CONNECTIONS_PER_DATABASE = 100;

/**
 * FerretDB v1.24 runs each statement of an `update` command on a query of its own and closes those queries only when
 * the whole command ends (`msg_update.go`: `defer closer.Close()` inside the loop). A statement that matched a
 * document keeps its SQLite connection until then, and a database file has 100 of them: one command of 100 updates
 * to existing documents waits for ever for a connection it holds itself, and every later write to that database
 * file waits behind it (seen as metric counts that stopped and a server that never finished shutting down).
 * Sized so that all the commands one server can have in flight at once (its pool) stay below that limit together.
 */
export const MAX_UPDATES_PER_COMMAND = Math.floor(FERRETDB_SQLITE_CONNECTIONS_PER_DATABASE / FERRETDB_MAX_POOL_SIZE) - 1;

/** The operations this module sends: inserts, and anything the driver sends as an `update` command. */
export type BulkWriteOperation =
  | { insertOne: { document: unknown } }
  | { updateOne: { filter: object; update: object; upsert?: boolean } }
  | { replaceOne: { filter: object; replacement: object; upsert?: boolean } };

/** What is needed of a mongoose model. */
export interface BulkWriteTarget {
  bulkWrite(operations: never[], options: { ordered: false }): Promise<unknown>;
}

/** Some operations were refused; `writeErrors` name them by their position in the list given to `bulkWriteUnordered`. */
export class BulkWriteErrors extends Error {
  constructor(readonly writeErrors: Array<{ index: number; code?: number }>) {
    super(`${writeErrors.length} bulk write operation(s) refused (codes ${[...new Set(writeErrors.map((e) => e.code))].join(', ')})`);
    this.name = 'BulkWriteErrors';
  }
}

/**
 * An unordered bulk write that any MongoDB-wire server finishes: inserts go out together, updates in commands of at
 * most `MAX_UPDATES_PER_COMMAND` (see there), one after another. Like the driver's unordered bulk write, a refused
 * operation does not stop the others; refusals are reported together at the end (`BulkWriteErrors`, positions as
 * given, so `writeErrorsOf` reads them as it reads the driver's). Any other error stops at once.
 */
export async function bulkWriteUnordered(model: BulkWriteTarget, operations: readonly BulkWriteOperation[]): Promise<void> {
  const inserts: number[] = [];
  const updates: number[] = [];
  operations.forEach((operation, i) => ('insertOne' in operation ? inserts : updates).push(i));
  const commands = inserts.length ? [inserts] : [];
  for (let start = 0; start < updates.length; start += MAX_UPDATES_PER_COMMAND) {
    commands.push(updates.slice(start, start + MAX_UPDATES_PER_COMMAND));
  }
  const refused: Array<{ index: number; code?: number }> = [];
  for (const positions of commands) {
    try {
      await model.bulkWrite(positions.map((i) => operations[i]) as never[], { ordered: false });
    } catch (err) {
      const failed = writeErrorsOf(err);
      if (!failed) throw err;
      for (const e of failed) refused.push({ index: positions[e.index], code: e.code });
    }
  }
  if (refused.length) throw new BulkWriteErrors(refused);
}
