import Router from '@koa/router';
import type { Context } from 'koa';
import { WXBizMsgCrypt, WxBizMsgCryptError } from '../../wechat/crypto';
import { WeChatXmlError } from '../../wechat/xml';
import { CallbackMessageError } from '../../wechat/callback';
import {
  ACKNOWLEDGE_REPLY,
  answerOfficialAccountUrlVerification,
  buildTextReply,
  openOfficialAccountPush,
  replyAddressFor,
} from '../../wechat/official-account-messages';
import { toInboundMessage } from './inbound';
import { passiveReplyText } from './render';
import type { ReplyDelivery } from './reply-delivery';

export interface OfficialAccountSettings {
  appId: string;
  token: string;
  /** EncodingAESKey; without it only plaintext mode works. */
  aesKey?: string;
  /** Pushes whose timestamp is further than this from our clock are refused (replays). 0 turns the check off. */
  maxClockSkewSeconds: number;
}

export interface OfficialAccountWebhookDeps {
  settings: OfficialAccountSettings;
  delivery: ReplyDelivery;
  now?: () => Date;
}

function refuse(ctx: Context, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.body = { error: { code, message } };
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? '';

/**
 * `GET/POST /wechat/oa`: the Official Account webhook. Verifies and opens the push (any mode), hands the one
 * inbound message to the pipeline, and answers within WeChat's time with a passive reply (encrypted in safe mode)
 * or `success`. Refused pushes get a 4xx without detail, and nothing is written.
 */
export function officialAccountRoutes({ settings, delivery, now = () => new Date() }: OfficialAccountWebhookDeps): Router {
  const crypt = settings.aesKey
    ? new WXBizMsgCrypt({ token: settings.token, encodingAESKey: settings.aesKey, receiveId: settings.appId })
    : undefined;
  const router = new Router();

  const freshTimestamp = (timestamp: string) => {
    if (!/^\d{1,12}$/.test(timestamp)) return false;
    if (settings.maxClockSkewSeconds === 0) return true;
    return Math.abs(now().getTime() / 1000 - Number(timestamp)) <= settings.maxClockSkewSeconds;
  };

  router.get('/wechat/oa', (ctx) => {
    const query = {
      signature: single(ctx.query.signature), timestamp: single(ctx.query.timestamp),
      nonce: single(ctx.query.nonce), echostr: single(ctx.query.echostr),
    };
    try {
      const echo = answerOfficialAccountUrlVerification(settings.token, query);
      ctx.type = 'text/plain';
      ctx.body = echo;
    } catch {
      refuse(ctx, 401, 'invalid_signature', 'signature check failed');
    }
  });

  router.post('/wechat/oa', async (ctx) => {
    const timestamp = single(ctx.query.timestamp);
    const nonce = single(ctx.query.nonce);
    let opened: ReturnType<typeof openOfficialAccountPush>;
    try {
      opened = openOfficialAccountPush({
        token: settings.token,
        crypt,
        query: {
          signature: single(ctx.query.signature) || undefined, timestamp, nonce,
          encryptType: single(ctx.query.encrypt_type) || undefined, msgSignature: single(ctx.query.msg_signature) || undefined,
        },
        body: ctx.request.rawBody ?? '',
      });
    } catch (err) {
      if (err instanceof WxBizMsgCryptError) return refuse(ctx, 401, 'invalid_signature', 'signature or encryption check failed');
      if (err instanceof WeChatXmlError || err instanceof CallbackMessageError) return refuse(ctx, 400, 'invalid_message', 'the message could not be read');
      throw err;
    }
    if (!freshTimestamp(timestamp)) return refuse(ctx, 401, 'stale_timestamp', 'timestamp outside the accepted window');

    const inbound = toInboundMessage(opened.message, now());
    const answer = inbound ? await delivery.answer(inbound) : { replies: undefined };
    if (!answer.replies) {
      ctx.type = 'text/plain';
      ctx.body = ACKNOWLEDGE_REPLY;
      return;
    }
    const reply = buildTextReply(replyAddressFor(opened.message, now().getTime()), passiveReplyText(answer.replies));
    ctx.type = 'application/xml';
    ctx.body = opened.encrypted && crypt ? crypt.encryptReply(reply, timestamp, nonce) : reply;
  });

  return router;
}
