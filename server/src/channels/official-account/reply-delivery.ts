import mongoose, { Schema } from 'mongoose';
import type { ChannelPusher } from '../../conversation/delivery';
import { ConversationPipeline, DuplicateInProgress } from '../../conversation/pipeline';
import { BatchedInserts } from '../../db/batched-inserts';
import { writtenOnEveryMessage } from '../../db/write-partitions';
import { Message, type MessageDoc } from '../../conversation/models';
import type { InboundMessage, OutboundMessage, PipelineResult } from '../../conversation/types';
import type { Logger } from '../../logging/logger';
import { isDuplicateKey } from '../../db/duplicate-key';

/** A push WeChat never received is retried by the recovery sweep until the user's 48 h window would be over. */
const RETRY_UNSENT_FOR_MS = 48 * 3_600_000;

/**
 * Answers that missed the passive-reply budget and must go out as customer-service messages. A row exists from
 * the moment we answered `success` until the push is done, so a restart finds what it still owes.
 */
const pendingPushSchema = new Schema({
  _id: { type: String, required: true }, // the message id
  userId: { type: String, required: true },
  /** The message as it came in: a restart that finds the answer unfinished runs it again from this. */
  inbound: { type: Schema.Types.Mixed, required: true },
  createdAt: { type: Date, required: true },
});
export const PendingPush = mongoose.model('OfficialAccountPendingPush', pendingPushSchema);

/**
 * Decisions that must be taken exactly once per message, made by inserting a row: an insert either wins or hits
 * the duplicate key, on MongoDB and FerretDB alike (a conditional update is not atomic on FerretDB/SQLite).
 * `plan:<id>` says how the answer goes out (passive / push / none); `send:<id>` is taken by whoever pushes a planned
 * push, `repush:<id>` marks a passive plan whose reply never arrived, and `resend:<id>` is taken by whoever pushes that.
 */
const deliveryClaimSchema = new Schema({
  _id: { type: String, required: true },
  mode: { type: String, enum: ['passive', 'push', 'none'] },
  at: { type: Date, required: true },
});
export const DeliveryClaim = writtenOnEveryMessage(mongoose.model('OfficialAccountDeliveryClaim', deliveryClaimSchema), 'deliveries');

const claims = new BatchedInserts<{ _id: string; mode?: 'passive' | 'push' | 'none'; at: Date }>(() => DeliveryClaim);

async function claim(id: string, mode?: 'passive' | 'push' | 'none'): Promise<boolean> {
  return (await claims.insert(mode ? { _id: id, mode, at: new Date() } : { _id: id, at: new Date() })) === 'inserted';
}

/** What the webhook answers WeChat: the replies to send passively, or nothing (`success`). */
export type WebhookAnswer = { replies: OutboundMessage[] } | { replies: undefined };

export interface ReplyDeliveryDeps {
  pipeline: ConversationPipeline;
  pusher: ChannelPusher;
  budgetMs: number;
  logger: Logger;
}

/**
 * Records on the message how a push went (for people reading the transcript; the claims decide). A passive reply
 * is not recorded: its plan claim says so, and the message is written as it goes out.
 */
const recordDelivery = (messageId: string, delivery: Record<string, unknown>) =>
  Message.updateOne({ _id: messageId }, { $set: { delivery: { ...delivery, at: new Date() } } });

/**
 * The Official Account's rule: answer within about 4 s in the HTTP response, or say `success` and push the answer
 * later — exactly once either way, across retries and restarts.
 */
export class ReplyDelivery {
  private readonly inFlight = new Set<Promise<unknown>>();
  private recoveryTimer: NodeJS.Timeout | undefined;
  private recovering = false;

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
      await this.owePush(messageId, inbound);
      // The answer is still being worked out: push it when ready.
      this.track(work.then(() => this.pushIfOwed(messageId)).catch((err: unknown) => this.deps.logger.error({ err, messageId }, 'late answer failed')));
      return { replies: undefined };
    }
    if (!outcome) {
      // Another request (perhaps in a process that just died) holds this delivery. Owe a push, so that either its
      // owner answers it or the recovery sweep runs it again once the claim is stale: never lost.
      await this.owePush(messageId, inbound);
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

  /**
   * How the answer goes out now: the plan, except that a passive plan becomes a push once a retry had to say
   * `success` (WeChat retries only when it never got our reply, so that passive reply was not shown).
   */
  private async deliveryMode(id: string): Promise<'passive' | 'push' | 'none' | undefined> {
    if (await DeliveryClaim.exists({ _id: `repush:${id}` })) return 'push';
    return (await DeliveryClaim.findById(`plan:${id}`).lean())?.mode ?? undefined;
  }

  /** The claim whoever pushes must take: a re-push after a passive plan has its own. */
  private async sendClaimId(id: string): Promise<string> {
    return (await DeliveryClaim.exists({ _id: `repush:${id}` })) ? `resend:${id}` : `send:${id}`;
  }

  /** Decides, once, that this result goes out in the HTTP response. */
  private async claimPassive(result: PipelineResult): Promise<WebhookAnswer> {
    const id = result.messageId;
    if (result.replies.length === 0) {
      await claim(`plan:${id}`, 'none');
      return { replies: undefined };
    }
    // Every later push of a passive plan goes through `repush:` / `resend:`, so this one claim is all it takes.
    if (await claim(`plan:${id}`, 'passive')) return { replies: result.replies };
    const mode = await this.deliveryMode(id);
    // A passive reply WeChat retries for never reached it: the same reply again.
    if (mode === 'passive') return { replies: result.replies };
    // A push still owed can be answered here instead (WeChat retried: our `success` never arrived).
    if (mode === 'push' && (await claim(await this.sendClaimId(id)))) {
      await PendingPush.deleteOne({ _id: id });
      await recordDelivery(id, { mode: 'passive', state: 'sent' });
      return { replies: result.replies };
    }
    return { replies: undefined };
  }

  /** Plans a push (unless the answer already went out as a push) and records that it is owed, before `success`. */
  private async owePush(messageId: string, inbound: InboundMessage): Promise<void> {
    if (!(await claim(`plan:${messageId}`, 'push'))) {
      const mode = await this.deliveryMode(messageId);
      if (mode === 'none') return;
      // Planned passive, but this retry must say `success`: that reply was never shown, so push it instead (once).
      if (mode === 'passive' && !(await claim(`repush:${messageId}`))) return;
    }
    // Idempotent: a process may have died between planning and recording; the send claim keeps it to one push.
    await PendingPush.create({ _id: messageId, userId: inbound.userId, inbound, createdAt: new Date() }).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
    await recordDelivery(messageId, { mode: 'push', state: 'pending' });
  }

  /** Sends an owed push once: whoever takes its send claim sends it. */
  async pushIfOwed(messageId: string): Promise<boolean> {
    const message = await Message.findById(messageId).lean<MessageDoc>();
    if (!message) return false;
    const owed = await PendingPush.findById(messageId).lean();
    if (!owed) return false;
    const sendClaimId = await this.sendClaimId(messageId);
    if (!(await claim(sendClaimId))) return false;
    const replies = (message.replies ?? []) as OutboundMessage[];
    const outcome = replies.length ? await this.deps.pusher.push(message.userId, replies) : { ok: true as const };
    if (!outcome.ok && outcome.nothingSent && Date.now() - new Date(owed.createdAt).getTime() < RETRY_UNSENT_FOR_MS) {
      // WeChat received nothing (no access_token, a rate limit): still owed. Giving the send claim back lets the
      // next recovery sweep try again, and the claim still keeps it to one push.
      await DeliveryClaim.deleteOne({ _id: sendClaimId });
      await recordDelivery(messageId, { mode: 'push', state: 'pending', error: outcome.reason });
      this.deps.logger.warn({ messageId, detail: outcome.detail }, 'customer-service message not sent yet; will retry');
      return false;
    }
    await recordDelivery(messageId, outcome.ok ? { mode: 'push', state: 'sent' } : { mode: 'push', state: 'failed', error: outcome.reason });
    await PendingPush.deleteOne({ _id: messageId });
    if (!outcome.ok) this.deps.logger.warn({ messageId, reason: outcome.reason }, 'customer-service message not delivered');
    return outcome.ok;
  }

  /**
   * After a restart: finish what a dead process owed. Unfinished answers are run again (the pipeline takes over
   * stale claims); a push that was mid-send is not repeated, because it may have reached the user.
   */
  async recover(staleAfterMs: number): Promise<number> {
    if (this.recovering) return 0; // one sweep at a time in this process
    this.recovering = true;
    try {
      return await this.recoverOwed(staleAfterMs);
    } finally {
      this.recovering = false;
    }
  }

  private async recoverOwed(staleAfterMs: number): Promise<number> {
    let delivered = 0;
    const cutoff = new Date(Date.now() - staleAfterMs);
    for (const owed of await PendingPush.find({ createdAt: { $lt: cutoff } }).lean()) {
      if (await DeliveryClaim.exists({ _id: await this.sendClaimId(owed._id) })) {
        // Someone took the send and died before finishing: it may have reached the user, so it is not repeated.
        await recordDelivery(owed._id, { mode: 'push', state: 'failed', error: 'interrupted while sending; not repeated' });
        await PendingPush.deleteOne({ _id: owed._id });
        continue;
      }
      // Not answered yet: run it again (the pipeline takes over the dead process's stale claim).
      if (owed.inbound && !(await Message.exists({ _id: owed._id }))) {
        await this.run(owed.inbound as InboundMessage, owed._id).catch((err: unknown) => this.deps.logger.error({ err }, 'recovery run failed'));
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
