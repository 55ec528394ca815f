import mongoose, { Schema, type InferSchemaType } from 'mongoose';

/**
 * One conversation per user per channel, keyed `${channel}:${userId}` so every message finds it by `_id`.
 * It carries the dialogue state that must survive across instances: pending choices, slots, streaks, emotions.
 */
const choiceSchema = new Schema({ number: Number, label: String, subIntentId: String }, { _id: false });
const emotionSchema = new Schema({ label: String, intensity: Number, polarity: String, at: Date }, { _id: false });

const conversationSchema = new Schema(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    userId: { type: String, required: true },
    state: { type: String, enum: ['bot', 'waiting_agent', 'human'], default: 'bot' },
    vip: { type: Boolean, default: false },
    unionId: String,
    pendingChoices: { type: [choiceSchema], default: [] },
    pendingSlot: { type: new Schema({ slot: String, subIntentId: String }, { _id: false }), required: false },
    /** Facts collected across turns (product, policy number ...), as strings. */
    slots: { type: Map, of: String, default: {} },
    lowConfidenceStreak: { type: Number, default: 0 },
    /** The most recent emotion readings, newest last (trimmed in code: `$push` with `$slice` is not portable). */
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
  },
  { timestamps: true },
);

/**
 * Every message in and out. Inbound `_id` = channel + the channel's dedupe key, so a retried delivery collides
 * on insert (portable duplicate detection) and gets the stored replies instead of a second run.
 */
const messageSchema = new Schema(
  {
    _id: { type: String, required: true },
    conversationId: { type: String, required: true, index: true },
    channel: { type: String, required: true },
    userId: { type: String, required: true },
    direction: { type: String, enum: ['in', 'out'], required: true },
    author: { type: String, enum: ['user', 'bot', 'agent'], required: true },
    kind: { type: String, required: true },
    text: String,
    /** The inbound message as the channel gave it, so a delivery whose process died can be run again. */
    inbound: { type: Schema.Types.Mixed },
    status: { type: String, enum: ['processing', 'done'], required: true },
    /** When processing was claimed; a stale claim (its process died) may be taken over by a retry. */
    claimedAt: { type: Date, required: true },
    understanding: { type: Schema.Types.Mixed },
    decision: { type: Schema.Types.Mixed },
    /** The decision and its effects, stored before they are applied; a retry after a crash finishes this plan. */
    plan: { type: Schema.Types.Mixed },
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

/** One conversation per user per channel: its `_id`. */
export const conversationIdFor = (channel: string, userId: string) => `${channel}:${userId}`;

export const Conversation = mongoose.model('Conversation', conversationSchema);
export const Message = mongoose.model('Message', messageSchema);
export type ConversationDoc = InferSchemaType<typeof conversationSchema> & { _id: string };
export type MessageDoc = InferSchemaType<typeof messageSchema> & { _id: string };
