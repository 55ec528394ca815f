import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { launchDatabase } from '../../src/db/launcher';
import { defaultLauncherDeps } from '../../src/db/default-launcher';
import { withDatabaseName } from '../../src/db/connection';
import { startServerProcess } from '../support/process';
import { testServerUri } from '../support/database';
import { OA_AES_KEY, OA_TOKEN, postPush, textPushXml } from '../support/official-account';
import { FAKE_APP, FakeWeChatApi } from '../fakes/wechat-api';
import { WXBizMsgCrypt } from '../../src/wechat/crypto';

jest.setTimeout(60_000);

describe('starting the server', () => {
  it('exits non-zero with one message naming each bad variable', async () => {
    const server = startServerProcess({ PORT: 'abc', LOG_LEVEL: 'shouty' });
    expect(await server.exited).toBe(1);
    const out = server.output();
    expect(out).toContain('Invalid configuration');
    expect(out).toMatch(/PORT:/);
    expect(out).toMatch(/LOG_LEVEL:/);
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('fails within seconds with one clear line when MONGODB_URI cannot be reached', async () => {
    const started = Date.now();
    const server = startServerProcess({ MONGODB_URI: 'mongodb://127.0.0.1:1/x', PORT: '0' });
    expect(await server.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    const lines = server.output().trim().split('\n').filter((line) => line.trim());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cannot reach the database at mongodb:\/\/127\.0\.0\.1:1\/x .*Check MONGODB_URI\.$/);
  });

  it('comes up on the test database, reports ready, and stops cleanly on SIGTERM', async () => {
    const server = startServerProcess({ MONGODB_URI: withDatabaseName(testServerUri(), `t_startup_${process.pid}`), PORT: '0' });
    const port = await server.listening;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; intentModel: string };
    expect(body.status).toBe('ready');
    expect(['current', 'outdated', 'missing']).toContain(body.intentModel);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });
});

/** Forwards TCP to `target` until `freeze()`, after which it keeps every connection open and passes nothing on. */
async function freezableProxy(target: URL): Promise<{ uri: (dbName: string) => string; freeze(): void; close(): void }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on('data', (chunk) => { if (!frozen) to.write(chunk); });
      from.on('error', () => undefined);
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    uri: (dbName) => `mongodb://127.0.0.1:${port}/${dbName}?directConnection=true`,
    freeze: () => { frozen = true; },
    close: () => { for (const socket of sockets) socket.destroy(); server.close(); },
  };
}

describe('stopping while the database does not answer', () => {
  // The proxy forwards to one host: an operator's replica-set or SRV URI (TEST_DATABASE_KIND=uri) is not proxied.
  const oneHost = /^mongodb:\/\/[^,/@?]+:\d+(\/|$)/.test(process.env.TEST_DATABASE_SERVER_URI ?? '');
  (oneHost ? it : it.skip)('gives up after the grace period instead of waiting on it, and says what it was still waiting for', async () => {
    const proxy = await freezableProxy(new URL(testServerUri()));
    const wechat = await FakeWeChatApi.start();
    try {
      const server = startServerProcess({
        MONGODB_URI: proxy.uri(`t_frozen_${process.pid}`), PORT: '0', SHUTDOWN_GRACE_MS: '1500', WECHAT_API_BASE: wechat.baseUrl,
        WECHAT_OA_APPID: FAKE_APP.appId, WECHAT_OA_SECRET: FAKE_APP.secret, WECHAT_OA_TOKEN: OA_TOKEN, WECHAT_OA_AES_KEY: OA_AES_KEY,
      });
      const port = await server.listening;
      proxy.freeze();
      // A follower's message now waits on the database, and so does everything that would store it.
      const crypt = new WXBizMsgCrypt({ token: OA_TOKEN, encodingAESKey: OA_AES_KEY, receiveId: FAKE_APP.appId });
      const unanswered = postPush(`http://127.0.0.1:${port}`, textPushXml('frozen-user', '怎么报案'), { safe: crypt }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the request reaches the server in milliseconds
      const stopping = Date.now();
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(1);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      expect(server.output()).toMatch(/"waitingFor":"[^"]+".*"msg":"shutdown did not finish in time: exiting anyway"/);
      await unanswered;
    } finally {
      proxy.close();
      await wechat.stop();
    }
  });
});

describe('embedded database', () => {
  const embedded = process.env.TEST_DATABASE_KIND !== 'uri';
  (embedded ? it : it.skip)('keeps data across a restart (same data directory)', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cs-persist-'));
    const deps = defaultLauncherDeps(() => {});
    try {
      const first = await launchDatabase({ dataDir }, deps);
      const a = await mongoose.createConnection(withDatabaseName(first.uri, 'persist')).asPromise();
      await a.collection('notes').insertOne({ _id: 'n1' as never, text: '犹豫期' });
      await a.close();
      await first.stop();

      const second = await launchDatabase({ dataDir }, deps);
      const b = await mongoose.createConnection(withDatabaseName(second.uri, 'persist')).asPromise();
      expect(await b.collection('notes').findOne({ _id: 'n1' as never })).toMatchObject({ text: '犹豫期' });
      await b.close();
      await second.stop();
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
