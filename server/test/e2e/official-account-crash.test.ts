import { Message } from '../../src/conversation/models';
import { PendingPush } from '../../src/channels/official-account/reply-delivery';
import { withDatabaseName } from '../../src/db/connection';
import { WXBizMsgCrypt } from '../../src/wechat/crypto';
import { FAKE_APP, FakeWeChatApi } from '../fakes/wechat-api';
import { useTestDatabase } from '../support/database';
import { OA_AES_KEY, OA_TOKEN, postPush, replyContent, textPushXml } from '../support/official-account';
import { startServerProcess, type ServerProcess } from '../support/process';

const db = useTestDatabase(__filename);
jest.setTimeout(180_000);

const loadMessages = () => Message.find({ direction: 'in' }).lean();

const QUESTIONS = ['怎么报案', '犹豫期内退保能全额退吗', '理赔需要什么材料', '发票怎么开', '转人工', '你好', '保单丢了怎么办', '理赔'];

/**
 * Nothing lost, nothing twice: the server is SIGKILLed while Official Account messages are in flight, started
 * again, and WeChat retries. Every message ends answered (or handed off) exactly once: one passive reply, or one
 * customer-service message — never both, never two.
 */
describe('Official Account across a crash', () => {
  let wechat: FakeWeChatApi;
  let server: ServerProcess;
  const crypt = new WXBizMsgCrypt({ token: OA_TOKEN, encodingAESKey: OA_AES_KEY, receiveId: FAKE_APP.appId });
  const env = () => ({
    MONGODB_URI: withDatabaseName(db.uri, db.name, { replace: true }),
    WECHAT_API_BASE: wechat.baseUrl,
    WECHAT_OA_APPID: FAKE_APP.appId, WECHAT_OA_SECRET: FAKE_APP.secret, WECHAT_OA_TOKEN: OA_TOKEN, WECHAT_OA_AES_KEY: OA_AES_KEY,
    CONVERSATION_STALE_CLAIM_MS: '1500', RECOVERY_INTERVAL_MS: '300', LOG_LEVEL: process.env.E2E_SERVER_LOG_LEVEL ?? 'warn',
  });

  beforeAll(async () => { wechat = await FakeWeChatApi.start(); });
  afterAll(async () => {
    if (process.env.E2E_SERVER_LOG_LEVEL) process.stderr.write(server?.output() ?? '');
    if (process.env.E2E_SERVER_LOG_LEVEL) process.stderr.write(server?.output() ?? '');
    if (server) { server.child.kill('SIGKILL'); await server.exited; }
    await wechat.stop();
  });

  it('answers every message exactly once', async () => {
    const started = Date.now();
    const phase = (name: string) => process.stderr.write(`[crash test] ${((Date.now() - started) / 1000).toFixed(1)} s: ${name}\n`);
    server = startServerProcess(env());
    const port = await server.listening;
    const url = `http://127.0.0.1:${port}`;
    const count = 150;
    const pushes = Array.from({ length: count }, (_, i) => ({
      user: `crash-user-${i}`, xml: textPushXml(`crash-user-${i}`, QUESTIONS[i % QUESTIONS.length], 9_100_000_000_000_000_000n + BigInt(i)),
    }));
    for (const p of pushes) wechat.userMessaged(p.user);

    const passive = new Map<string, string>();
    const record = async (p: (typeof pushes)[number], res: Response | undefined) => {
      if (!res || res.status !== 200) return;
      const body = await res.text();
      const content = body === 'success' ? undefined : replyContent(body, crypt);
      if (content) {
        const earlier = passive.get(p.user);
        expect(earlier === undefined || earlier === content).toBe(true); // a retry gets the same reply
        passive.set(p.user, content);
      }
    };

    // Fire everything, and kill the server while the answers are being worked out.
    let cutOff = 0;
    let firstAnswered!: () => void;
    const someAnswered = new Promise<void>((resolve) => { firstAnswered = resolve; });
    const inFlight = pushes.map((p) => postPush(url, p.xml, { safe: crypt }).then(async (res) => { firstAnswered(); await record(p, res); }, () => { cutOff++; }));
    // Kill as soon as the first answers come back: the rest are still being worked on.
    phase('server up, pushes sent');
    await someAnswered;
    phase('first answer back: SIGKILL');
    server.child.kill('SIGKILL');
    await server.exited;
    await Promise.all(inFlight);
    // The kill must really have cut requests off mid-flight, or this test proves nothing.
    expect(cutOff).toBeGreaterThan(0);

    phase(`in-flight requests ended (${cutOff} cut off)`);
    server = startServerProcess(env());
    const restarted = `http://127.0.0.1:${await server.listening}`;
    // WeChat retries (here: every message, which is more than WeChat would).
    const refused: string[] = [];
    await Promise.all(pushes.map((p) => postPush(restarted, p.xml, { safe: crypt }).then(async (res) => {
      if (res.status !== 200) refused.push(`${p.user}: ${res.status} ${await res.clone().text()}`);
      await record(p, res);
    }, (err: Error) => { refused.push(`${p.user}: ${err.message}`); })));
    phase('restarted; retries answered');
    expect(refused).toEqual([]);

    // Let the recovery sweep finish what a dead process still owed.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await PendingPush.countDocuments({})) > 0) await new Promise((r) => setTimeout(r, 200));
    phase('owed pushes settled');
    expect(await PendingPush.countDocuments({})).toBe(0);

    // One read of every message (a filter on userId would scan the collection once per user on FerretDB).
    const byUser = new Map<string, Array<Awaited<ReturnType<typeof loadMessages>>[number]>>();
    for (const message of await loadMessages()) byUser.set(message.userId, [...(byUser.get(message.userId) ?? []), message]);
    for (const p of pushes) {
      const stored = byUser.get(p.user) ?? [];
      expect(stored).toHaveLength(1);
      expect(stored[0].status).toBe('done');
      const pushed = wechat.sent.custom.filter((m) => m.touser === p.user).length;
      const answeredPassively = passive.has(p.user) ? 1 : 0;
      if (answeredPassively + pushed !== 1) {
        const { DeliveryClaim } = await import('../../src/channels/official-account/reply-delivery');
        console.log(JSON.stringify({ user: p.user, stored: stored[0], claims: await DeliveryClaim.find({ _id: { $regex: `${stored[0]._id}$` } }).lean(), pushed }, null, 1));
      }
      expect({ user: p.user, deliveries: answeredPassively + pushed }).toEqual({ user: p.user, deliveries: 1 });
    }
  });
});
