import mongoose, { Schema } from 'mongoose';
import { RULE_IDS, type InspectionMetrics, type RuleHit } from './inspect';

/**
 * One inspection per finished stretch of a conversation (its `_id` names the first message of the stretch, so
 * the close event and the idle sweep cannot both inspect it) or per voice call.
 */
export interface InspectionRecord {
  _id: string;
  kind: 'chat' | 'voice';
  conversationId: string;
  /** Who the customer is across contacts (chat: the conversation id; voice: `voice:<customer id>`). */
  customerKey: string;
  channel: string;
  agentIds: string[];
  handledBy: 'bot' | 'agent' | 'bot+agent';
  score: number;
  passed: boolean;
  hits: RuleHit[];
  metrics: InspectionMetrics;
  startedAt: Date;
  endedAt: Date;
  inspectedAt: Date;
}

const hitSchema = new Schema(
  { rule: { type: String, enum: RULE_IDS, required: true }, deduction: Number, agentId: String, evidence: [String], detail: String },
  { _id: false },
);

const inspectionSchema = new Schema<InspectionRecord>({
  _id: { type: String, required: true },
  kind: { type: String, enum: ['chat', 'voice'], required: true },
  conversationId: { type: String, required: true },
  customerKey: { type: String, required: true },
  channel: { type: String, required: true },
  agentIds: { type: [String], default: [] },
  handledBy: { type: String, required: true },
  score: { type: Number, required: true },
  passed: { type: Boolean, required: true },
  hits: { type: [hitSchema], default: [] },
  metrics: { type: Schema.Types.Mixed, default: {} },
  startedAt: { type: Date, required: true },
  endedAt: { type: Date, required: true },
  inspectedAt: { type: Date, required: true },
});
inspectionSchema.index({ endedAt: -1 });
inspectionSchema.index({ agentIds: 1, endedAt: -1 });
inspectionSchema.index({ customerKey: 1, endedAt: -1 });
inspectionSchema.index({ conversationId: 1 });

/** How far each conversation has been inspected, keyed by conversation id. */
const cursorSchema = new Schema<{ _id: string; inspectedUntil: Date; lastEndedAt?: Date; lastInspectionId?: string }>({
  _id: { type: String, required: true },
  inspectedUntil: { type: Date, required: true },
  lastEndedAt: Date,
  lastInspectionId: String,
});

/** When an agent took a session (from `agent.action` session.accept): the start of their first-response clock. */
const sessionStartSchema = new Schema<{ _id: string; conversationId: string; agentId: string; at: Date }>({
  _id: { type: String, required: true },
  conversationId: { type: String, required: true, index: true },
  agentId: { type: String, required: true },
  at: { type: Date, required: true },
});

/** The counters behind the anomaly metrics, per agent per inspection. */
export const AGENT_FLAGS = ['rudeness', 'forbiddenPhrases', 'slowResponse', 'emotionWorse', 'failed'] as const;
export type AgentFlag = (typeof AGENT_FLAGS)[number];

/**
 * Per-agent daily aggregates (bucket pattern): `_id` = `${agentId}:${YYYY-MM-DD}` (UTC day, which holds a whole
 * Beijing working day), updated with `$inc` upserts.
 */
export interface AgentQaDayRecord {
  _id: string;
  agentId: string;
  day: Date;
  inspections: number;
  scoreSum: number;
  flags: Record<AgentFlag, number>;
  hits: Record<string, number>;
}

const agentQaDaySchema = new Schema<AgentQaDayRecord>({
  _id: { type: String, required: true },
  agentId: { type: String, required: true },
  day: { type: Date, required: true },
  inspections: { type: Number, default: 0 },
  scoreSum: { type: Number, default: 0 },
  flags: { type: Schema.Types.Mixed, default: {} },
  hits: { type: Schema.Types.Mixed, default: {} },
});
agentQaDaySchema.index({ agentId: 1, day: 1 });
agentQaDaySchema.index({ day: 1 });

/** A voice call posted for inspection: the turns as received, so evidence ids (`<callId>#<turn>`) resolve. */
export interface VoiceCallRecord {
  _id: string;
  agentId: string;
  customerId?: string;
  startedAt: Date;
  turns: Array<{ id: string; speaker: 'agent' | 'customer'; text: string; startAt: Date; endAt: Date; emotion?: { label: string; intensity: number; polarity: string } }>;
  receivedAt: Date;
  /** SHA-256 of the call as posted: tells an identical retry from other content under the same call id. */
  contentDigest?: string;
}

const voiceTurnSchema = new Schema(
  { id: String, speaker: String, text: String, startAt: Date, endAt: Date, emotion: { type: Schema.Types.Mixed, required: false } },
  { _id: false },
);

const voiceCallSchema = new Schema<VoiceCallRecord>({
  _id: { type: String, required: true },
  agentId: { type: String, required: true },
  customerId: String,
  startedAt: { type: Date, required: true },
  turns: { type: [voiceTurnSchema], default: [] },
  receivedAt: { type: Date, required: true },
  contentDigest: String,
});

export const Inspection = mongoose.model<InspectionRecord>('QaInspection', inspectionSchema);
export const InspectionCursor = mongoose.model('QaInspectionCursor', cursorSchema);
export const SessionStart = mongoose.model('QaSessionStart', sessionStartSchema);
export const AgentQaDay = mongoose.model<AgentQaDayRecord>('QaAgentDay', agentQaDaySchema);
export const VoiceCall = mongoose.model<VoiceCallRecord>('QaVoiceCall', voiceCallSchema);

const DAY_MS = 86_400_000;
export const utcDayStart = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
/** The last `days` whole UTC days, today included: [start of the first, start of tomorrow). */
export const lastUtcDays = (now: Date, days: number) => ({
  from: new Date(utcDayStart(now).getTime() - (days - 1) * DAY_MS),
  to: new Date(utcDayStart(now).getTime() + DAY_MS),
});
export const agentDayId = (agentId: string, at: Date) => `${agentId}:${utcDayStart(at).toISOString().slice(0, 10)}`;
