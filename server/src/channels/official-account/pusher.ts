import type { ChannelPusher, PushOutcome } from '../../conversation/delivery';
import type { OutboundMessage } from '../../conversation/types';
import { isCustomServiceQuotaExhausted, isCustomServiceWindowClosed, isWeChatErrcode, type WeChatAppApi } from '../../wechat/api-client';
import { customServiceMessages } from './render';

/** Messages to a follower outside a reply go through the customer-service message API (§3.2). */
export function officialAccountPusher(api: Pick<WeChatAppApi, 'sendCustomMessage'>): ChannelPusher {
  return {
    async push(openId: string, messages: OutboundMessage[]): Promise<PushOutcome> {
      for (const message of customServiceMessages(openId, messages)) {
        try {
          await api.sendCustomMessage(message);
        } catch (err) {
          if (isCustomServiceWindowClosed(err)) return { ok: false, reason: 'window_closed', detail: '48 h window closed (45015)' };
          if (isCustomServiceQuotaExhausted(err)) return { ok: false, reason: 'quota_exhausted', detail: 'reply quota used (45047)' };
          if (isWeChatErrcode(err, 43004, 40003)) return { ok: false, reason: 'user_unreachable', detail: 'user unfollowed or unknown' };
          return { ok: false, reason: 'failed', detail: err instanceof Error ? err.message : String(err) };
        }
      }
      return { ok: true };
    },
  };
}
