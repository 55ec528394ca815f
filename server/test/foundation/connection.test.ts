import mongoose from 'mongoose';
import { connectDatabase, FERRETDB_MAX_POOL_SIZE, isFerretdb, withDatabaseName } from '../../src/db/connection';
import { dropDatabaseAndPartitions, partitionDatabaseName, writtenOnEveryMessage, type WritePartition } from '../../src/db/write-partitions';
import { Message, MessageClaim } from '../../src/conversation/models';
import { FiveMinuteBucket } from '../../src/analytics/buckets';
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

describe('write-heavy collections', () => {
  const uniqueThingSchema = new mongoose.Schema({ _id: String, code: String });
  uniqueThingSchema.index({ code: 1 }, { unique: true });
  // A partition of the test's own, beside the server's (a name the server's models never use).
  const UniqueThing = writtenOnEveryMessage(mongoose.model('UniqueThing', uniqueThingSchema), 'test' as WritePartition);

  afterEach(() => mongoose.disconnect());

  async function collectionsOf(databaseName: string): Promise<string[]> {
    const collections = await mongoose.connection.getClient().db(databaseName).listCollections().toArray();
    return collections.map((c) => c.name).sort();
  }

  it('live in databases of their own on FerretDB (one SQLite file, one writer each) and in the main one on MongoDB', async () => {
    const name = `t_partitions_${process.pid}`;
    const uri = withDatabaseName(testServerUri(), name);
    const ferret = await isFerretdb(uri);
    await connectDatabase(uri);
    await Message.collection.insertOne({ _id: 'm1' } as never);
    await MessageClaim.collection.insertOne({ _id: 'c1' } as never);
    await FiveMinuteBucket.collection.insertOne({ _id: 'b1' } as never);
    await UniqueThing.create({ _id: 'u1', code: 'A' });
    await expect(UniqueThing.create({ _id: 'u2', code: 'A' })).rejects.toMatchObject({ code: 11000 });
    const Cold = mongoose.models.ColdThing ?? mongoose.model('ColdThing', new mongoose.Schema({ _id: String }));
    await Cold.create({ _id: 'x' });

    if (ferret) {
      expect(await collectionsOf(name)).not.toEqual(expect.arrayContaining(['messages']));
      expect(await collectionsOf(name)).toEqual(expect.arrayContaining(['coldthings']));
      expect(await collectionsOf(`${name}-messages`)).toEqual(['messages']);
      expect(await collectionsOf(`${name}-claims`)).toEqual(['messageclaims']);
      expect(await collectionsOf(`${name}-metrics`)).toEqual(expect.arrayContaining(['metricbucket5ms']));
    }
    // Secondary indexes only where a query can use them (MongoDB); unique ones everywhere, since they enforce.
    const indexKeys = async (db: string, collection: string) =>
      (await mongoose.connection.getClient().db(db).collection(collection).indexes()).map((i) => Object.keys(i.key).join(','));
    expect(await indexKeys(ferret ? `${name}-messages` : name, 'messages')).toEqual(ferret ? ['_id'] : expect.arrayContaining(['_id', 'conversationId,createdAt', 'conversationId,updatedAt']));
    expect(await indexKeys(ferret ? `${name}-test` : name, 'uniquethings')).toEqual(expect.arrayContaining(['_id', 'code']));
    if (!ferret) {
      expect(await collectionsOf(name)).toEqual(expect.arrayContaining(['coldthings', 'messageclaims', 'messages', 'metricbucket5ms']));
    }
    expect(await Message.findById('m1').lean()).toEqual({ _id: 'm1' });

    await dropDatabaseAndPartitions();
    const left = (await mongoose.connection.getClient().db('admin').admin().listDatabases()).databases.map((d) => d.name);
    expect(left.filter((d) => d.startsWith(name))).toEqual([]);
  });

  it('follow the connection to another database', async () => {
    await connectDatabase(withDatabaseName(testServerUri(), `t_partitions_a_${process.pid}`));
    await mongoose.disconnect();
    const second = `t_partitions_b_${process.pid}`;
    await connectDatabase(withDatabaseName(testServerUri(), second));
    await Message.collection.insertOne({ _id: 'm2' } as never);
    const ferret = await isFerretdb(testServerUri());
    const home = ferret ? `${second}-messages` : second;
    expect(await mongoose.connection.getClient().db(home).collection('messages').countDocuments({ _id: 'm2' } as never)).toBe(1);
    await dropDatabaseAndPartitions();
  });

  it('are dropped with a scratch database also when another process wrote them (a benchmark\'s server)', async () => {
    const name = `t_partitions_c_${process.pid}`;
    await connectDatabase(withDatabaseName(testServerUri(), name));
    const client = mongoose.connection.getClient();
    // What the server a benchmark starts leaves beside its scratch database; this process placed no model there.
    for (const partition of ['deliveries', 'states']) await client.db(`${name}-${partition}`).collection('rows').insertOne({ _id: 'r' } as never);
    await client.db(`${name}-other`).collection('rows').insertOne({ _id: 'r' } as never);
    await dropDatabaseAndPartitions();
    const left = (await client.db('admin').admin().listDatabases()).databases.map((d) => d.name).filter((d) => d.startsWith(name));
    // Only the partitions go: a database merely sharing the prefix stays.
    expect(left).toEqual([`${name}-other`]);
    await client.db(`${name}-other`).dropDatabase();
    await mongoose.disconnect();
  });

  it('refuse a database name too long to carry a partition suffix, naming it', () => {
    const long = 'x'.repeat(60);
    expect(() => partitionDatabaseName(long, 'messages')).toThrow(`database name "${long}" is too long`);
  });
});
