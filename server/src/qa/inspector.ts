import { createHash } from 'node:crypto';
import { quietConversations } from '../conversation/states';
import { loadTranscript, loadTranscripts, type Transcript, type TranscriptTurn } from '../conversation/transcripts';
import type { EmotionReading } from '../conversation/types';
import type { EventBus } from '../events/bus';
import type { DomainEvents } from '../events/types';
import type { AgentAnomalyMonitor } from './anomalies';
import { agentFlags } from './anomalies';
import { inspectTranscript, type InspectionResult } from './inspect';
import {
  AgentQaDay, Inspection, InspectionCursor, SessionStart, VoiceCall, agentDayId, utcDayStart,
  type AgentQaDayRecord, type InspectionRecord, type VoiceCallRecord,
} from './models';
import type { QaRules } from './rules';
import { isDuplicateKey } from '../db/duplicate-key';

/**
 * Inspects every finished conversation: when it closes (`conversation.closed`) and, for conversations that just
 * go quiet, in a sweep after `idleMs` of silence. Voice calls are inspected when posted. Each inspection updates
 * the agents' daily aggregates and asks the anomaly monitor about the agents involved.
 */

export interface QaInspectorOptions {
  events: EventBus;
  rules: QaRules;
  now: () => Date;
  /** A conversation silent this long is finished. */
  idleMs: number;
  anomalies?: AgentAnomalyMonitor;
  /** Emotion of a voice turn that came without one. */
  readEmotion?: (text: string) => EmotionReading;
  onError?: (err: unknown, what: string) => void;
}

export interface VoiceCallInput {
  callId: string;
  agentId: string;
  customerId?: string;
  startedAt: Date;
  turns: Array<{ speaker: 'agent' | 'customer'; text: string; startMs: number; endMs?: number; emotion?: EmotionReading }>;
}

/** A voice call id already stored with other content: the first posting stands, never silently replaced. */
export class VoiceCallConflictError extends Error {
  constructor(readonly callId: string) {
    super(`call ${callId} was already inspected with different content (agent, customer, start or turns); post it under a new call id`);
    this.name = 'VoiceCallConflictError';
  }
}

/** The call as posted, in a fixed order (emotions as given, not as read later). */
function voiceCallDigest(input: VoiceCallInput): string {
  const canonical = [
    input.agentId, input.customerId ?? null, input.startedAt.getTime(),
    input.turns.map((t) => [t.speaker, t.text, t.startMs, t.endMs ?? null, t.emotion ? [t.emotion.label, t.emotion.intensity, t.emotion.polarity] : null]),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** Calls stored before digests were kept are compared on what was stored (emotions left out: some were read, not posted). */
function sameVoiceCall(stored: VoiceCallRecord, input: VoiceCallInput, digest: string, turns: VoiceCallRecord['turns']): boolean {
  if (stored.contentDigest) return stored.contentDigest === digest;
  const time = (at: Date) => new Date(at).getTime();
  return stored.agentId === input.agentId && (stored.customerId ?? undefined) === input.customerId
    && time(stored.startedAt) === input.startedAt.getTime() && stored.turns.length === turns.length
    && stored.turns.every((t, i) => t.speaker === turns[i].speaker && t.text === turns[i].text
      && time(t.startAt) === time(turns[i].startAt) && time(t.endAt) === time(turns[i].endAt));
}

/** How far back the idle sweep looks for conversations that went quiet (older ones were swept before). */
const SWEEP_LOOKBACK_MS = 7 * 86_400_000;
/** How far each later pass reaches back before the previous one (a conversation updated during a pass). */
const SWEEP_OVERLAP_MS = 3_600_000;
/** An agent is judged at most this often; the alert cool-down is hours, so minutes of delay cost nothing. */
const ANOMALY_CHECK_EVERY_MS = 5 * 60_000;

interface CursorRecord { _id: string; inspectedUntil: Date; lastEndedAt?: Date; lastInspectionId?: string }

export class QaInspector {
  private lastQuietSince: number | undefined;
  /** Per agent: when this instance last judged them (a busy agent need not be judged after every conversation). */
  private readonly lastAnomalyCheck = new Map<string, number>();
  /**
   * Agents inspected again while their last check was recent: judged by the next sweep. Without this, a burst of
   * inspections (one sweep pass, or a shift's sessions closed together) was judged on its first conversation only,
   * and an agent with no later conversation was never judged on the rest.
   */
  private readonly deferredAnomalyChecks = new Set<string>();

  constructor(private readonly options: QaInspectorOptions) {}

  listen(): void {
    const { events } = this.options;
    events.on('conversation.closed', async (event) => { await this.inspectConversation(event.conversationId, event.at); });
    events.on('agent.action', async (event) => { await this.recordSessionStart(event); });
  }

  private async recordSessionStart(event: DomainEvents['agent.action']): Promise<void> {
    if (event.action !== 'session.accept' || !event.conversationId) return;
    const at = new Date(event.at);
    try {
      await SessionStart.create({ _id: `${event.conversationId}:${event.actor}:${at.getTime()}`, conversationId: event.conversationId, agentId: event.actor, at });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  /** Inspects what the conversation said since its last inspection, up to `until`. */
  async inspectConversation(conversationId: string, until: Date): Promise<InspectionRecord | undefined> {
    const cursor = await InspectionCursor.findById(conversationId).lean<CursorRecord>();
    const transcript = await loadTranscript(conversationId, { since: cursor?.inspectedUntil ?? undefined, until });
    return this.inspectStretch(conversationId, until, cursor ?? undefined, transcript);
  }

  private async inspectStretch(conversationId: string, until: Date, cursor: CursorRecord | undefined, transcript: Transcript): Promise<InspectionRecord | undefined> {
    if (!transcript.turns.some((t) => t.speaker === 'customer')) return undefined;
    const first = transcript.turns[0];
    const sessionStarts = await SessionStart.find({ conversationId, at: { $gte: new Date(first.at.getTime() - 3_600_000), $lte: until } }).lean();
    const previousContact = cursor?.lastEndedAt && cursor.lastInspectionId
      ? { inspectionId: cursor.lastInspectionId, endedAt: new Date(cursor.lastEndedAt) }
      : undefined;
    const record = await this.record(
      `${conversationId}@${first.messageId}`,
      transcript,
      inspectTranscript({ transcript, sessionStarts: sessionStarts.map((s) => ({ agentId: s.agentId, at: new Date(s.at) })), previousContact }, this.options.rules),
      { kind: 'chat', customerKey: conversationId },
    );
    const previousUntil = cursor?.inspectedUntil ? new Date(cursor.inspectedUntil).getTime() : 0;
    const advance = () => InspectionCursor.updateOne(
      { _id: conversationId },
      { $set: { inspectedUntil: new Date(Math.max(previousUntil, until.getTime())), lastEndedAt: record.endedAt, lastInspectionId: record._id } },
      { upsert: true },
    );
    await advance().catch(() => advance()); // the close event and the sweep may both create the cursor
    return record;
  }

  /** Finishes conversations that went quiet (no close event: the user just stopped writing). */
  async sweepIdle(): Promise<number> {
    const now = this.options.now();
    const quietSince = new Date(now.getTime() - this.options.idleMs);
    // After the first pass only conversations that went quiet since the previous pass (with a margin) are read.
    const lookbackFrom = this.lastQuietSince && this.lastQuietSince <= quietSince.getTime()
      ? this.lastQuietSince - SWEEP_OVERLAP_MS
      : now.getTime() - SWEEP_LOOKBACK_MS;
    this.lastQuietSince = quietSince.getTime();
    const candidates = await quietConversations(new Date(lookbackFrom), quietSince);
    if (!candidates.length) return 0;
    const cursors = new Map(
      (await InspectionCursor.find({ _id: { $in: candidates.map((c) => c._id) } }).lean<CursorRecord[]>()).map((c) => [c._id, c]),
    );
    const due = candidates.filter((c) => new Date(cursors.get(c._id)?.inspectedUntil ?? 0).getTime() < new Date(c.lastActivityAt).getTime());
    // Until the end of the quiet period: replies stored just after the last user message belong to it.
    const transcripts = await loadTranscripts(due.map((c) => ({ conversationId: c._id, since: cursors.get(c._id)?.inspectedUntil, until: quietSince })));
    let inspected = 0;
    for (const conversation of due) {
      try {
        if (await this.inspectStretch(conversation._id, quietSince, cursors.get(conversation._id), transcripts.get(conversation._id)!)) inspected++;
      } catch (err) {
        this.options.onError?.(err, `idle inspection of ${conversation._id}`);
      }
    }
    return inspected;
  }

  /**
   * A voice call's speaker turns: stored, turned into a transcript and inspected. `created` is false for an identical
   * retry, which gets the stored inspection; other content under a stored call id is a VoiceCallConflictError.
   */
  async inspectVoiceCall(input: VoiceCallInput): Promise<{ inspection: InspectionRecord; created: boolean }> {
    const start = input.startedAt.getTime();
    const turns = input.turns.map((turn, i) => ({
      id: `voice:${input.callId}#${i + 1}`, speaker: turn.speaker, text: turn.text,
      startAt: new Date(start + turn.startMs), endAt: new Date(start + (turn.endMs ?? turn.startMs)),
      emotion: turn.emotion ?? (turn.speaker === 'customer' ? this.options.readEmotion?.(turn.text) : undefined),
    }));
    const contentDigest = voiceCallDigest(input);
    try {
      await VoiceCall.create({ _id: input.callId, agentId: input.agentId, customerId: input.customerId, startedAt: input.startedAt, turns, receivedAt: this.options.now(), contentDigest });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const stored = await VoiceCall.findById(input.callId).lean<VoiceCallRecord>();
      if (stored && !sameVoiceCall(stored, input, contentDigest, turns)) throw new VoiceCallConflictError(input.callId);
      // Without mongoose's version key: the retry answers exactly what the first posting did.
      const existing = await Inspection.findById(`voice:${input.callId}`, { __v: 0 }).lean<InspectionRecord>();
      if (existing) return { inspection: existing, created: false };
      // Stored but not inspected yet (a crash in between, or the first posting still at work): inspect it now.
    }
    const transcriptTurns: TranscriptTurn[] = turns.map((turn) => ({
      messageId: turn.id, speaker: turn.speaker, agentId: turn.speaker === 'agent' ? input.agentId : undefined, text: turn.text,
      // A customer has waited from the end of their turn; an agent answered at the start of theirs.
      at: turn.speaker === 'customer' ? turn.endAt : turn.startAt,
      emotion: turn.emotion,
    }));
    transcriptTurns.sort((a, b) => a.at.getTime() - b.at.getTime());
    const customerKey = input.customerId ? `voice:${input.customerId}` : `voice-call:${input.callId}`;
    const previous = input.customerId
      ? await Inspection.findOne({ customerKey, endedAt: { $lt: input.startedAt } }).sort({ endedAt: -1 }).lean<InspectionRecord>()
      : null;
    const transcript: Transcript = { conversationId: `voice:${input.callId}`, channel: 'voice', userId: input.customerId, turns: transcriptTurns };
    const result = inspectTranscript(
      {
        transcript,
        sessionStarts: [{ agentId: input.agentId, at: input.startedAt }],
        previousContact: previous ? { inspectionId: previous._id, endedAt: new Date(previous.endedAt) } : undefined,
      },
      this.options.rules,
    );
    const { record, created } = await this.store(`voice:${input.callId}`, transcript, result, { kind: 'voice', customerKey });
    return { inspection: record, created };
  }

  /**
   * Stores an inspection (once: a second attempt at the same id returns the first), updates the agents' daily
   * buckets, publishes `qa.inspected` and asks the anomaly monitor about the agents involved.
   */
  async record(
    id: string, transcript: Transcript, result: InspectionResult, meta: { kind: 'chat' | 'voice'; customerKey: string },
  ): Promise<InspectionRecord> {
    return (await this.store(id, transcript, result, meta)).record;
  }

  /** `record`, also saying whether this call stored it (false: an earlier attempt had). */
  private async store(
    id: string, transcript: Transcript, result: InspectionResult, meta: { kind: 'chat' | 'voice'; customerKey: string },
  ): Promise<{ record: InspectionRecord; created: boolean }> {
    const now = this.options.now();
    const record: InspectionRecord = {
      _id: id, kind: meta.kind, conversationId: transcript.conversationId, customerKey: meta.customerKey, channel: transcript.channel,
      agentIds: result.agentIds, handledBy: result.handledBy, score: result.score, passed: result.passed, hits: result.hits,
      metrics: result.metrics, startedAt: result.startedAt, endedAt: result.endedAt, inspectedAt: now,
    };
    try {
      await Inspection.create(record);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return { record: (await Inspection.findById(id).lean<InspectionRecord>()) ?? record, created: false };
    }
    for (const agentId of record.agentIds) {
      const flags = agentFlags(record, agentId);
      const inc: Record<string, number> = { inspections: 1, scoreSum: record.score };
      for (const [flag, on] of Object.entries(flags)) if (on) inc[`flags.${flag}`] = 1;
      for (const hit of record.hits) if (hit.agentId === agentId) inc[`hits.${hit.rule}`] = (inc[`hits.${hit.rule}`] ?? 0) + 1;
      const upsert = () => AgentQaDay.updateOne(
        { _id: agentDayId(agentId, record.endedAt) },
        { $inc: inc, $setOnInsert: { agentId, day: utcDayStart(record.endedAt) } },
        { upsert: true },
      );
      // A concurrent first inspection of the day may create the bucket between our read and write: retry once.
      await upsert().catch(() => upsert());
    }
    this.options.events.publish('qa.inspected', {
      inspectionId: record._id, conversationId: record.conversationId, agentIds: record.agentIds, score: record.score,
      passed: record.passed, endedAt: record.endedAt, at: now,
    });
    const due = record.agentIds.filter((agentId) => now.getTime() - (this.lastAnomalyCheck.get(agentId) ?? 0) >= ANOMALY_CHECK_EVERY_MS);
    for (const agentId of record.agentIds) if (!due.includes(agentId)) this.deferredAnomalyChecks.add(agentId);
    await this.checkAnomalies(due, now);
    return { record, created: true };
  }

  /** Judges the agents whose check was put off since the last sweep (at most once per agent per sweep). */
  async checkDeferredAnomalies(): Promise<void> {
    const agentIds = [...this.deferredAnomalyChecks];
    this.deferredAnomalyChecks.clear();
    await this.checkAnomalies(agentIds, this.options.now());
  }

  private async checkAnomalies(agentIds: readonly string[], now: Date): Promise<void> {
    if (!agentIds.length || !this.options.anomalies) return;
    for (const agentId of agentIds) {
      this.lastAnomalyCheck.set(agentId, now.getTime());
      this.deferredAnomalyChecks.delete(agentId);
    }
    try {
      await this.options.anomalies.check(agentIds);
    } catch (err) {
      this.options.onError?.(err, 'agent anomaly check');
    }
  }

  async inspection(id: string): Promise<InspectionRecord | null> {
    return Inspection.findById(id).lean<InspectionRecord>();
  }

  async recentInspections(filter: { agentId?: string; failedOnly?: boolean; limit: number }): Promise<InspectionRecord[]> {
    const query: Record<string, unknown> = {};
    if (filter.agentId) query.agentIds = filter.agentId;
    if (filter.failedOnly) query.passed = false;
    return Inspection.find(query).sort({ endedAt: -1 }).limit(filter.limit).lean<InspectionRecord[]>();
  }

  /** The lowest-scoring inspections of conversations that ended in [from, to], lowest first. */
  async lowestInspections(from: Date, to: Date, limit: number): Promise<InspectionRecord[]> {
    return Inspection.find({ endedAt: { $gte: from, $lte: to } }).sort({ score: 1, endedAt: -1 }).limit(limit).lean<InspectionRecord[]>();
  }

  /** Per-agent aggregates over whole UTC days in [from, to). */
  async agentSummaries(from: Date, to: Date): Promise<AgentQaSummary[]> {
    const days = await AgentQaDay.find({ day: { $gte: utcDayStart(from), $lt: to } }).lean<AgentQaDayRecord[]>();
    const byAgent = new Map<string, AgentQaSummary>();
    for (const day of days) {
      const summary = byAgent.get(day.agentId) ?? { agentId: day.agentId, inspections: 0, averageScore: 0, failed: 0, hits: {} };
      summary.averageScore = (summary.averageScore * summary.inspections + day.scoreSum) / (summary.inspections + day.inspections || 1);
      summary.inspections += day.inspections;
      summary.failed += day.flags?.failed ?? 0;
      for (const [rule, count] of Object.entries(day.hits ?? {})) summary.hits[rule] = (summary.hits[rule] ?? 0) + count;
      byAgent.set(day.agentId, summary);
    }
    return [...byAgent.values()].sort((a, b) => a.averageScore - b.averageScore);
  }
}

export interface AgentQaSummary {
  agentId: string;
  inspections: number;
  averageScore: number;
  failed: number;
  hits: Record<string, number>;
}
