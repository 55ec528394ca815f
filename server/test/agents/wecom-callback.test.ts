import pino from 'pino';
import { createApp } from '../../src/app';
import { wecomCallbackRoutes, type WeComMemberMessage } from '../../src/channels/wecom/callback';
import { WXBizMsgCrypt } from '../../src/wechat/crypto';
import { spec } from '../fixtures/wechat';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';
import { startDeskHarness, WECOM_AES_KEY, WECOM_TOKEN, type DeskHarness } from './desk-harness';

useTestDatabase(__filename);

const t4 = spec.T4;

async function vectorCallback(nowSeconds: number) {
  const received: WeComMemberMessage[] = [];
  const router = wecomCallbackRoutes({
    settings: { corpId: t4.corpId, agentId: Number(t4.push.agentId), token: t4.token, aesKey: t4.encodingAESKey, maxClockSkewSeconds: 300 },
    handler: { receive: async (message) => { received.push(message); } },
    logger: pino({ level: 'silent' }),
    now: () => new Date(nowSeconds * 1000),
  });
  const http = await serve(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 64 * 1024, routers: [router] }));
  return { received, http };
}

const t4Envelope = `<xml><ToUserName><![CDATA[${t4.corpId}]]></ToUserName><AgentID><![CDATA[${t4.push.agentId}]]></AgentID><Encrypt><![CDATA[${t4.push.encrypt}]]></Encrypt></xml>`;
const t4PushUrl = (base: string) => `${base}/wechat/wecom?msg_signature=${t4.push.msgSignature}&timestamp=${t4.push.timestamp}&nonce=${t4.push.nonce}`;

describe('WeCom callback, with the spec vectors (T4)', () => {
  it('answers URL verification with the decrypted echostr, and refuses a wrong signature', async () => {
    const { http } = await vectorCallback(Number(t4.verify.timestamp));
    try {
      const query = `timestamp=${t4.verify.timestamp}&nonce=${t4.verify.nonce}&echostr=${encodeURIComponent(t4.verify.echostr)}`;
      const ok = await fetch(`${http.baseUrl}/wechat/wecom?msg_signature=${t4.verify.msgSignature}&${query}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe(t4.verify.plaintext);
      const forged = await fetch(`${http.baseUrl}/wechat/wecom?msg_signature=${'0'.repeat(40)}&${query}`);
      expect(forged.status).toBe(401);
      expect(await forged.text()).not.toContain(t4.verify.plaintext);
    } finally {
      await http.close();
    }
  });

  it('opens the T4 push once, and takes a replay of it as already handled', async () => {
    const { http, received } = await vectorCallback(Number(t4.push.timestamp) + 5);
    try {
      const first = await fetch(t4PushUrl(http.baseUrl), { method: 'POST', body: t4Envelope });
      expect(first.status).toBe(200);
      expect(await first.text()).toBe('');
      expect(received).toEqual([expect.objectContaining({ fromUserId: 'ChenJiaShun', kind: 'text', text: '你好', dedupeKey: 'msg:1456453720' })]);
      const replay = await fetch(t4PushUrl(http.baseUrl), { method: 'POST', body: t4Envelope });
      expect(replay.status).toBe(200);
      expect(received).toHaveLength(1);
    } finally {
      await http.close();
    }
  });

  it('refuses the genuine T4 push when its timestamp is far from our clock', async () => {
    const { http, received } = await vectorCallback(Number(t4.push.timestamp) + 3600);
    try {
      const res = await fetch(t4PushUrl(http.baseUrl), { method: 'POST', body: t4Envelope });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('stale_timestamp');
      expect(received).toEqual([]);
    } finally {
      await http.close();
    }
  });
});

describe('WeCom callback in front of the desk', () => {
  let h: DeskHarness;
  beforeAll(async () => { h = await startDeskHarness(); });
  afterAll(() => h.stop());
  beforeEach(async () => {
    await h.reset();
    await h.onDuty('zhangsan');
    await h.customerSays('u-cb', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
  });
  afterEach(() => expect(h.listenerErrors).toEqual([]));

  it('relays a genuine agent reply to the customer', async () => {
    const res = await h.postAgentMessage('zhangsan', '您好，我来帮您查询。');
    expect(res.status).toBe(200);
    expect(h.toCustomer('u-cb')).toEqual(['您好，我来帮您查询。']);
  });

  it('answers a bare slash with a hint instead of a 500 (which WeCom retried), and sends the customer nothing', async () => {
    const res = await h.postAgentMessage('zhangsan', '/');
    expect(res.status).toBe(200);
    expect(h.textsTo('zhangsan').at(-1)).toContain('/help');
    expect(h.toCustomer('u-cb')).toEqual([]);
  });

  it('rejects a reply signed without the callback token', async () => {
    const res = await h.postAgentMessage('zhangsan', '伪造的回复', { token: 'notTheRealToken' });
    expect(res.status).toBe(401);
    expect(h.toCustomer('u-cb')).toEqual([]);
  });

  it('rejects a reply encrypted for another corp', async () => {
    const otherCorp = new WXBizMsgCrypt({ token: WECOM_TOKEN, encodingAESKey: WECOM_AES_KEY, receiveId: 'wwsomeothercorp01' });
    const res = await h.postAgentMessage('zhangsan', '别的企业的消息', { crypt: otherCorp });
    expect(res.status).toBe(401);
    expect(h.toCustomer('u-cb')).toEqual([]);
  });

  it('delivers a replayed reply only once, and refuses one replayed after the time window', async () => {
    const first = await h.postAgentMessage('zhangsan', '只应送达一次', { msgId: 77001 });
    const replay = await h.postAgentMessage('zhangsan', '只应送达一次', { msgId: 77001 });
    expect([first.status, replay.status]).toEqual([200, 200]);
    expect(h.toCustomer('u-cb')).toEqual(['只应送达一次']);

    const captured = Math.floor(h.clock.now.getTime() / 1000);
    h.advance(10 * 60_000);
    const late = await h.postAgentMessage('zhangsan', '旧请求重放', { msgId: 77002, timestamp: captured });
    expect(late.status).toBe(401);
    expect(h.toCustomer('u-cb')).toEqual(['只应送达一次']);
  });
});
