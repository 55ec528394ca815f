import mongoose from 'mongoose';
import { connectDatabase, FERRETDB_MAX_POOL_SIZE, isFerretdb, withDatabaseName } from '../../src/db/connection';
import { testServerUri } from '../support/database';

describe('connection strings', () => {
  it.each([
    ['mongodb://127.0.0.1:27017/', 'cs', {}, 'mongodb://127.0.0.1:27017/cs'],
    ['mongodb://127.0.0.1:27017', 'cs', {}, 'mongodb://127.0.0.1:27017/cs'],
    ['mongodb://127.0.0.1:27017/mine', 'cs', {}, 'mongodb://127.0.0.1:27017/mine'],
    ['mongodb://127.0.0.1:27017/mine', 'cs', { replace: true }, 'mongodb://127.0.0.1:27017/cs'],
    ['mongodb://u:p%40ss@a:27017,b:27017,c:27017/?replicaSet=rs0&maxPoolSize=50', 'cs', {}, 'mongodb://u:p%40ss@a:27017,b:27017,c:27017/cs?replicaSet=rs0&maxPoolSize=50'],
    ['mongodb+srv://cluster0.example.net/prod?retryWrites=true', 'scratch', { replace: true }, 'mongodb+srv://cluster0.example.net/scratch?retryWrites=true'],
  ])('puts the database name into %s', (uri, name, options, expected) => {
    expect(withDatabaseName(uri, name, options)).toBe(expected);
  });

  it('refuses what is not a MongoDB connection string', () => {
    expect(() => withDatabaseName('postgres://x/y', 'cs')).toThrow('not a MongoDB connection string');
  });
});

describe('pool size for the database in use', () => {
  afterEach(() => mongoose.disconnect());

  it('keeps a small pool on FerretDB (one SQLite writer) and the driver default on MongoDB; maxPoolSize in the URI wins', async () => {
    const uri = withDatabaseName(testServerUri(), `t_pool_${process.pid}`);
    const ferret = await isFerretdb(uri);
    await connectDatabase(uri);
    const poolSize = (mongoose.connection.getClient().options as { maxPoolSize: number }).maxPoolSize;
    expect(poolSize).toBe(ferret ? FERRETDB_MAX_POOL_SIZE : 100);
    await mongoose.disconnect();

    await connectDatabase(`${uri}?maxPoolSize=3`);
    expect((mongoose.connection.getClient().options as { maxPoolSize: number }).maxPoolSize).toBe(3);
  });
});
