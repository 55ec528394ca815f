import type { ChannelPusher, PushOutcome } from '../../conversation/delivery';
import type { OutboundMessage } from '../../conversation/types';
import {
  WeChatApiError,
  WeChatTransportError,
  isCustomServiceQuotaExhausted,
  isCustomServiceWindowClosed,
  isWeChatErrcode,
  type WeChatAppApi,
} from '../../wechat/api-client';
import { customServiceMessages } from './render';

const TOKEN_ENDPOINTS = new Set(['/cgi-bin/stable_token', '/cgi-bin/token']);
/** 45009 / 45011: frequency limits; WeChat refused the send, it may take it later. */
const RATE_LIMITED = [45009, 45011];

/**
 * True when the failure happened before WeChat took the message: no access_token could be had, or a rate limit
 * refused it. A timeout, a 5xx or an unreadable answer of custom/send itself may have been delivered: not these.
 */
function failedBeforeSending(err: unknown): boolean {
  if ((err instanceof WeChatApiError || err instanceof WeChatTransportError) && TOKEN_ENDPOINTS.has(err.endpoint)) return true;
  return isWeChatErrcode(err, ...RATE_LIMITED);
}

/** Messages to a follower outside a reply go through the customer-service message API (§3.2). */
export function officialAccountPusher(api: Pick<WeChatAppApi, 'sendCustomMessage'>): ChannelPusher {
  return {
    async push(openId: string, messages: OutboundMessage[]): Promise<PushOutcome> {
      let sent = 0;
      for (const message of customServiceMessages(openId, messages)) {
        try {
          await api.sendCustomMessage(message);
          sent += 1;
        } catch (err) {
          if (isCustomServiceWindowClosed(err)) return { ok: false, reason: 'window_closed', detail: '48 h window closed (45015)' };
          if (isCustomServiceQuotaExhausted(err)) return { ok: false, reason: 'quota_exhausted', detail: 'reply quota used (45047)' };
          if (isWeChatErrcode(err, 43004, 40003)) return { ok: false, reason: 'user_unreachable', detail: 'user unfollowed or unknown' };
          const detail = err instanceof Error ? err.message : String(err);
          if (sent === 0 && failedBeforeSending(err)) return { ok: false, reason: 'failed', detail, nothingSent: true };
          return { ok: false, reason: 'failed', detail };
        }
      }
      return { ok: true };
    },
  };
}
