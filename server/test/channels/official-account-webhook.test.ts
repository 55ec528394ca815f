import { Message } from '../../src/conversation/models';
import type { KnowledgeReader } from '../../src/conversation/pipeline';
import { spec } from '../fixtures/wechat';
import { useTestDatabase } from '../support/database';
import { scriptedUnderstander } from '../support/fake-understander';
import { OA_GH_ID, postPush, replyContent, startOfficialAccountHarness, textPushXml } from '../support/official-account';

useTestDatabase(__filename);

const knowledge: KnowledgeReader = {
  getSubIntent: (id) => ({ id, name: id === 'a/b/report' ? '线上报案' : '理赔进度', scenarioId: 'a', sensitive: false, needsProduct: false }),
  selectSolution: async (id) => ({ id: `${id}|*|*`, text: id === 'a/b/report' ? '请在小程序「理赔」页在线报案。' : '理赔进度可在「我的理赔」查看。' }),
};

const slowGate: { release?: () => void } = {};
const understander = scriptedUnderstander([
  { when: '怎么报案', candidates: [{ subIntentId: 'a/b/report', name: '线上报案', confidence: 0.95 }] },
  { when: 'abcdteT', candidates: [{ subIntentId: 'a/b/report', name: '线上报案', confidence: 0.95 }] },
  { when: '理赔', candidates: [
    { subIntentId: 'a/b/report', name: '线上报案', confidence: 0.3 },
    { subIntentId: 'a/b/progress', name: '理赔进度', confidence: 0.28 },
  ] },
]);
const slowUnderstander = {
  async understand(text: string, now: Date) {
    if (text.includes('慢')) await new Promise<void>((resolve) => { slowGate.release = resolve; });
    return understander.understand(text, now);
  },
};

describe('Official Account webhook, with the spec vectors', () => {
  const t1 = spec.T1;
  let harness: Awaited<ReturnType<typeof startOfficialAccountHarness>>;
  beforeAll(async () => {
    harness = await startOfficialAccountHarness({ understander, knowledge, now: () => new Date(Number(t1.timestamp) * 1000) });
  });
  afterAll(() => harness.stop());

  it('answers URL verification with exactly echostr (T1)', async () => {
    const res = await fetch(`${harness.baseUrl}/wechat/oa?signature=${t1.plainSignature}&timestamp=${t1.timestamp}&nonce=${t1.nonce}&echostr=${t1.echostr}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(t1.echostr);
  });

  it('refuses URL verification with a wrong signature', async () => {
    const res = await fetch(`${harness.baseUrl}/wechat/oa?signature=${'0'.repeat(40)}&timestamp=${t1.timestamp}&nonce=${t1.nonce}&echostr=${t1.echostr}`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(t1.echostr);
  });

  it('opens the safe-mode push of T1 and replies encrypted', async () => {
    const envelope = `<xml><ToUserName><![CDATA[${OA_GH_ID}]]></ToUserName><Encrypt><![CDATA[${t1.encrypt}]]></Encrypt></xml>`;
    const url = `${harness.baseUrl}/wechat/oa?signature=${t1.plainSignature}&timestamp=${t1.timestamp}&nonce=${t1.nonce}&openid=oyORnuP8q7ou2gfYjqLzSIWZf0rs&encrypt_type=aes&msg_signature=${t1.msgSignature}`;
    const res = await fetch(url, { method: 'POST', body: envelope });
    expect(res.status).toBe(200);
    const body = await res.text();
    const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/.exec(body)![1];
    const signature = /<MsgSignature><!\[CDATA\[(\w+)\]\]><\/MsgSignature>/.exec(body)![1];
    expect(signature).toBe(harness.crypt.signature(t1.timestamp, t1.nonce, encrypt));
    const inner = harness.crypt.decrypt(encrypt);
    expect(inner).toContain('<ToUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></ToUserName>');
    expect(inner).toContain(`<FromUserName><![CDATA[${OA_GH_ID}]]></FromUserName>`);
    expect(replyContent(body, harness.crypt)).toBe('请在小程序「理赔」页在线报案。');
    expect(await Message.findById('official-account:msg:6054768590064713728').lean()).toMatchObject({ text: 'abcdteT', status: 'done' });
  });
});

describe('Official Account webhook conversation', () => {
  let harness: Awaited<ReturnType<typeof startOfficialAccountHarness>>;
  // An account in plaintext mode (no EncodingAESKey configured); safe mode has the spec vectors above.
  beforeAll(async () => { harness = await startOfficialAccountHarness({ understander: slowUnderstander, knowledge, budgetMs: 300, settings: { aesKey: undefined } }); });
  afterAll(() => harness.stop());

  it('answers a question passively in plaintext mode', async () => {
    const res = await postPush(harness.baseUrl, textPushXml('user-plain', '怎么报案'));
    expect(res.status).toBe(200);
    expect(replyContent(await res.text())).toBe('请在小程序「理赔」页在线报案。');
  });

  it('offers numbered choices, then answers "2"', async () => {
    const first = await postPush(harness.baseUrl, textPushXml('user-choice', '理赔的事'));
    expect(replyContent(await first.text())).toBe('您想问的是下面哪一个？请回复数字：\n1. 线上报案\n2. 理赔进度');
    const second = await postPush(harness.baseUrl, textPushXml('user-choice', '2'));
    expect(replyContent(await second.text())).toBe('理赔进度可在「我的理赔」查看。');
  });

  it('gives a retry the same reply and runs the pipeline once', async () => {
    const xml = textPushXml('user-retry', '怎么报案');
    const asked = understander.asked.length;
    const first = await (await postPush(harness.baseUrl, xml)).text();
    const retry = await (await postPush(harness.baseUrl, xml)).text();
    expect(replyContent(retry)).toBe(replyContent(first));
    expect(understander.asked.length).toBe(asked + 1);
  });

  it('says success when the answer is slow and sends it once as a customer-service message', async () => {
    harness.wechat.userMessaged('user-slow');
    const xml = textPushXml('user-slow', '慢一点 怎么报案');
    const res = await postPush(harness.baseUrl, xml);
    expect(await res.text()).toBe('success');
    // WeChat got `success`; a retry meanwhile must not produce a second answer.
    const retry = await postPush(harness.baseUrl, xml);
    expect(await retry.text()).toBe('success');
    slowGate.release!();
    await harness.delivery.settled();
    const sent = harness.wechat.sent.custom.filter((m) => m.touser === 'user-slow');
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toMatchObject({ msgtype: 'text', text: { content: '请在小程序「理赔」页在线报案。' } });
    const late = await postPush(harness.baseUrl, xml);
    expect(await late.text()).toBe('success');
    expect(harness.wechat.sent.custom.filter((m) => m.touser === 'user-slow')).toHaveLength(1);
  });

  it('a push WeChat refused before taking it (rate limit) stays owed, and the next sweep sends it once', async () => {
    harness.wechat.userMessaged('user-limited');
    harness.wechat.failNext({ path: '/cgi-bin/message/custom/send', toUser: 'user-limited', errcode: 45009 });
    const res = await postPush(harness.baseUrl, textPushXml('user-limited', '慢 怎么报案'));
    expect(await res.text()).toBe('success');
    slowGate.release!();
    await harness.delivery.settled();
    const sent = () => harness.wechat.sent.custom.filter((m) => m.touser === 'user-limited');
    expect(sent()).toHaveLength(0);
    expect(await harness.delivery.recover(0)).toBe(1);
    expect(sent()).toHaveLength(1);
    expect(sent()[0].body).toMatchObject({ text: { content: '请在小程序「理赔」页在线报案。' } });
    expect(await harness.delivery.recover(0)).toBe(0);
    expect(sent()).toHaveLength(1);
  });

  it('hands off on 转人工 and records the reason', async () => {
    const res = await postPush(harness.baseUrl, textPushXml('user-human', '转人工'));
    expect(replyContent(await res.text())).toContain('人工客服');
    const stored = await Message.findOne({ userId: 'user-human' }).lean();
    expect(stored?.decision).toMatchObject({ action: 'handoff', reasons: ['explicit_request'] });
  });
});

describe('Official Account webhook refuses bad input and writes nothing', () => {
  let harness: Awaited<ReturnType<typeof startOfficialAccountHarness>>;
  beforeAll(async () => { harness = await startOfficialAccountHarness({ understander, knowledge, settings: { aesKey: undefined } }); });
  afterAll(() => harness.stop());
  const count = () => Message.countDocuments({ userId: 'attacker' });

  it.each([
    ['a wrong plain signature', () => postPush(harness.baseUrl, textPushXml('attacker', '怎么报案'), { token: 'wrongtoken' }), 401],
    ['a timestamp far outside the window', () => postPush(harness.baseUrl, textPushXml('attacker', '怎么报案'), { timestamp: '1409735669' }), 401],
    ['malformed XML', () => postPush(harness.baseUrl, '<xml><ToUserName>'), 400],
    ['a DOCTYPE with entities', () => postPush(harness.baseUrl, '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><ToUserName>&lol2;</ToUserName></xml>'), 400],
    ['an oversized body', () => postPush(harness.baseUrl, `<xml><Content><![CDATA[${'长'.repeat(30_000)}]]></Content></xml>`), 413],
  ])('refuses %s', async (_name, send, status) => {
    const before = await count();
    const res = await send();
    expect(res.status).toBe(status);
    const body = await res.text();
    expect(body).not.toMatch(/stack|at \w+ \(/);
    expect(await count()).toBe(before);
  });

  it('refuses a message encrypted for another AppID', async () => {
    const { WXBizMsgCrypt } = await import('../../src/wechat/crypto');
    const foreign = new WXBizMsgCrypt({ token: 'spamtest', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', receiveId: 'wxSOMEONEELSE00' });
    const res = await postPush(harness.baseUrl, textPushXml('attacker', '怎么报案'), { safe: foreign });
    expect(res.status).toBe(401);
    expect(await count()).toBe(0);
  });
});

describe('an Official Account in compat or safe mode (EncodingAESKey set)', () => {
  let harness: Awaited<ReturnType<typeof startOfficialAccountHarness>>;
  beforeAll(async () => { harness = await startOfficialAccountHarness({ understander, knowledge }); });
  afterAll(() => harness.stop());

  // WeChat encrypts every push in those modes; a plaintext push's signature does not cover its body, so a replayed
  // query with a body of someone's choosing (another follower's openid, "我的保单") must not be answered.
  it('refuses a plaintext push, even with a valid signature, and writes nothing', async () => {
    const res = await postPush(harness.baseUrl, textPushXml('victim', '我的保单'));
    expect(res.status).toBe(401);
    expect(await Message.countDocuments({ userId: 'victim' })).toBe(0);
    const encrypted = await postPush(harness.baseUrl, textPushXml('victim', '怎么报案'), { safe: harness.crypt });
    expect(replyContent(await encrypted.text(), harness.crypt)).toBe('请在小程序「理赔」页在线报案。');
  });
});
