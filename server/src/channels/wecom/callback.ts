import Router from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from '../../logging/logger';
import { CallbackMessageError } from '../../wechat/callback';
import { WxBizMsgCryptError } from '../../wechat/crypto';
import { answerWeComUrlVerification, createWeComCallbackCrypt, openWeComCallback, type WeComInbound } from '../../wechat/wecom-client';
import { WeChatXmlError } from '../../wechat/xml';
import { claimWeComCallback, releaseWeComCallback } from './receipts';

/** A message from a member (an agent) of the corp, as the desk needs it: who, what, when. */
export interface WeComMemberMessage {
  /** The member's WeCom userid. */
  fromUserId: string;
  kind: 'text' | 'event' | 'other';
  text?: string;
  event?: string;
  eventKey?: string;
  /** What WeCom sent when it is not text or an event (image, voice …). */
  msgType?: string;
  sentAt: Date;
  dedupeKey: string;
}

/** Whoever acts on the members' messages (the agent desk). */
export interface WeComMessageHandler {
  receive(message: WeComMemberMessage): Promise<void>;
}

export interface WeComCallbackSettings {
  corpId: string;
  agentId: number;
  token: string;
  aesKey: string;
  /** Callbacks whose timestamp is further than this from our clock are refused. 0 turns the check off. */
  maxClockSkewSeconds: number;
}

export interface WeComCallbackDeps {
  settings: WeComCallbackSettings;
  handler: WeComMessageHandler;
  logger: Logger;
  now?: () => Date;
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? '';

function refuse(ctx: Context, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.body = { error: { code, message } };
}

function toMemberMessage(inbound: WeComInbound): WeComMemberMessage | undefined {
  const base = { fromUserId: inbound.fromUserName, sentAt: new Date(inbound.createTime * 1000), dedupeKey: inbound.dedupeKey };
  switch (inbound.type) {
    case 'text':
      return { ...base, kind: 'text', text: inbound.content };
    case 'event':
      return { ...base, kind: 'event', event: inbound.event, eventKey: inbound.eventKey };
    case 'unsupported':
      return { ...base, kind: 'other', msgType: inbound.msgType };
    case 'kf_msg_or_event':
      return undefined; // 微信客服 is not used here (spec §6.4)
  }
}

/**
 * `GET/POST /wechat/wecom`: the WeCom app callback. GET answers URL verification; POST checks msg_signature,
 * decrypts with the CorpID as receive id, refuses stale timestamps (replays) and other apps' messages, takes
 * each MsgId once (retries and replays run nothing twice), and hands the message to the desk. Answers an empty
 * 200: everything the desk says to agents goes out through the app message API.
 */
export function wecomCallbackRoutes({ settings, handler, logger, now = () => new Date() }: WeComCallbackDeps): Router {
  const crypt = createWeComCallbackCrypt({ token: settings.token, encodingAESKey: settings.aesKey, corpId: settings.corpId });
  const router = new Router();

  const fresh = (timestamp: string) => {
    if (!/^\d{1,12}$/.test(timestamp)) return false;
    if (settings.maxClockSkewSeconds === 0) return true;
    return Math.abs(now().getTime() / 1000 - Number(timestamp)) <= settings.maxClockSkewSeconds;
  };

  router.get('/wechat/wecom', (ctx) => {
    try {
      const echo = answerWeComUrlVerification(crypt, {
        msgSignature: single(ctx.query.msg_signature), timestamp: single(ctx.query.timestamp),
        nonce: single(ctx.query.nonce), echostr: single(ctx.query.echostr),
      });
      ctx.type = 'text/plain';
      ctx.body = echo;
    } catch (err) {
      if (!(err instanceof WxBizMsgCryptError)) throw err;
      refuse(ctx, 401, 'invalid_signature', 'signature or encryption check failed');
    }
  });

  router.post('/wechat/wecom', async (ctx) => {
    const timestamp = single(ctx.query.timestamp);
    let inbound: WeComInbound;
    try {
      inbound = openWeComCallback(
        crypt,
        { msgSignature: single(ctx.query.msg_signature), timestamp, nonce: single(ctx.query.nonce) },
        ctx.request.rawBody ?? '',
        { expectedAgentId: settings.agentId },
      );
    } catch (err) {
      if (err instanceof WxBizMsgCryptError) return refuse(ctx, 401, 'invalid_signature', 'signature or encryption check failed');
      if (err instanceof WeChatXmlError || err instanceof CallbackMessageError) return refuse(ctx, 400, 'invalid_message', 'the message could not be read');
      throw err;
    }
    // The signature covers the timestamp, so an old one means a captured request sent again.
    if (!fresh(timestamp)) return refuse(ctx, 401, 'stale_timestamp', 'timestamp outside the accepted window');

    const message = toMemberMessage(inbound);
    const key = `${settings.corpId}:${settings.agentId}:${inbound.dedupeKey}`;
    if (message && (await claimWeComCallback(key, now()))) {
      try {
        await handler.receive(message);
      } catch (err) {
        // Let WeCom's retry run it again rather than lose an agent's reply.
        await releaseWeComCallback(key);
        logger.error({ err, from: message.fromUserId }, 'WeCom message handling failed');
        throw err;
      }
    }
    ctx.status = 200;
    ctx.body = '';
  });

  return router;
}
