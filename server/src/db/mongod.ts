import { lookup } from 'node:dns/promises';
import fs from 'node:fs/promises';
import type { RunningDatabase } from './launcher';

/** No-network probe: a system mongod (MONGOMS_SYSTEM_BINARY) or one mongodb-memory-server cached earlier. */
export async function probeOfficialMongod(): Promise<string | undefined> {
  const { DryMongoBinary } = await import('mongodb-memory-server-core');
  return DryMongoBinary.locateBinary({ version: process.env.MONGOMS_VERSION ?? '8.2.6' });
}

/** True when the MongoDB download host resolves; an offline machine answers in milliseconds. */
export async function downloadHostReachable(timeoutMs = 2_000): Promise<boolean> {
  if (process.env.MONGOMS_RUNTIME_DOWNLOAD === 'false' || process.env.MONGOMS_RUNTIME_DOWNLOAD === '0') return false;
  const host = process.env.MONGOMS_DOWNLOAD_MIRROR ? new URL(process.env.MONGOMS_DOWNLOAD_MIRROR).hostname : 'fastdl.mongodb.org';
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  return Promise.race([lookup(host).then(() => true, () => false), timeout]);
}

/** Lets mongodb-memory-server download mongod, bounded by our own timeout (a black-holed network costs minutes). */
export async function downloadOfficialMongod(timeoutMs = 120_000): Promise<string | undefined> {
  const { MongoBinary } = await import('mongodb-memory-server-core');
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
  return Promise.race([MongoBinary.getPath({}).catch(() => undefined), timeout]);
}

export async function startOfficialMongod(binary: string, dataDir: string): Promise<RunningDatabase> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  await fs.mkdir(dataDir, { recursive: true });
  const server = await MongoMemoryServer.create({
    binary: { systemBinary: binary },
    instance: { dbPath: dataDir, storageEngine: 'wiredTiger', ip: '127.0.0.1' },
  });
  return {
    kind: 'mongod',
    uri: server.getUri(),
    description: `official mongod ${binary} (data in ${dataDir})`,
    stop: async () => { await server.stop({ doCleanup: false }); },
  };
}
