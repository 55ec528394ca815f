import type { ChannelName, OutboundMessage } from './types';

/** The outcome of pushing messages to a user outside a reply (agent relay, slow answers, notices). */
export type PushOutcome =
  | { ok: true }
  /** The channel will not take more messages now (Official Account: 48 h window closed or 5-message quota used). */
  /** `nothingSent`: the channel received none of it (no token, a rate limit), so trying again later cannot send it twice. */
  | { ok: false; reason: 'window_closed' | 'quota_exhausted' | 'user_unreachable' | 'failed'; detail?: string; nothingSent?: true };

/** One per channel: how to reach a user of that channel without an open request. */
export interface ChannelPusher {
  push(userId: string, messages: OutboundMessage[]): Promise<PushOutcome>;
}

/** Who a pushed message is from, for the transcript. */
export interface PushAuthor {
  author: 'bot' | 'agent';
  agentId?: string;
}

/** Keeps the transcript whole: every pushed message is stored once, whatever the channel. */
export type TranscriptRecorder = (
  channel: ChannelName, userId: string, message: OutboundMessage, from: PushAuthor,
) => Promise<unknown>;

/**
 * Channels register their pusher at start; domains (agents, insurance notices) push through this without
 * knowing any transport. Each pushed message is recorded in the transcript here, in one place (for the
 * mini-program, that record is the delivery: its chat page polls for it).
 */
export class UserDelivery {
  private readonly pushers = new Map<ChannelName, ChannelPusher>();

  constructor(private readonly record: TranscriptRecorder) {}

  register(channel: ChannelName, pusher: ChannelPusher): void {
    this.pushers.set(channel, pusher);
  }

  async push(channel: ChannelName, userId: string, messages: OutboundMessage[], from: PushAuthor = { author: 'bot' }): Promise<PushOutcome> {
    const pusher = this.pushers.get(channel);
    if (!pusher) return { ok: false, reason: 'user_unreachable', detail: `no pusher for channel ${channel}` };
    const outcome = await pusher.push(userId, messages);
    if (outcome.ok) for (const message of messages) await this.record(channel, userId, message, from);
    return outcome;
  }
}
