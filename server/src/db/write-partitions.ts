import mongoose, { type Connection, type IndexDefinition, type IndexOptions, type mongo } from 'mongoose';

/**
 * FerretDB keeps each database in a SQLite file of its own, and SQLite lets one writer at a time into a file: the
 * others sleep on its lock (SQLite's busy handler waits 1, 2, 5, 10 … ms). The collections written on every
 * message therefore get a database of their own there, `<database>-<partition>`, so their group commits run side
 * by side instead of queueing on one lock (four writers: batch p99 40 → 10 ms; webhook about 550 → 690 msg/s).
 * MongoDB locks per document: there everything stays in the one database and nothing here changes anything.
 */

/** What is needed of a mongoose model to move it between databases. */
export interface MovableModel {
  readonly db: Connection;
  readonly schema: {
    set(option: 'autoCreate' | 'autoIndex', value: boolean): unknown;
    indexes(): Array<[IndexDefinition, IndexOptions]>;
  };
  readonly collection: { createIndex(fields: mongo.IndexSpecification, options: mongo.CreateIndexesOptions): Promise<unknown> };
  useConnection(connection: Connection): unknown;
  createCollection(): Promise<unknown>;
  createIndexes(): Promise<unknown>;
}

/** The databases beside the main one on FerretDB, `<database>-<partition>`: one per kind of row written per message. */
export const WRITE_PARTITIONS = ['claims', 'deliveries', 'messages', 'metrics', 'states'] as const;
export type WritePartition = (typeof WRITE_PARTITIONS)[number];

const writeHeavy = new Map<MovableModel, string>();

/** FerretDB's (and MongoDB's) limit on a database name. */
const MAX_DATABASE_NAME_LENGTH = 63;

/** Marks a model as written on every message: on FerretDB it lives in database `<database>-<partition>`. */
export function writtenOnEveryMessage<M extends MovableModel>(model: M, partition: WritePartition): M {
  // Built by placeWriteHeavyCollections once their database is known, never by mongoose on connecting.
  model.schema.set('autoCreate', false);
  model.schema.set('autoIndex', false);
  writeHeavy.set(model, partition);
  return model;
}

export function partitionDatabaseName(databaseName: string, partition: string): string {
  const name = `${databaseName}-${partition}`;
  if (name.length > MAX_DATABASE_NAME_LENGTH) {
    throw new Error(
      `database name "${databaseName}" is too long: on FerretDB its busiest collections live in "${name}", over the ` +
        `${MAX_DATABASE_NAME_LENGTH}-character limit (shorten the name in MONGODB_URI)`,
    );
  }
  return name;
}

/**
 * Once connected: puts the write-heavy models in their own databases on FerretDB, or in the main one on MongoDB,
 * and builds their collections there. On FerretDB only their unique indexes are built (they enforce something):
 * FerretDB v1.24 on SQLite answers every query but `{ _id }` by scanning the table, so there any other index is
 * never read and only slows each insert (about a third of a conversation snapshot's cost with its four indexes).
 */
export async function placeWriteHeavyCollections(ferretdb: boolean, connection: Connection = mongoose.connection): Promise<void> {
  for (const [model, partition] of writeHeavy) {
    const target = ferretdb ? connection.useDb(partitionDatabaseName(connection.name, partition), { useCache: true }) : connection;
    if (model.db !== target) model.useConnection(target);
  }
  for (const model of writeHeavy.keys()) {
    await model.createCollection();
    if (!ferretdb) await model.createIndexes();
    else {
      for (const [fields, options] of model.schema.indexes()) {
        // A schema's index fields are the driver's key specification (mongoose only widens the direction type).
        if (options.unique) await model.collection.createIndex(fields as mongo.IndexSpecification, options as mongo.CreateIndexesOptions);
      }
    }
  }
}

/**
 * Drops the main database and every partition database beside it (scratch and test databases). Every partition's
 * name is dropped, not only those of this process's models: a benchmark's scratch database is written by the server
 * it starts, so the process that drops it may never have placed a model there (dropping a database that does not
 * exist is harmless; listing the server's databases instead stalled once on a long-running FerretDB here).
 */
export async function dropDatabaseAndPartitions(connection: Connection = mongoose.connection): Promise<void> {
  const names = new Set(WRITE_PARTITIONS.map((partition) => partitionDatabaseName(connection.name, partition)));
  for (const model of writeHeavy.keys()) if (model.db !== connection) names.add(model.db.name);
  for (const name of names) await connection.getClient().db(name).dropDatabase();
  await connection.dropDatabase();
}
