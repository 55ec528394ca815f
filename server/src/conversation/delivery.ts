import type { ChannelName, OutboundMessage } from './types';

/** The outcome of pushing messages to a user outside a reply (agent relay, slow answers, notices). */
export type PushOutcome =
  | { ok: true }
  /** The channel will not take more messages now (Official Account: 48 h window closed or 5-message quota used). */
  | { ok: false; reason: 'window_closed' | 'quota_exhausted' | 'user_unreachable' | 'failed'; detail?: string };

/** One per channel: how to reach a user of that channel without an open request. */
export interface ChannelPusher {
  push(userId: string, messages: OutboundMessage[]): Promise<PushOutcome>;
}

/**
 * Channels register their pusher at start; domains (agents, insurance notices) push through this without
 * knowing any transport.
 */
export class UserDelivery {
  private readonly pushers = new Map<ChannelName, ChannelPusher>();

  register(channel: ChannelName, pusher: ChannelPusher): void {
    this.pushers.set(channel, pusher);
  }

  async push(channel: ChannelName, userId: string, messages: OutboundMessage[]): Promise<PushOutcome> {
    const pusher = this.pushers.get(channel);
    if (!pusher) return { ok: false, reason: 'user_unreachable', detail: `no pusher for channel ${channel}` };
    return pusher.push(userId, messages);
  }
}
