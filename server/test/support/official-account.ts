import pino from 'pino';
import { createApp } from '../../src/app';
import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline, type KnowledgeReader, type Understander } from '../../src/conversation/pipeline';
import { EventBus } from '../../src/events/bus';
import { officialAccountPusher } from '../../src/channels/official-account/pusher';
import { ReplyDelivery } from '../../src/channels/official-account/reply-delivery';
import { officialAccountRoutes, type OfficialAccountSettings } from '../../src/channels/official-account/webhook';
import { WeChatAppApi, WeChatHttpClient } from '../../src/wechat/api-client';
import { computeCallbackSignature, WXBizMsgCrypt } from '../../src/wechat/crypto';
import { FAKE_APP, FakeWeChatApi } from '../fakes/wechat-api';
import { serve } from './http';

export const OA_TOKEN = 'spamtest';
export const OA_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const OA_GH_ID = 'gh_10f6c3c3ac5a';

/** A webhook served on loopback, wired to a pipeline and to the fake WeChat API for pushes. */
export async function startOfficialAccountHarness(options: {
  understander: Understander;
  knowledge: KnowledgeReader;
  budgetMs?: number;
  now?: () => Date;
  settings?: Partial<OfficialAccountSettings>;
}) {
  const wechat = await FakeWeChatApi.start();
  const events = new EventBus();
  const pipeline = new ConversationPipeline({ understander: options.understander, knowledge: options.knowledge, config: loadWechatConfig(), events });
  const api = new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: wechat.baseUrl }), appId: FAKE_APP.appId, appSecret: FAKE_APP.secret });
  const logger = pino({ level: 'silent' });
  const delivery = new ReplyDelivery({ pipeline, pusher: officialAccountPusher(api), budgetMs: options.budgetMs ?? 4_000, logger });
  const settings: OfficialAccountSettings = { appId: FAKE_APP.appId, token: OA_TOKEN, aesKey: OA_AES_KEY, maxClockSkewSeconds: 300, ...options.settings };
  const app = createApp({ logger, bodyLimitBytes: 64 * 1024, routers: [officialAccountRoutes({ settings, delivery, now: options.now })] });
  const http = await serve(app);
  const crypt = new WXBizMsgCrypt({ token: settings.token, encodingAESKey: OA_AES_KEY, receiveId: settings.appId });
  return {
    wechat, events, pipeline, delivery, crypt, baseUrl: http.baseUrl,
    async stop() { await delivery.settled(); await http.close(); await wechat.stop(); },
  };
}

let nextMsgId = 7_000_000_000_000_000_000n;

export function textPushXml(openId: string, content: string, msgId: bigint = nextMsgId++, createTime = Math.floor(Date.now() / 1000)): string {
  return `<xml><ToUserName><![CDATA[${OA_GH_ID}]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`;
}

/** POSTs a push the way WeChat does: plaintext with `signature`, or safe mode with `msg_signature` over `<Encrypt>`. */
export async function postPush(
  baseUrl: string,
  xml: string,
  mode: { safe?: WXBizMsgCrypt; token?: string; timestamp?: string; nonce?: string } = {},
): Promise<Response> {
  const timestamp = mode.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = mode.nonce ?? String(Math.floor(Math.random() * 1e9));
  const token = mode.token ?? OA_TOKEN;
  const signature = computeCallbackSignature(token, timestamp, nonce);
  if (!mode.safe) {
    return fetch(`${baseUrl}/wechat/oa?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=x`, { method: 'POST', body: xml, headers: { 'content-type': 'text/xml' } });
  }
  const encrypt = mode.safe.encrypt(xml);
  const msgSignature = computeCallbackSignature(token, timestamp, nonce, encrypt);
  const envelope = `<xml><ToUserName><![CDATA[${OA_GH_ID}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  return fetch(`${baseUrl}/wechat/oa?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&encrypt_type=aes&msg_signature=${msgSignature}`, {
    method: 'POST', body: envelope, headers: { 'content-type': 'text/xml' },
  });
}

/** The text Content of a passive reply (plain or, with `crypt`, after decrypting the safe-mode envelope). */
export function replyContent(body: string, crypt?: WXBizMsgCrypt): string | undefined {
  let xml = body;
  if (crypt) {
    const encrypt = /<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/s.exec(body)?.[1];
    if (!encrypt) return undefined;
    xml = crypt.decrypt(encrypt);
  }
  return /<Content><!\[CDATA\[(.*?)\]\]><\/Content>/s.exec(xml)?.[1];
}
