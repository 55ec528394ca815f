import { AccessTokenModel } from '../../src/wechat/access-token.model';
import { WeChatApiError, WeChatHttpClient } from '../../src/wechat/api-client';
import { CallbackMessageError } from '../../src/wechat/callback';
import { WXBizMsgCrypt, WxBizMsgCryptError } from '../../src/wechat/crypto';
import {
  WeComClient,
  answerWeComUrlVerification,
  createWeComCallbackCrypt,
  openWeComCallback,
  parseWeComMessage,
  wecomAppMessageBody,
  wecomTokenCacheKey,
} from '../../src/wechat/wecom-client';
import { parseWeChatXml } from '../../src/wechat/xml';
import { FAKE_WECOM_APP, FakeWeChatApi } from '../fakes/wechat-api';
import { messages, spec } from '../fixtures/wechat';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('app message bodies (§6.2)', () => {
  it('text with every option reproduces the spec JSON', () => {
    expect(
      wecomAppMessageBody(1000002, {
        type: 'text',
        toUsers: ['zhangsan', 'lisi'],
        toParties: [],
        toTags: [],
        content: '新的人工客服请求 #1024\n用户：张**\n问题：理赔进度',
        safe: false,
        enableIdTrans: false,
        enableDuplicateCheck: false,
        duplicateCheckIntervalSeconds: 1800,
      }),
    ).toEqual(messages.wecomSend.text);
  });

  it('textcard reproduces the spec JSON', () => {
    expect(
      wecomAppMessageBody(1000002, {
        type: 'textcard',
        toUsers: ['zhangsan'],
        title: '人工客服请求 #1024',
        description:
          '<div class="gray">2024年5月1日 10:00</div><div class="normal">理赔进度咨询</div><div class="highlight">请在48小时内回复</div>',
        url: 'https://cs.example.com/tickets/1024',
        buttonText: '详情',
      }),
    ).toEqual(messages.wecomSend.textcard);
  });

  it('markdown reproduces the spec JSON', () => {
    expect(
      wecomAppMessageBody(1000002, {
        type: 'markdown',
        toUsers: ['zhangsan'],
        content: '**人工客服请求 #1024**\n>用户：<font color="info">张**</font>\n>问题：理赔进度',
      }),
    ).toEqual(messages.wecomSend.markdown);
  });

  it('@all, and refusing a message without any recipient', () => {
    expect(wecomAppMessageBody(1, { type: 'text', toUsers: '@all', content: 'x' }).touser).toBe('@all');
    expect(() => wecomAppMessageBody(1, { type: 'text', content: 'x' })).toThrow(TypeError);
    expect(() => wecomAppMessageBody(1, { type: 'text', toUsers: [], toParties: [], content: 'x' })).toThrow(TypeError);
  });
});

describe('WeComClient against the fake (§6.1, §6.2)', () => {
  let fake: FakeWeChatApi;
  beforeEach(async () => {
    await AccessTokenModel.deleteMany({}).exec();
    fake = await FakeWeChatApi.start();
  });
  afterEach(async () => {
    await fake.stop();
  });
  const client = (corpSecret = FAKE_WECOM_APP.corpSecret) =>
    new WeComClient({
      http: new WeChatHttpClient({ baseUrl: fake.baseUrl }),
      corpId: FAKE_WECOM_APP.corpId,
      agentId: FAKE_WECOM_APP.agentId,
      corpSecret,
    });

  it('gets a token with gettoken and caches it in MongoDB keyed by corpid + agentid', async () => {
    const wecom = client();
    await wecom.sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: 'a' });
    await client().sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: 'b' });
    expect(fake.tokenIssues.wecom).toBe(1);
    const key = wecomTokenCacheKey(FAKE_WECOM_APP.corpId, FAKE_WECOM_APP.agentId);
    expect(key).toBe('wecom:ww1436e0e65a779aee:1000002');
    expect(await AccessTokenModel.findById(key).lean().exec()).toMatchObject({ accessToken: expect.stringMatching(/^tok-/) });
  });

  it('sends text, textcard and markdown; the fake records one message per member', async () => {
    const wecom = client();
    const result = await wecom.sendAppMessage({ type: 'text', toUsers: ['zhangsan', 'lisi'], content: '新的人工客服请求 #1024' });
    expect(result).toMatchObject({ invalidUsers: [], invalidParties: [], msgId: expect.any(String), responseCode: 'fake-response-code' });
    await wecom.sendAppMessage({ type: 'textcard', toUsers: ['zhangsan'], title: 't', description: 'd', url: 'https://cs/1' });
    await wecom.sendAppMessage({ type: 'markdown', toUsers: ['lisi'], content: '**m**' });
    expect(fake.sent.wecom.map((m) => `${m.touser}:${m.msgtype}`)).toEqual(['zhangsan:text', 'lisi:text', 'zhangsan:textcard', 'lisi:markdown']);
    expect(fake.sent.wecom[0].body).toMatchObject({ agentid: 1000002, text: { content: '新的人工客服请求 #1024' } });
  });

  it('reports invalid members (lower-cased) but delivers to the rest', async () => {
    const result = await client().sendAppMessage({ type: 'text', toUsers: ['zhangsan', 'WangWu'], content: 'x' });
    expect(result.invalidUsers).toEqual(['wangwu']);
    expect(fake.sent.wecom.map((m) => m.touser)).toEqual(['zhangsan']);
  });

  it('81013 when every recipient is invalid', async () => {
    const error = await rejection(client().sendAppMessage({ type: 'text', toUsers: ['nobody'], content: 'x' }));
    expect(error).toBeInstanceOf(WeChatApiError);
    expect(error).toMatchObject({ errcode: 81013, endpoint: '/cgi-bin/message/send' });
  });

  it('40014 / 42001: refresh the token once and retry', async () => {
    const wecom = client();
    await wecom.sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: '1' });
    fake.invalidateAccessTokens(40014);
    await wecom.sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: '2' });
    fake.failNext({ path: '/cgi-bin/message/send', errcode: 42001 });
    await wecom.sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: '3' });
    expect(fake.sent.wecom).toHaveLength(3);
    expect(fake.tokenIssues.wecom).toBe(2);
  });

  it('40001 from gettoken is a wrong secret (config error): surfaced, not retried', async () => {
    const error = await rejection(client('wrong-secret').sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: 'x' }));
    expect(error).toMatchObject({ errcode: 40001, endpoint: '/cgi-bin/gettoken' });
    expect(fake.calls.filter((call) => call.path === '/cgi-bin/gettoken')).toHaveLength(1);
  });

  it('40001 on message/send is not a WeCom token error: no refresh', async () => {
    const wecom = client();
    await wecom.accessTokens.getAccessToken();
    fake.failNext({ path: '/cgi-bin/message/send', errcode: 40001 });
    expect(await rejection(wecom.sendAppMessage({ type: 'text', toUsers: ['zhangsan'], content: 'x' }))).toMatchObject({ errcode: 40001 });
    expect(fake.tokenIssues.wecom).toBe(1);
  });
});

describe('WeCom callbacks (§6.3) with the official vectors', () => {
  const t3 = spec.T3;
  const t4 = spec.T4;
  const t3Crypt = createWeComCallbackCrypt({ token: t3.token, encodingAESKey: t3.encodingAESKey, corpId: t3.corpId });
  const t4Crypt = createWeComCallbackCrypt({ token: t4.token, encodingAESKey: t4.encodingAESKey, corpId: t4.corpId });

  it('T3: URL verification answers the decrypted echostr (after one URL-decode)', () => {
    const echostr = new URLSearchParams(`echostr=${t3.verify.echostrUrlEncoded}`).get('echostr') ?? '';
    expect(echostr).toBe(t3.verify.echostr);
    expect(
      answerWeComUrlVerification(t3Crypt, { msgSignature: t3.verify.msgSignature, timestamp: t3.verify.timestamp, nonce: t3.verify.nonce, echostr }),
    ).toBe('1616140317555161061');
  });

  it('T4: URL verification with a ww corp', () => {
    expect(answerWeComUrlVerification(t4Crypt, { ...t4.verify, echostr: t4.verify.echostr })).toBe('1288432023552776189');
  });

  it('T3 with an unencoded "+" (turned into a space by the query parser) is refused', () => {
    const raw = new URLSearchParams(`echostr=${t3.verify.echostr}`).get('echostr') ?? '';
    expect(raw).toContain(' ');
    expect(() =>
      answerWeComUrlVerification(t3Crypt, { msgSignature: t3.verify.msgSignature, timestamp: t3.verify.timestamp, nonce: t3.verify.nonce, echostr: raw }),
    ).toThrow(WxBizMsgCryptError);
  });

  it('T3: message push with AgentID in the envelope', () => {
    const body =
      `<xml><ToUserName><![CDATA[${t3.corpId}]]></ToUserName><Encrypt><![CDATA[${t3.push.encrypt}]]></Encrypt>` +
      `<AgentID><![CDATA[${t3.push.agentId}]]></AgentID></xml>`;
    const inbound = openWeComCallback(t3Crypt, t3.push, body, { expectedAgentId: 218 });
    expect(inbound).toMatchObject({
      type: 'text',
      toUserName: t3.corpId,
      fromUserName: 'mycreate',
      createTime: 1409659813,
      content: 'hello',
      msgId: '4561255354251345929',
      agentId: '218',
      dedupeKey: 'msg:4561255354251345929',
    });
  });

  it('T4: message push (LF inside the envelope, plain values inside)', () => {
    const body =
      `<xml><ToUserName><![CDATA[${t4.corpId}]]></ToUserName>\n<Encrypt><![CDATA[${t4.push.encrypt}]]></Encrypt>\n` +
      `<AgentID><![CDATA[${t4.push.agentId}]]></AgentID>\n</xml>`;
    expect(openWeComCallback(t4Crypt, t4.push, Buffer.from(body), { expectedAgentId: 1000002 })).toMatchObject({
      type: 'text',
      fromUserName: 'ChenJiaShun',
      content: '你好',
      msgId: '1456453720',
      agentId: '1000002',
    });
  });

  it('refuses a push for another agent of the same corp', () => {
    const body = `<xml><ToUserName>${t4.corpId}</ToUserName><Encrypt><![CDATA[${t4.push.encrypt}]]></Encrypt></xml>`;
    expect(() => openWeComCallback(t4Crypt, t4.push, body, { expectedAgentId: 1000003 })).toThrow(CallbackMessageError);
  });

  it('refuses a wrong signature and a message for another corp', () => {
    const body = `<xml><ToUserName>${t4.corpId}</ToUserName><Encrypt><![CDATA[${t4.push.encrypt}]]></Encrypt></xml>`;
    expect(() => openWeComCallback(t4Crypt, { ...t4.push, msgSignature: t3.push.msgSignature }, body)).toThrow(
      expect.objectContaining({ code: -40001 }),
    );
    const otherCorp = new WXBizMsgCrypt({ token: t4.token, encodingAESKey: t4.encodingAESKey, receiveId: 'ww0000000000000000' });
    expect(() => openWeComCallback(otherCorp, t4.push, body)).toThrow(expect.objectContaining({ code: -40005 }));
  });

  it('an agent reply round-trips through our own encryption and parses (§6.3 sample)', () => {
    const crypt = createWeComCallbackCrypt({ token: t4.token, encodingAESKey: t4.encodingAESKey, corpId: t4.corpId });
    const timestamp = '1476422779';
    const nonce = '42';
    const encrypt = crypt.encrypt(messages.wecom.agentText);
    const body = `<xml><ToUserName><![CDATA[${t4.corpId}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    const inbound = openWeComCallback(crypt, { msgSignature: crypt.signature(timestamp, nonce, encrypt), timestamp, nonce }, body);
    expect(inbound).toMatchObject({ type: 'text', fromUserName: 'zhangsan', content: '#1024 您好，已为您查询…' });
  });

  it('events are lower-case in WeCom and dedupe on FromUserName + CreateTime', () => {
    const xml =
      '<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>' +
      '<CreateTime>1476422800</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event>' +
      '<EventKey><![CDATA[TAKE_TICKET_1024]]></EventKey><AgentID>1000002</AgentID></xml>';
    expect(parseWeComMessage(parseWeChatXml(xml))).toMatchObject({
      type: 'event',
      event: 'click',
      eventKey: 'TAKE_TICKET_1024',
      dedupeKey: 'evt:zhangsan:1476422800:click:TAKE_TICKET_1024',
    });
  });

  it('微信客服 kf_msg_or_event (§6.4)', () => {
    expect(parseWeComMessage(parseWeChatXml(messages.wecom.kfMsgOrEvent))).toMatchObject({
      type: 'kf_msg_or_event',
      toUserName: 'ww12345678910',
      syncToken: 'ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR',
      openKfId: 'wkxxxxxxx',
    });
  });

  it('other message types are unsupported, not errors', () => {
    const xml = messages.wecom.agentText.replace('<![CDATA[text]]>', '<![CDATA[image]]>');
    expect(parseWeComMessage(parseWeChatXml(xml))).toMatchObject({ type: 'unsupported', msgType: 'image' });
  });

  it('a passive reply envelope decrypts back to the §6.3 reply', () => {
    const crypt = createWeComCallbackCrypt({ token: t4.token, encodingAESKey: t4.encodingAESKey, corpId: t4.corpId });
    const envelope = crypt.encryptReply(messages.wecom.passiveReplyPlaintext, '1476422779', '1597212914');
    const record = parseWeChatXml(envelope);
    expect(record.MsgSignature).toBe(crypt.signature('1476422779', '1597212914', record.Encrypt));
    expect(crypt.decrypt(record.Encrypt)).toBe(messages.wecom.passiveReplyPlaintext);
  });
});
