import { randomBytes } from 'node:crypto';
import { ConversationState, Message, MessageClaim } from '../../src/conversation/models';
import type { KnowledgeReader } from '../../src/conversation/pipeline';
import { computeCallbackSignature } from '../../src/wechat/crypto';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';
import { OA_GH_ID, OA_TOKEN, startOfficialAccountHarness, textPushXml } from '../support/official-account';

useTestDatabase(__filename);
jest.setTimeout(240_000);

const knowledge: KnowledgeReader = {
  getSubIntent: () => undefined,
  selectSolution: async () => undefined,
};

/** A small seeded generator, so a failing case can be replayed from its seed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => { state = (state * 1664525 + 1013904223) >>> 0; return state / 2 ** 32; };
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  return { next, pick, int: (n: number) => Math.floor(next() * n) };
}

const HOSTILE_FRAGMENTS = [
  '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>', '<!ENTITY xxe SYSTEM "file:///etc/passwd">', '&xxe;', '&b;',
  '<![CDATA[', ']]>', '<xml>', '</xml>', '<Encrypt>', '</Encrypt>', '<MsgType>text</MsgType>', '<MsgType><![CDATA[event]]></MsgType>',
  '<Event>subscribe</Event>', '<MsgId>99999999999999999999999</MsgId>', '<Content>', '</Content>', '\u0000', '\uFFFF', '💥', '中文',
  '<?xml version="1.0"?>', '<a><b><c><d>', '"', "'", '%s%n', '${7*7}', '{{7*7}}', '<script>', '\r\n', ' '.repeat(50),
];

describe('Official Account webhook under hostile input', () => {
  let harness: Awaited<ReturnType<typeof startOfficialAccountHarness>>;
  beforeAll(async () => { harness = await startOfficialAccountHarness({ understander: scriptedUnderstander([]), knowledge }); });
  afterAll(() => harness.stop());

  it('survives 10,000 generated hostile bodies and query strings: no 5xx, nothing written', async () => {
    const rng = generator(20261123);
    const statuses = new Map<number, number>();
    const timestamp = () => String(Math.floor(Date.now() / 1000));
    const cases = 10_000;
    const batch = 50;
    const accepted = new Set<string>();
    for (let start = 0; start < cases; start += batch) {
      await Promise.all(
        Array.from({ length: batch }, async (_, offset) => {
          const sender = `fuzz-${start + offset}`;
          const parts = Array.from({ length: 1 + rng.int(8) }, () => rng.pick(HOSTILE_FRAGMENTS));
          const bodyKind = rng.int(5);
          const body =
            bodyKind === 0 ? parts.join('')
            : bodyKind === 1 ? randomBytes(rng.int(400)).toString(rng.pick(['binary', 'base64', 'hex'] as const))
            : bodyKind === 2 ? textPushXml(sender, parts.join('')).replace(rng.pick(['<xml>', '</xml>', '<MsgId>', 'CDATA']), rng.pick(HOSTILE_FRAGMENTS))
            : bodyKind === 3 ? `<xml><ToUserName><![CDATA[${OA_GH_ID}]]></ToUserName><Encrypt><![CDATA[${randomBytes(rng.int(300)).toString('base64')}]]></Encrypt></xml>`
            : '';
          const ts = rng.pick([timestamp(), '0', '-1', 'abc', '99999999999999999999', '']);
          const nonce = rng.pick(['1', '', 'x'.repeat(300), '%00', '中文']);
          const validSignature = rng.next() < 0.3;
          const signature = validSignature ? computeCallbackSignature(OA_TOKEN, ts, nonce) : rng.pick(['', '0', 'z'.repeat(40), randomBytes(20).toString('hex')]);
          const params = new URLSearchParams({ signature, timestamp: ts, nonce });
          if (rng.next() < 0.5) params.set('encrypt_type', rng.pick(['aes', 'AES', 'raw', '']));
          if (rng.next() < 0.5) params.set('msg_signature', rng.pick(['', randomBytes(20).toString('hex'), signature]));
          if (rng.next() < 0.2) params.append('signature', 'second');
          const method = rng.pick(['POST', 'POST', 'POST', 'GET']);
          if (method === 'GET') params.set('echostr', rng.pick(parts));
          const res = await fetch(`${harness.baseUrl}/wechat/oa?${params}`, {
            method, body: method === 'GET' ? undefined : body, headers: { 'content-type': rng.pick(['text/xml', 'application/json', 'application/xml']) },
          });
          await res.arrayBuffer();
          if (res.status === 200) accepted.add(sender);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }),
      );
    }
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(cases);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    // Only a well-formed, correctly signed message can be stored; every refused request wrote nothing.
    const writers = await Message.distinct('userId');
    expect(writers.filter((userId) => !accepted.has(String(userId)))).toEqual([]);
    const conversations = await ConversationState.distinct('userId');
    expect(conversations.filter((userId) => !accepted.has(String(userId)))).toEqual([]);
    const claimed = await MessageClaim.distinct('conversationId');
    expect(claimed.filter((id) => !accepted.has(String(id).replace(/^official-account:/, '')))).toEqual([]);
    const health = await fetch(`${harness.baseUrl}/wechat/oa?signature=x&timestamp=1&nonce=1&echostr=1`);
    expect(health.status).toBe(401);
  });
});
