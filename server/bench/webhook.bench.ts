import { randomInt } from 'node:crypto';
import autocannon from 'autocannon';
import { readDemoOfficialAccount } from '../src/channels/official-account/settings';
import { readKnowledgeDir } from '../src/knowledge/source';
import { computeCallbackSignature, WXBizMsgCrypt } from '../src/wechat/crypto';
import { CliUsageError } from '../src/cli/args';
import { startServerProcess } from '../test/support/process';
import type { BenchRow } from './table';

/** Longest load phase: every push of a phase is signed before it starts, and the webhook accepts 300 s of clock skew. */
export const WEBHOOK_PHASE_LIMIT_S = 240;

/** `--webhook-seconds` as given (default 15, 5 with `--small`): a whole number of seconds up to the phase limit. */
export function webhookPhaseSeconds(given: string | boolean | undefined, small: boolean): number {
  if (given === undefined) return small ? 5 : 15;
  const seconds = Number(given);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > WEBHOOK_PHASE_LIMIT_S) {
    throw new CliUsageError(`--webhook-seconds: a whole number from 1 to ${WEBHOOK_PHASE_LIMIT_S}, got ${String(given)}`);
  }
  return seconds;
}

/** A few frequent questions, as most of an Official Account's traffic is. */
const FREQUENT_QUESTIONS = ['犹豫期内退保能全额退吗', '怎么报案', '理赔需要哪些材料', '保单丢了怎么办', '发票怎么开', '你好', '续保要交多少钱', '等待期多久'];

/**
 * Signed, encrypted safe-mode pushes, each a new message from one of many followers (`followers` names them apart,
 * so two loads on one server meet no conversation of the other).
 */
function encryptedPushes(count: number, questions: readonly string[], followers: string): Array<{ path: string; body: string }> {
  const account = readDemoOfficialAccount();
  const crypt = new WXBizMsgCrypt({ token: account.token, encodingAESKey: account.aesKey, receiveId: account.appId });
  const base = BigInt(Date.now()) * 1000n + BigInt(randomInt(1e6)) * 1_000_000n;
  return Array.from({ length: count }, (_, i) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomInt(1e9));
    const xml = `<xml><ToUserName><![CDATA[${account.ghId}]]></ToUserName><FromUserName><![CDATA[o_${followers}_${i % 5000}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${questions[i % questions.length]}]]></Content><MsgId>${base + BigInt(i)}</MsgId></xml>`;
    const encrypt = crypt.encrypt(xml);
    const query = new URLSearchParams({
      signature: computeCallbackSignature(account.token, timestamp, nonce), timestamp, nonce,
      encrypt_type: 'aes', msg_signature: computeCallbackSignature(account.token, timestamp, nonce, encrypt),
    });
    return { path: `/wechat/oa?${query}`, body: `<xml><ToUserName><![CDATA[${account.ghId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` };
  });
}

async function load(url: string, options: { connections: number; seconds: number; requests?: Array<{ path: string; body: string }> }) {
  let next = 0;
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    ...(options.requests
      ? {
          method: 'POST' as const,
          headers: { 'content-type': 'text/xml' },
          requests: [{
            setupRequest: (request: autocannon.Request) => {
              const push = options.requests![next++ % options.requests!.length];
              return { ...request, method: 'POST', path: push.path, body: push.body };
            },
          }],
        }
      : {}),
  });
  return {
    'req/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Waits until the server's intent model matches its knowledge: training in the background would share the load. */
async function intentModelCurrent(url: string, timeoutMs = 15 * 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = 'unknown';
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.json() as Promise<{ intentModel?: string }>).catch(() => ({ intentModel: undefined }));
    state = ready.intentModel ?? 'unknown';
    if (state === 'current') return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the server's intent model was still ${state} after ${timeoutMs / 60_000} min`);
}

/** The safe-mode webhook under load (100 connections), with frequent and with varied questions, next to a bare Koa endpoint, on one running server. */
export async function runWebhookBench(mongodbUri: string, seconds = 15): Promise<BenchRow[]> {
  // BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the server under load.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const server = startServerProcess({ MONGODB_URI: mongodbUri, PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'development' }, undefined, nodeArgs);
  const port = await server.listening;
  try {
    const url = `http://127.0.0.1:${port}`;
    await intentModelCurrent(url);
    const count = Math.max(20_000, seconds * 3_000);
    await load(`${url}/healthz`, { connections: 10, seconds: 2 }); // warm-up
    const bare = await load(`${url}/healthz`, { connections: 100, seconds });
    // Each load's pushes are signed just before it, so their timestamps stay within the webhook's window throughout.
    const webhook = await load(url, { connections: 100, seconds, requests: encryptedPushes(count, FREQUENT_QUESTIONS, 'frequent') });
    // Every phrasing in knowledge/ (about 2,900, among them complaints and requests for a human): more varied text.
    const everyPhrasing = readKnowledgeDir().subIntents.flatMap((sub) => sub.questions);
    const variedWebhook = await load(url, { connections: 100, seconds, requests: encryptedPushes(count, everyPhrasing, 'varied') });
    return [
      { endpoint: 'GET /healthz (bare Koa)', ...bare },
      { endpoint: 'POST /wechat/oa (safe mode, full pipeline), frequent questions', ...webhook },
      { endpoint: 'POST /wechat/oa (safe mode, full pipeline), every knowledge phrasing', ...variedWebhook },
      { endpoint: 'ratio webhook (frequent) / bare', 'req/s': Number((webhook['req/s'] / Math.max(1, bare['req/s'])).toFixed(3)), 'p50 ms': '', 'p99 ms': '', non2xx: '', errors: '' },
    ];
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}
