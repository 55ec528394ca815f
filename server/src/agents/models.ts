import mongoose, { Schema, type InferSchemaType } from 'mongoose';
import type { ChannelName, HandoffReason } from '../conversation/types';

export const STAFF_ROLES = ['agent', 'manager'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
export const AGENT_STATES = ['on_duty', 'busy', 'off'] as const;
export type AgentStatus = (typeof AGENT_STATES)[number];

/**
 * A human agent or manager, keyed by their WeCom userid. Name, team, skills and capacity come from
 * wechat-config/agents.yaml (synced at start); status and the routing facts below are live, shared by every instance.
 */
const agentSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, enum: STAFF_ROLES, required: true, default: 'agent' },
    team: { type: String, default: 'default' },
    /** Scenario or intent ids this agent handles (`claim-progress`, `claim-progress/why-slow`), or `reason:complaint`. */
    skills: { type: [String], default: [] },
    capacity: { type: Number, default: 3 },
    status: { type: String, enum: AGENT_STATES, default: 'off' },
    statusChangedAt: Date,
    /** Since when the agent has had no session: "longest idle" routing picks the smallest. */
    idleSince: Date,
    lastOfferedAt: Date,
    /** The session a plain-text reply goes to when the agent serves several at once. */
    focusSessionId: String,
  },
  { timestamps: true },
);

/** API tokens for the agent console, stored only as a SHA-256 hash (the `_id`, so lookup is a key read). */
const agentTokenSchema = new Schema({
  _id: { type: String, required: true },
  agentId: { type: String, required: true, index: true },
  createdAt: { type: Date, default: () => new Date() },
});

export const Agent = mongoose.model('Agent', agentSchema);
export const AgentToken = mongoose.model('AgentToken', agentTokenSchema);
export type AgentDoc = InferSchemaType<typeof agentSchema> & { _id: string };

export const SESSION_STATES = ['queued', 'offered', 'active', 'ended'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
export type SessionEndReason = 'agent' | 'no_agent' | 'queue_timeout' | 'conversation_closed';

/**
 * One handoff from the bot to a human, from queueing to the end of the live session. `_id` is the short number
 * agents type (`#1024`), so their commands are key reads.
 */
export interface HumanSessionRecord {
  _id: string;
  conversationId: string;
  channel: ChannelName;
  userId: string;
  vip: boolean;
  reasons: HandoffReason[];
  scenarioId?: string;
  intentId?: string;
  subIntentId?: string;
  /** What the customer asked about, in the knowledge base's words (the sub-intent's name). */
  topic?: string;
  /** First reading at handoff; `lastEmotion` follows the user through the session for the agent-assist trend. */
  emotion?: { label: string; intensity: number; polarity: string };
  lastEmotion?: { label: string; intensity: number; polarity: string };
  state: SessionState;
  /** Keeps its place across re-queues (missed offer, transfer): the queue is fair to the customer. */
  queuedAt: Date;
  queueNoticeAt?: Date;
  /** The place in the queue the customer was last told (told again only when it changes). */
  queueNoticePosition?: number;
  offeredTo?: string;
  offeredAt?: Date;
  offerExpiresAt?: Date;
  /** Agents who missed or passed on this session; tried last. */
  passedBy: string[];
  /** A transfer to a named agent or team. */
  targetAgentId?: string;
  targetTeam?: string;
  transferredBy?: string;
  agentId?: string;
  acceptedAt?: Date;
  endedAt?: Date;
  endReason?: SessionEndReason;
  ticketId?: string;
  lastUserMessageAt?: Date;
  /** The agent's last reply that reached the customer: a customer left unanswered longer is handed on. */
  lastAgentReplyAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

const emotionSchema = new Schema({ label: String, intensity: Number, polarity: String }, { _id: false });

const humanSessionSchema = new Schema<HumanSessionRecord>(
  {
    _id: { type: String, required: true },
    conversationId: { type: String, required: true },
    channel: { type: String, required: true },
    userId: { type: String, required: true },
    vip: { type: Boolean, default: false },
    reasons: { type: [String], default: [] },
    scenarioId: String,
    intentId: String,
    subIntentId: String,
    topic: String,
    emotion: { type: emotionSchema, required: false },
    lastEmotion: { type: emotionSchema, required: false },
    state: { type: String, enum: SESSION_STATES, required: true },
    queuedAt: { type: Date, required: true },
    queueNoticeAt: Date,
    queueNoticePosition: Number,
    offeredTo: String,
    offeredAt: Date,
    offerExpiresAt: Date,
    passedBy: { type: [String], default: [] },
    targetAgentId: String,
    targetTeam: String,
    transferredBy: String,
    agentId: String,
    acceptedAt: Date,
    endedAt: Date,
    endReason: String,
    ticketId: String,
    lastUserMessageAt: Date,
    lastAgentReplyAt: Date,
  },
  { timestamps: true },
);
humanSessionSchema.index({ state: 1, queuedAt: 1 });
humanSessionSchema.index({ agentId: 1, state: 1 });
humanSessionSchema.index({ offeredTo: 1, state: 1 });
humanSessionSchema.index({ conversationId: 1 });

/**
 * The open session of a conversation, keyed by conversation id: a user message finds its session by key, and a
 * second handoff event for the same conversation collides on insert instead of opening a second session.
 */
const openSessionSchema = new Schema<{ _id: string; sessionId: string; at: Date }>({
  _id: { type: String, required: true },
  sessionId: { type: String, required: true },
  at: { type: Date, required: true },
});

/**
 * An agent reply the channel refused (48 h window, quota), sent when the customer writes again. A document of its
 * own, not an array on the session: a held reply is added while another instance may be sending the earlier ones,
 * and FerretDB's `$pull` only removes exact copies, so an array could not be emptied without losing the newcomer.
 */
export interface HeldReplyRecord {
  /** An ObjectId's hex: ascending in the order one instance held them (`at` alone ties within a millisecond). */
  _id: string;
  sessionId: string;
  text: string;
  agentId: string;
  at: Date;
}
const heldReplySchema = new Schema<HeldReplyRecord>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true, index: true },
    text: { type: String, required: true },
    agentId: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

/**
 * A held reply taken for sending, keyed by the reply's id: when the customer's messages are handled on two instances
 * at once, only the one whose insert wins sends it. Kept after sending (a late reader must still lose), purged by date.
 */
const heldReplyClaimSchema = new Schema<{ _id: string; at: Date }>(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false },
);
heldReplyClaimSchema.index({ at: 1 });

/** Sequence for session numbers (#1001, #1002 …). */
const deskCounterSchema = new Schema<{ _id: string; seq: number }>({
  _id: { type: String, required: true },
  seq: { type: Number, required: true, default: 0 },
});

/** Audit log: who did what, when, to which session or ticket. `actor` is a WeCom userid or 'system'. */
export interface AgentActionRecord {
  _id: string;
  at: Date;
  actor: string;
  action: string;
  sessionId?: string;
  ticketId?: string;
  conversationId?: string;
  detail?: Record<string, unknown>;
}
const agentActionSchema = new Schema<AgentActionRecord>({
  _id: { type: String, required: true },
  at: { type: Date, required: true },
  actor: { type: String, required: true },
  action: { type: String, required: true },
  sessionId: String,
  ticketId: String,
  conversationId: String,
  detail: { type: Schema.Types.Mixed },
});
agentActionSchema.index({ actor: 1, at: -1 });
agentActionSchema.index({ at: -1 });

/**
 * One of an agent's seats (`${agentId}#${k}`, k < capacity): a session offered to or served by the agent holds one.
 * Taking a seat is an insert, so two instances routing at the same instant cannot both give an agent the last one.
 */
const agentSeatSchema = new Schema<{ _id: string; agentId: string; sessionId: string; at: Date }>(
  {
    _id: { type: String, required: true },
    agentId: { type: String, required: true },
    sessionId: { type: String, required: true, index: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export const HumanSession = mongoose.model<HumanSessionRecord>('HumanSession', humanSessionSchema);
export const AgentSeat = mongoose.model('AgentSeat', agentSeatSchema);
export const OpenSession = mongoose.model('OpenHumanSession', openSessionSchema);
export const DeskCounter = mongoose.model('AgentDeskCounter', deskCounterSchema);
export const AgentAction = mongoose.model<AgentActionRecord>('AgentAction', agentActionSchema);
export const HeldReply = mongoose.model<HeldReplyRecord>('HeldAgentReply', heldReplySchema);
export const HeldReplyClaim = mongoose.model('HeldAgentReplyClaim', heldReplyClaimSchema);
