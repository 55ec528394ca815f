import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import { writtenOnEveryMessage } from '../db/write-partitions';

/**
 * A conversation's dialogue state — pending choices, slots, streaks, emotions, who serves it — as a log of
 * snapshots, one per change: `_id` = `${conversationId}#${seq}` with `seq` counting up from 1. A change is
 * written by inserting the next snapshot, so two writers that started from the same state collide on the `_id`
 * (portable optimistic concurrency: no conditional update, which is not atomic on FerretDB) and the loser starts
 * again from the newer state. Inserts are also the one write FerretDB/SQLite does without scanning its table.
 * The latest snapshot is the conversation; `conversationIdFor` names it.
 */
const choiceSchema = new Schema({ number: Number, label: String, subIntentId: String }, { _id: false });
const emotionSchema = new Schema({ label: String, intensity: Number, polarity: String, at: Date }, { _id: false });

const conversationStateSchema = new Schema(
  {
    _id: { type: String, required: true },
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
    channel: { type: String, required: true },
    userId: { type: String, required: true },
    state: { type: String, enum: ['bot', 'waiting_agent', 'human'], default: 'bot' },
    vip: { type: Boolean, default: false },
    unionId: String,
    pendingChoices: { type: [choiceSchema], default: [] },
    pendingSlot: { type: new Schema({ slot: String, subIntentId: String }, { _id: false }), required: false },
    /** Facts collected across turns (product, policy number ...), as strings. */
    slots: { type: Schema.Types.Mixed, default: {} },
    lowConfidenceStreak: { type: Number, default: 0 },
    /** The most recent emotion readings, newest last. */
    emotions: { type: [emotionSchema], default: [] },
    lastScenarioId: String,
    lastSubIntentId: String,
    handoff: {
      type: new Schema({ reasons: [String], at: Date }, { _id: false }),
      required: false,
    },
    lastActivityAt: { type: Date, required: true },
    /** The WeCom userid of the agent serving a human session. */
    agentId: String,
    /** The inbound message whose decision made this snapshot (absent for an agent's or the system's change). */
    messageId: String,
    /** That decision and its replies: a delivery whose process died after this insert is finished from here. */
    decision: { type: Schema.Types.Mixed },
    replies: { type: [Schema.Types.Mixed], default: undefined },
    writtenAt: { type: Date, required: true },
  },
  { versionKey: false },
);
conversationStateSchema.index({ conversationId: 1, seq: -1 });
conversationStateSchema.index({ lastActivityAt: 1 });
conversationStateSchema.index({ messageId: 1 });
conversationStateSchema.index({ writtenAt: 1 });

/**
 * Every message in and out, written once when its answer is decided. Inbound `_id` = channel + the channel's
 * dedupe key (the same as its claim's), so a retried delivery finds the stored replies instead of a second run.
 */
const messageSchema = new Schema(
  {
    _id: { type: String, required: true },
    conversationId: { type: String, required: true },
    channel: { type: String, required: true },
    userId: { type: String, required: true },
    direction: { type: String, enum: ['in', 'out'], required: true },
    author: { type: String, enum: ['user', 'bot', 'agent'], required: true },
    kind: { type: String, required: true },
    text: String,
    /** The inbound message as the channel gave it. */
    inbound: { type: Schema.Types.Mixed },
    status: { type: String, enum: ['done'], required: true },
    claimedAt: { type: Date, required: true },
    understanding: { type: Schema.Types.Mixed },
    decision: { type: Schema.Types.Mixed },
    replies: { type: [Schema.Types.Mixed], default: [] },
    /** How the replies reach the user: passively in the HTTP answer, or later through the channel's push API. */
    delivery: {
      type: new Schema(
        {
          mode: { type: String, enum: ['passive', 'push', 'none'] },
          state: { type: String, enum: ['pending', 'sending', 'sent', 'failed'] },
          attempts: { type: Number, default: 0 },
          error: String,
          at: Date,
        },
        { _id: false },
      ),
      required: false,
    },
    agentId: String,
  },
  { timestamps: true },
);

// A conversation's messages by time: transcripts, tickets, agent cards and QA read by createdAt; the mini-program
// chat polls by updatedAt. Both serve queries by conversationId alone too (prefix).
messageSchema.index({ conversationId: 1, createdAt: -1 });
messageSchema.index({ conversationId: 1, updatedAt: -1 });

/**
 * A delivery being handled: inserted before anything else, so a retry of the same delivery collides on the `_id`
 * (the message's) and waits for — or, once the claim is stale because its process died, takes over — the answer.
 * Kept small (it is written for every message): a retry brings the message again, and a channel that must finish
 * on its own after a crash keeps what it needs (the Official Account's owed pushes keep the inbound message).
 */
const messageClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    conversationId: { type: String, required: true },
    claimedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
messageClaimSchema.index({ claimedAt: 1 });

/** One conversation per user per channel. */
export const conversationIdFor = (channel: string, userId: string) => `${channel}:${userId}`;

export const ConversationState = writtenOnEveryMessage(mongoose.model('ConversationState', conversationStateSchema), 'states');
export const Message = writtenOnEveryMessage(mongoose.model('Message', messageSchema), 'messages');
export const MessageClaim = writtenOnEveryMessage(mongoose.model('MessageClaim', messageClaimSchema), 'claims');
export type ConversationStateDoc = InferSchemaType<typeof conversationStateSchema> & { _id: string };
export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: string };
