import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mongoose from 'mongoose';
import { isFerretdb, withDatabaseName } from '../../src/db/connection';
import { dropDatabaseAndPartitions, placeWriteHeavyCollections } from '../../src/db/write-partitions';

export function testServerUri(): string {
  const uri = process.env.TEST_DATABASE_SERVER_URI;
  if (!uri) throw new Error('TEST_DATABASE_SERVER_URI is not set: run tests through jest (global setup starts the database)');
  return uri;
}

/** A database name unique to this test file and run, within MongoDB's and FerretDB's name rules. */
export function uniqueDatabaseName(testFile: string): string {
  const base = path.basename(testFile).replace(/\.test\.ts$/, '').replace(/[^a-zA-Z0-9_-]/g, '_');
  return `t_${base.slice(0, 40)}_${randomBytes(4).toString('hex')}`;
}

/**
 * Gives the calling test file its own database, laid out as the server lays it out (write-heavy collections in
 * their own databases on FerretDB): connected before its tests, every registered model's indexes built (so an
 * index the CI database refuses fails loudly), dropped afterwards with its partitions.
 */
export function useTestDatabase(testFile: string): { name: string; uri: string } {
  const name = uniqueDatabaseName(testFile);
  const uri = withDatabaseName(testServerUri(), name);
  beforeAll(async () => {
    await mongoose.connect(uri, { serverSelectionTimeoutMS: 5_000 });
    for (const modelName of mongoose.modelNames()) await mongoose.model(modelName).init();
    await placeWriteHeavyCollections(await isFerretdb(uri, 5_000));
  });
  afterAll(async () => {
    await dropDatabaseAndPartitions();
    await mongoose.disconnect();
  });
  return { name, uri };
}
