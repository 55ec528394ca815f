import { CallbackMessageError, callbackDedupeKey } from '../../src/wechat/callback';
import { WXBizMsgCrypt, WxBizMsgCryptError, computeCallbackSignature } from '../../src/wechat/crypto';
import {
  ACKNOWLEDGE_REPLY,
  answerOfficialAccountUrlVerification,
  buildImageReply,
  buildNewsReply,
  buildTextReply,
  openOfficialAccountPush,
  parseOfficialAccountMessage,
  replyAddressFor,
  type OfficialAccountInbound,
} from '../../src/wechat/official-account-messages';
import { WeChatXmlError, parseWeChatXml } from '../../src/wechat/xml';
import { derived, messages, spec } from '../fixtures/wechat';

const parse = (xml: string): OfficialAccountInbound => parseOfficialAccountMessage(parseWeChatXml(xml));
const openid = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';
const ghId = 'gh_10f6c3c3ac5a';

describe('parseOfficialAccountMessage (§2.4)', () => {
  it('text: MsgId stays an exact 64-bit string', () => {
    const message = parse(messages.oa.text);
    expect(message).toMatchObject({
      type: 'text',
      toUserName: ghId,
      fromUserName: openid,
      createTime: 1409735668,
      content: 'abcdteT',
      msgId: '6054768590064713728',
      dedupeKey: 'msg:6054768590064713728',
    });
  });

  it('T1 decrypted plaintext (LF-separated) parses the same as the compact fixture', () => {
    const { raw: _a, ...fromT1 } = parse(spec.T1.plaintext);
    const { raw: _b, ...fromFixture } = parse(messages.oa.text);
    expect(fromT1).toEqual(fromFixture);
  });

  it('image', () => {
    expect(parse(messages.oa.image)).toMatchObject({
      type: 'image',
      picUrl: 'http://mmbiz.qpic.cn/xxx',
      mediaId: 'media_id',
      msgId: '1234567890123456',
      createTime: 1348831860,
    });
  });

  it('voice with Recognition', () => {
    expect(parse(messages.oa.voice)).toMatchObject({ type: 'voice', mediaId: 'media_id', format: 'amr', recognition: '腾讯微信团队' });
  });

  it('voice with an empty Recognition after MsgId (a real 2023 push): recognition is undefined', () => {
    const message = parse(messages.oa.voiceEmptyRecognitionAfterMsgId);
    expect(message.type).toBe('voice');
    expect(message.type === 'voice' && message.recognition).toBeUndefined();
  });

  it('video and shortvideo', () => {
    const xml = (type: string) =>
      `<xml><ToUserName>${ghId}</ToUserName><FromUserName>${openid}</FromUserName><CreateTime>1</CreateTime>` +
      `<MsgType>${type}</MsgType><MediaId>m</MediaId><ThumbMediaId>t</ThumbMediaId><MsgId>9</MsgId></xml>`;
    expect(parse(xml('video'))).toMatchObject({ type: 'video', mediaId: 'm', thumbMediaId: 't' });
    expect(parse(xml('shortvideo'))).toMatchObject({ type: 'shortvideo', mediaId: 'm', thumbMediaId: 't' });
  });

  it('location message', () => {
    const xml =
      `<xml><ToUserName><![CDATA[${ghId}]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName>` +
      '<CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>' +
      '<Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId></xml>';
    expect(parse(xml)).toMatchObject({ type: 'location', latitude: 23.134521, longitude: 113.358803, scale: 20, label: '位置信息' });
  });

  it('link message (empty description allowed)', () => {
    const xml =
      `<xml><ToUserName>${ghId}</ToUserName><FromUserName>${openid}</FromUserName><CreateTime>1351776360</CreateTime>` +
      '<MsgType>link</MsgType><Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[]]></Description>' +
      '<Url><![CDATA[https://mp.weixin.qq.com]]></Url><MsgId>1234567890123456</MsgId></xml>';
    expect(parse(xml)).toMatchObject({ type: 'link', title: '公众平台官网链接', description: '', url: 'https://mp.weixin.qq.com' });
  });

  it('subscribe, plain: no scene; dedupe key from FromUserName + CreateTime', () => {
    const message = parse(messages.oa.subscribe);
    expect(message).toMatchObject({ type: 'subscribe', sceneId: undefined, ticket: undefined });
    expect(message.dedupeKey).toBe(`evt:${openid}:123456789:subscribe:`);
  });

  it('subscribe via a parametric QR code: qrscene_ prefix removed', () => {
    const message = parse(messages.oa.subscribeByQrCode);
    expect(message).toMatchObject({ type: 'subscribe', sceneId: '123123', ticket: 'TICKET' });
    expect(message.dedupeKey).toBe(`evt:${openid}:123456789:subscribe:qrscene_123123`);
  });

  it('unsubscribe', () => {
    expect(parse(messages.oa.unsubscribe)).toMatchObject({ type: 'unsubscribe', fromUserName: openid });
  });

  it('CLICK', () => {
    const message = parse(messages.oa.click);
    expect(message).toMatchObject({ type: 'menu_click', eventKey: 'EVENTKEY' });
    expect(message.dedupeKey).toBe(`evt:${openid}:123456789:CLICK:EVENTKEY`);
  });

  it('SCAN and VIEW share the event shape', () => {
    const event = (name: string, key: string, extra = '') =>
      messages.oa.click.replace('CLICK', name).replace('EVENTKEY', key).replace('</xml>', `${extra}</xml>`);
    expect(parse(event('SCAN', '123123', '<Ticket><![CDATA[TICKET]]></Ticket>'))).toMatchObject({ type: 'scan', sceneId: '123123', ticket: 'TICKET' });
    expect(parse(event('VIEW', 'https://example.com/x'))).toMatchObject({ type: 'menu_view', url: 'https://example.com/x' });
  });

  it('LOCATION report and TEMPLATESENDJOBFINISH', () => {
    const base = `<xml><ToUserName>${ghId}</ToUserName><FromUserName>${openid}</FromUserName><CreateTime>123456789</CreateTime><MsgType>event</MsgType>`;
    expect(parse(`${base}<Event>LOCATION</Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>`)).toMatchObject({
      type: 'location_report',
      latitude: 23.137466,
      longitude: 113.352425,
      precision: 119.38504,
    });
    expect(parse(`${base}<Event>TEMPLATESENDJOBFINISH</Event><MsgID>200163836</MsgID><Status><![CDATA[success]]></Status></xml>`)).toMatchObject({
      type: 'template_send_finished',
      msgId: '200163836',
      status: 'success',
    });
  });

  it('event names are case-sensitive: "click" is not CLICK', () => {
    expect(parse(messages.oa.click.replace('CLICK', 'click'))).toMatchObject({ type: 'unsupported', msgType: 'event', event: 'click' });
  });

  it('unknown message types come back as unsupported, not as an error', () => {
    const xml = messages.oa.text.replace('<![CDATA[text]]>', '<![CDATA[miniprogrampage]]>');
    expect(parse(xml)).toMatchObject({ type: 'unsupported', msgType: 'miniprogrampage', dedupeKey: 'msg:6054768590064713728' });
  });

  it.each([
    ['FromUserName', messages.oa.text.replace(/<FromUserName>.*<\/FromUserName>/, '')],
    ['MsgId', messages.oa.text.replace(/<MsgId>.*<\/MsgId>/, '')],
    ['Content', messages.oa.text.replace(/<Content>.*<\/Content>/, '')],
    ['Event', messages.oa.click.replace(/<Event>.*<\/Event>/, '')],
    ['EventKey', messages.oa.click.replace(/<EventKey>.*<\/EventKey>/, '')],
  ])('a missing %s is a typed error naming the field', (field, xml) => {
    let caught: unknown;
    try {
      parse(xml);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CallbackMessageError);
    expect(caught).toMatchObject({ code: 'missing_field', field });
  });

  it('a non-numeric CreateTime is invalid', () => {
    expect(() => parse(messages.oa.text.replace('1409735668', '14097x5668'))).toThrow(CallbackMessageError);
  });

  it('the raw record keeps fields the union does not model', () => {
    const message = parse(messages.oa.text.replace('</xml>', '<MsgDataId>42</MsgDataId><Idx>1</Idx></xml>'));
    expect(message.raw.MsgDataId).toBe('42');
  });
});

describe('callbackDedupeKey (§2.6)', () => {
  it('uses MsgId for messages and never the query nonce/timestamp', () => {
    expect(callbackDedupeKey(parseWeChatXml(messages.oa.image))).toBe('msg:1234567890123456');
  });

  it('identical retries of an event give identical keys; a different CreateTime does not', () => {
    const first = callbackDedupeKey(parseWeChatXml(messages.oa.subscribe));
    expect(callbackDedupeKey(parseWeChatXml(messages.oa.subscribe))).toBe(first);
    expect(callbackDedupeKey(parseWeChatXml(messages.oa.subscribe.replace('123456789', '123456790')))).not.toBe(first);
  });
});

describe('passive replies (§2.5)', () => {
  const address = { toUserName: openid, fromUserName: ghId, createTime: 1409735669 };

  it('text reply matches the canonical template; with the T6 content it is the T6 plaintext', () => {
    expect(buildTextReply(address, '您好，已收到')).toBe(derived.oa_reply.plaintext);
  });

  it('text reply encrypted with fixed random is the T6 envelope', () => {
    const v = derived.oa_reply;
    const crypt = new WXBizMsgCrypt({
      token: v.token,
      encodingAESKey: v.encodingAESKey,
      receiveId: v.appid,
      randomPrefix: () => Buffer.from(v.random),
    });
    const envelope = crypt.encryptReply(buildTextReply(address, '您好，已收到'), v.timestamp, v.nonce);
    expect(envelope).toContain(`<Encrypt><![CDATA[${v.encrypt}]]></Encrypt>`);
    expect(envelope).toContain(`<MsgSignature><![CDATA[${v.msg_signature}]]></MsgSignature>`);
  });

  it('replyAddressFor swaps the ids and uses seconds', () => {
    const inbound = parse(messages.oa.text);
    expect(replyAddressFor(inbound, 1409735669_999)).toEqual(address);
  });

  it('escapes "]]>" in content', () => {
    const xml = buildTextReply(address, 'a]]>b');
    expect(xml).toContain('<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>');
    expect(parseWeChatXml(xml).Content).toBe('a]]>b');
  });

  it('news reply with exactly one article', () => {
    const xml = buildNewsReply(address, { title: '理赔指南', description: '三步完成', picUrl: 'https://x/p.jpg', url: 'https://x/a' });
    expect(xml).toBe(
      `<xml><ToUserName><![CDATA[${openid}]]></ToUserName><FromUserName><![CDATA[${ghId}]]></FromUserName>` +
        '<CreateTime>1409735669</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount>' +
        '<Articles><item><Title><![CDATA[理赔指南]]></Title><Description><![CDATA[三步完成]]></Description>' +
        '<PicUrl><![CDATA[https://x/p.jpg]]></PicUrl><Url><![CDATA[https://x/a]]></Url></item></Articles></xml>',
    );
  });

  it('image reply', () => {
    expect(buildImageReply(address, 'MEDIA')).toContain('<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[MEDIA]]></MediaId></Image>');
  });

  it("acknowledgement is exactly 'success'", () => {
    expect(ACKNOWLEDGE_REPLY).toBe('success');
  });
});

describe('opening a push (§2.2, §2.3)', () => {
  const t1 = spec.T1;
  const crypt = new WXBizMsgCrypt({ token: t1.token, encodingAESKey: t1.encodingAESKey, receiveId: t1.appId });

  it('URL verification with T1 returns echostr exactly', () => {
    expect(
      answerOfficialAccountUrlVerification(t1.token, {
        signature: t1.plainSignature,
        timestamp: t1.timestamp,
        nonce: t1.nonce,
        echostr: t1.echostr,
      }),
    ).toBe('5837397520665436492');
  });

  it('URL verification with a wrong signature → -40001', () => {
    expect(() =>
      answerOfficialAccountUrlVerification(t1.token, { signature: '0'.repeat(40), timestamp: t1.timestamp, nonce: t1.nonce, echostr: '1' }),
    ).toThrow(WxBizMsgCryptError);
  });

  it('plaintext mode: plain signature over the T1 query', () => {
    const opened = openOfficialAccountPush({
      token: t1.token,
      query: { signature: t1.plainSignature, timestamp: t1.timestamp, nonce: t1.nonce },
      body: messages.oa.text,
    });
    expect(opened.encrypted).toBe(false);
    expect(opened.message).toMatchObject({ type: 'text', content: 'abcdteT' });
  });

  it('plaintext mode with a bad or missing signature → -40001', () => {
    for (const signature of [undefined, spec.T0.signature]) {
      expect(() =>
        openOfficialAccountPush({ token: t1.token, query: { signature, timestamp: t1.timestamp, nonce: t1.nonce }, body: messages.oa.text }),
      ).toThrow(expect.objectContaining({ code: -40001 }));
    }
  });

  it('safe mode: the T1 push decrypts to the sample text message', () => {
    const body = `<xml><ToUserName><![CDATA[${ghId}]]></ToUserName><Encrypt><![CDATA[${t1.encrypt}]]></Encrypt></xml>`;
    const opened = openOfficialAccountPush({
      token: t1.token,
      crypt,
      query: { signature: t1.plainSignature, timestamp: t1.timestamp, nonce: t1.nonce, encryptType: 'aes', msgSignature: t1.msgSignature },
      body,
    });
    expect(opened.encrypted).toBe(true);
    expect(opened.message).toMatchObject({ type: 'text', content: 'abcdteT', msgId: '6054768590064713728' });
  });

  it('compat mode: the encrypted content wins over forged plaintext fields beside it', () => {
    const body =
      `<xml><ToUserName><![CDATA[${ghId}]]></ToUserName><FromUserName><![CDATA[attacker]]></FromUserName>` +
      `<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[forged]]></Content><MsgId>1</MsgId>` +
      `<Encrypt><![CDATA[${t1.encrypt}]]></Encrypt></xml>`;
    const opened = openOfficialAccountPush({
      token: t1.token,
      crypt,
      query: { timestamp: t1.timestamp, nonce: t1.nonce, encryptType: 'aes', msgSignature: t1.msgSignature },
      body,
    });
    expect(opened.message).toMatchObject({ fromUserName: openid, content: 'abcdteT' });
  });

  it('safe mode refuses: wrong msg_signature, missing msg_signature, no Encrypt, no crypt configured, another appid', () => {
    const body = `<xml><ToUserName><![CDATA[${ghId}]]></ToUserName><Encrypt><![CDATA[${t1.encrypt}]]></Encrypt></xml>`;
    const query = { timestamp: t1.timestamp, nonce: t1.nonce, encryptType: 'aes', msgSignature: t1.msgSignature };
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as WxBizMsgCryptError).code;
      }
      return 0;
    };
    expect(codeOf(() => openOfficialAccountPush({ token: t1.token, crypt, query: { ...query, msgSignature: spec.T0.signature }, body }))).toBe(-40001);
    expect(codeOf(() => openOfficialAccountPush({ token: t1.token, crypt, query: { ...query, msgSignature: undefined }, body }))).toBe(-40001);
    expect(codeOf(() => openOfficialAccountPush({ token: t1.token, crypt, query, body: `<xml><ToUserName>${ghId}</ToUserName></xml>` }))).toBe(-40002);
    expect(codeOf(() => openOfficialAccountPush({ token: t1.token, query, body }))).toBe(-40004);
    const otherApp = new WXBizMsgCrypt({ token: t1.token, encodingAESKey: t1.encodingAESKey, receiveId: 'wx0000000000000000' });
    expect(codeOf(() => openOfficialAccountPush({ token: t1.token, crypt: otherApp, query, body }))).toBe(-40005);
  });

  it('a signed but malformed body is a typed XML error', () => {
    const body = '<!DOCTYPE x><xml/>';
    const timestamp = '1';
    const nonce = '2';
    expect(() =>
      openOfficialAccountPush({ token: 't', query: { signature: computeCallbackSignature('t', timestamp, nonce), timestamp, nonce }, body }),
    ).toThrow(WeChatXmlError);
  });
});
