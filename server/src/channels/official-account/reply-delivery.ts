import mongoose, { Schema } from 'mongoose';
import type { ChannelPusher } from '../../conversation/delivery';
import { ConversationPipeline, DuplicateInProgress } from '../../conversation/pipeline';
import { Message, type MessageDoc } from '../../conversation/models';
import type { InboundMessage, OutboundMessage, PipelineResult } from '../../conversation/types';
import type { Logger } from '../../logging/logger';

/**
 * Answers that missed the passive-reply budget and must go out as customer-service messages. A row exists from
 * the moment we answered `success` until the push is done, so a restart finds what it still owes (and nothing
 * it already sent).
 */
const pendingPushSchema = new Schema({
  _id: { type: String, required: true }, // the message id
  userId: { type: String, required: true },
  state: { type: String, enum: ['pending', 'sending'], required: true },
  createdAt: { type: Date, required: true },
});
export const PendingPush = mongoose.model('OfficialAccountPendingPush', pendingPushSchema);

/** What the webhook answers WeChat: the replies to send passively, or nothing (`success`). */
export type WebhookAnswer = { replies: OutboundMessage[] } | { replies: undefined };

export interface ReplyDeliveryDeps {
  pipeline: ConversationPipeline;
  pusher: ChannelPusher;
  budgetMs: number;
  logger: Logger;
}

const setDelivery = (messageId: string, delivery: Record<string, unknown>, onlyIfUnset: boolean) =>
  Message.updateOne(onlyIfUnset ? { _id: messageId, delivery: { $exists: false } } : { _id: messageId }, { $set: { delivery: { ...delivery, at: new Date() } } });

/**
 * The Official Account's rule: answer within about 4 s in the HTTP response, or say `success` and push the answer
 * later — exactly once either way, across retries and restarts.
 */
export class ReplyDelivery {
  private readonly inFlight = new Set<Promise<unknown>>();
  private recoveryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ReplyDeliveryDeps) {}

  async answer(inbound: InboundMessage): Promise<WebhookAnswer> {
    const messageId = ConversationPipeline.messageId(inbound);
    const work = this.track(this.run(inbound, messageId));
    const timedOut = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      work,
      new Promise<typeof timedOut>((resolve) => { timer = setTimeout(() => resolve(timedOut), this.deps.budgetMs); }),
    ]).finally(() => clearTimeout(timer));

    if (outcome === timedOut) {
      await this.owePush(messageId, inbound.userId);
      // The answer is still being worked out: push it when ready.
      this.track(work.then(() => this.pushIfOwed(messageId)).catch((err: unknown) => this.deps.logger.error({ err, messageId }, 'late answer failed')));
      return { replies: undefined };
    }
    if (!outcome) {
      // Another request (perhaps in a process that just died) holds this delivery. Owe a push, so that either its
      // owner answers it or the recovery sweep runs it again once the claim is stale: never lost.
      await this.owePush(messageId, inbound.userId);
      return { replies: undefined };
    }
    return this.claimPassive(outcome);
  }

  /** Runs the pipeline; a concurrent duplicate waits for the first one's stored result. */
  private async run(inbound: InboundMessage, messageId: string): Promise<PipelineResult | undefined> {
    try {
      return await this.deps.pipeline.handle(inbound);
    } catch (err) {
      if (!(err instanceof DuplicateInProgress)) throw err;
      return this.deps.pipeline.waitForResult(messageId, this.deps.budgetMs);
    }
  }

  /** Decides, once, that this result goes out in the HTTP response. */
  private async claimPassive(result: PipelineResult): Promise<WebhookAnswer> {
    if (result.replies.length === 0) {
      await setDelivery(result.messageId, { mode: 'none', state: 'sent' }, true);
      return { replies: undefined };
    }
    const fresh = await setDelivery(result.messageId, { mode: 'passive', state: 'sent' }, true);
    if (fresh.modifiedCount === 1) return { replies: result.replies };
    // Seen before. A push still owed can be answered here instead (WeChat retried: our `success` never arrived).
    const owed = await PendingPush.deleteOne({ _id: result.messageId, state: 'pending' });
    if (owed.deletedCount === 1) {
      await setDelivery(result.messageId, { mode: 'passive', state: 'sent' }, false);
      return { replies: result.replies };
    }
    const stored = await Message.findById(result.messageId, { delivery: 1 }).lean<MessageDoc>();
    // A passive reply WeChat retries for never reached it: send the same reply again. A push is never repeated.
    return stored?.delivery?.mode === 'passive' ? { replies: result.replies } : { replies: undefined };
  }

  private async owePush(messageId: string, userId: string): Promise<void> {
    const marked = await setDelivery(messageId, { mode: 'push', state: 'pending' }, true);
    if (marked.modifiedCount !== 1) return; // already delivered or owed
    await PendingPush.create({ _id: messageId, userId, state: 'pending', createdAt: new Date() }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 11000) throw err;
    });
  }

  /** Sends an owed push once: whoever moves it from pending to sending sends it. */
  async pushIfOwed(messageId: string): Promise<boolean> {
    const message = await Message.findById(messageId).lean<MessageDoc>();
    if (!message || message.status !== 'done') return false;
    const claimed = await PendingPush.updateOne({ _id: messageId, state: 'pending' }, { $set: { state: 'sending' } });
    if (claimed.modifiedCount !== 1) return false;
    const replies = (message.replies ?? []) as OutboundMessage[];
    const outcome = replies.length ? await this.deps.pusher.push(message.userId, replies) : { ok: true as const };
    await setDelivery(messageId, outcome.ok ? { mode: 'push', state: 'sent' } : { mode: 'push', state: 'failed', error: outcome.reason }, false);
    await PendingPush.deleteOne({ _id: messageId });
    if (!outcome.ok) this.deps.logger.warn({ messageId, reason: outcome.reason }, 'customer-service message not delivered');
    return outcome.ok;
  }

  /**
   * After a restart: finish what a dead process owed. Unfinished answers are run again (the pipeline takes over
   * stale claims); a push that was mid-send is not repeated, because it may have reached the user.
   */
  async recover(staleAfterMs: number): Promise<number> {
    let delivered = 0;
    const cutoff = new Date(Date.now() - staleAfterMs);
    for (const owed of await PendingPush.find({ createdAt: { $lt: cutoff } }).lean()) {
      if (owed.state === 'sending') {
        await setDelivery(owed._id, { mode: 'push', state: 'failed', error: 'interrupted while sending; not repeated' }, false);
        await PendingPush.deleteOne({ _id: owed._id });
        continue;
      }
      const message = await Message.findById(owed._id).lean<MessageDoc>();
      if (message?.status === 'processing' && message.inbound) {
        await this.run(message.inbound as InboundMessage, owed._id).catch((err: unknown) => this.deps.logger.error({ err }, 'recovery run failed'));
      }
      if (await this.pushIfOwed(owed._id)) delivered++;
    }
    return delivered;
  }

  /** Runs `recover` every `intervalMs` (each instance; the claims make it safe to overlap). */
  startRecovery(intervalMs: number, staleAfterMs: number): void {
    this.stopRecovery();
    this.recoveryTimer = setInterval(() => {
      this.recover(staleAfterMs).catch((err: unknown) => this.deps.logger.error({ err }, 'push recovery failed'));
    }, intervalMs);
    this.recoveryTimer.unref();
  }

  stopRecovery(): void {
    if (this.recoveryTimer) clearInterval(this.recoveryTimer);
    this.recoveryTimer = undefined;
  }

  /** Resolves when every late answer started so far has been pushed (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => {});
    return promise;
  }
}
