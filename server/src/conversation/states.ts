import { BatchedInserts } from '../db/batched-inserts';
import { withoutUndefined } from '../util/without-undefined';
import { ConversationState, conversationIdFor, type ConversationStateDoc } from './models';
import type { Decision, EmotionReading, OutboundMessage } from './types';

/** A conversation as other code sees it: its latest snapshot. `_id` is the conversation id. */
export interface ConversationDoc {
  _id: string;
  /** How many changes made it; the next change writes `seq + 1`. */
  seq: number;
  channel: string;
  userId: string;
  state: 'bot' | 'waiting_agent' | 'human';
  vip: boolean;
  unionId?: string;
  pendingChoices: Array<{ number: number; label: string; subIntentId: string }>;
  pendingSlot?: { slot: string; subIntentId: string };
  slots: Record<string, string>;
  lowConfidenceStreak: number;
  emotions: Array<EmotionReading & { at: Date }>;
  lastScenarioId?: string;
  lastSubIntentId?: string;
  handoff?: { reasons: string[]; at: Date };
  lastActivityAt: Date;
  agentId?: string;
}

/** What a message's decision adds to the snapshot it made (see ConversationState). */
export interface DecisionRecord {
  messageId: string;
  decision: Decision;
  replies: OutboundMessage[];
}

const SEQ_DIGITS = 10;
/** Tries at writing a state while other writers keep changing the same conversation. */
const MAX_WRITE_ATTEMPTS = 20;
const snapshotId = (conversationId: string, seq: number) => `${conversationId}#${String(seq).padStart(SEQ_DIGITS, '0')}`;

type SnapshotRow = Omit<ConversationDoc, '_id'> & Partial<DecisionRecord> & { _id: string; conversationId: string; writtenAt: Date };

const snapshots = new BatchedInserts<SnapshotRow>(() => ConversationState);

function toConversation(doc: ConversationStateDoc): ConversationDoc {
  return withoutUndefined({
    _id: doc.conversationId,
    seq: doc.seq,
    channel: doc.channel,
    userId: doc.userId,
    state: (doc.state ?? 'bot') as ConversationDoc['state'],
    vip: Boolean(doc.vip),
    unionId: doc.unionId ?? undefined,
    pendingChoices: (doc.pendingChoices ?? []).map((c) => ({ number: c.number!, label: c.label!, subIntentId: c.subIntentId! })),
    pendingSlot: doc.pendingSlot?.slot ? { slot: doc.pendingSlot.slot, subIntentId: doc.pendingSlot.subIntentId! } : undefined,
    slots: { ...((doc.slots ?? {}) as Record<string, string>) },
    lowConfidenceStreak: doc.lowConfidenceStreak ?? 0,
    emotions: (doc.emotions ?? []).map((e) => ({
      label: e.label as EmotionReading['label'], intensity: e.intensity ?? 0, polarity: e.polarity as EmotionReading['polarity'], at: new Date(e.at!),
    })),
    lastScenarioId: doc.lastScenarioId ?? undefined,
    lastSubIntentId: doc.lastSubIntentId ?? undefined,
    handoff: doc.handoff ? { reasons: [...(doc.handoff.reasons ?? [])], at: new Date(doc.handoff.at!) } : undefined,
    lastActivityAt: new Date(doc.lastActivityAt),
    agentId: doc.agentId ?? undefined,
  });
}

/** A conversation before its first message (`seq` 0: its first write is `seq` 1). */
export function newConversation(channel: string, userId: string, at: Date, profile: { vip?: boolean; unionId?: string } = {}): ConversationDoc {
  return withoutUndefined({
    _id: conversationIdFor(channel, userId), seq: 0, channel, userId, state: 'bot' as const, vip: Boolean(profile.vip), unionId: profile.unionId,
    pendingChoices: [], slots: {}, lowConfidenceStreak: 0, emotions: [], lastActivityAt: at,
  });
}

/** The latest snapshot of a conversation in the database. */
export async function readConversation(conversationId: string): Promise<ConversationDoc | undefined> {
  const doc = await ConversationState.findOne({ conversationId }).sort({ seq: -1 }).lean<ConversationStateDoc>();
  return doc ? toConversation(doc) : undefined;
}

/**
 * Conversations the bot holds that went quiet: their latest activity is in (`after`, `until`] and nothing came since.
 * Reads the snapshots written since `after` (a later one means the conversation is not quiet).
 */
export async function quietConversations(after: Date, until: Date): Promise<Array<{ _id: string; lastActivityAt: Date }>> {
  const recent = await ConversationState.find({ lastActivityAt: { $gt: after } }, { conversationId: 1, seq: 1, state: 1, lastActivityAt: 1 })
    .lean<Array<Pick<ConversationStateDoc, 'conversationId' | 'seq' | 'state' | 'lastActivityAt'>>>();
  const latest = new Map<string, (typeof recent)[number]>();
  for (const snapshot of recent) {
    const seen = latest.get(snapshot.conversationId);
    if (!seen || seen.seq < snapshot.seq) latest.set(snapshot.conversationId, snapshot);
  }
  return [...latest.values()]
    .filter((s) => s.state === 'bot' && new Date(s.lastActivityAt) <= until)
    .map((s) => ({ _id: s.conversationId, lastActivityAt: new Date(s.lastActivityAt) }));
}

/**
 * Reads and writes conversation states. Remembers the last state this process wrote or read of each
 * conversation, so the common case — a user's next message — decides without reading: writing the next
 * snapshot fails if anyone (another instance, an agent) wrote after it, and only then is the database read.
 * The memory is a shortcut, never the truth: any instance may serve any message.
 */
export class ConversationStates {
  private readonly known = new Map<string, ConversationDoc>();

  constructor(private readonly maxKnown = 50_000) {}

  /** The latest state in the database (and remembered). */
  async read(conversationId: string): Promise<ConversationDoc | undefined> {
    const found = await readConversation(conversationId);
    if (found) this.remember(found);
    return found;
  }

  /** After a lost race: the newer state, from memory when this process wrote it, else from the database. */
  private async newerThan(conversationId: string, seq: number): Promise<ConversationDoc | undefined> {
    const mine = this.known.get(conversationId);
    if (mine && mine.seq > seq) return mine;
    return this.read(conversationId);
  }

  /** Writes `next` (its `seq` one above the state it was made from). False when another writer got there first. */
  async append(next: ConversationDoc, record?: DecisionRecord): Promise<boolean> {
    const { _id: conversationId, ...state } = next;
    const row: SnapshotRow = { ...state, ...record, _id: snapshotId(conversationId, next.seq), conversationId, writtenAt: new Date() };
    if ((await snapshots.insert(row)) === 'duplicate') return false;
    const mine = this.known.get(conversationId);
    if (!mine || mine.seq < next.seq) this.remember(next);
    return true;
  }

  /**
   * Writes a conversation's next state: `make` builds it from the current one (undefined: none known), and runs
   * again from the newer state whenever another writer got there first. `make` returning undefined writes nothing.
   * The current state is this process's last known one; when there is none it is read, unless `assumeNew` (a
   * message from someone this process never saw is most likely a first message: writing `seq` 1 fails if not).
   */
  async update<T>(
    conversationId: string,
    make: (current: ConversationDoc | undefined) => Promise<{ next: ConversationDoc; record?: DecisionRecord; value: T } | undefined>,
    options: { assumeNew?: boolean } = {},
  ): Promise<T | undefined> {
    let current = this.known.get(conversationId) ?? (options.assumeNew ? undefined : await this.read(conversationId));
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const made = await make(current);
      if (!made) return undefined;
      if (await this.append(made.next, made.record)) return made.value;
      current = await this.newerThan(conversationId, made.next.seq - 1);
    }
    throw new Error(`conversation ${conversationId} kept changing while being updated`);
  }

  /**
   * A change from outside the pipeline (an agent takes the conversation, the bot gets it back), applied to the
   * latest state. Undefined when there is no such conversation.
   */
  change(conversationId: string, patch: (current: ConversationDoc) => Partial<Omit<ConversationDoc, '_id' | 'seq'>>): Promise<ConversationDoc | undefined> {
    return this.update(conversationId, async (current) => {
      if (!current) return undefined;
      const next: ConversationDoc = { ...current, ...patch(current), _id: conversationId, seq: current.seq + 1 };
      return { next, value: next };
    });
  }

  /** The decision a message already made, if its snapshot was written (a process died after writing it). */
  async decidedBy(messageId: string): Promise<{ before?: ConversationDoc; after: ConversationDoc; record: DecisionRecord } | undefined> {
    const doc = await ConversationState.findOne({ messageId }).lean<ConversationStateDoc>();
    if (!doc) return undefined;
    const previous = doc.seq > 1 ? await ConversationState.findById(snapshotId(doc.conversationId, doc.seq - 1)).lean<ConversationStateDoc>() : null;
    return {
      before: previous ? toConversation(previous) : undefined,
      after: toConversation(doc),
      record: { messageId, decision: doc.decision as Decision, replies: (doc.replies ?? []) as OutboundMessage[] },
    };
  }

  /**
   * Deletes the snapshots that no longer matter: written before `before`, superseded by a later one, and not the
   * first (a process that does not know a conversation writes `seq` 1 to find out whether it exists, so the
   * first must stay). Every instance may run it; deleting twice is harmless. Returns how many went.
   */
  async compact(before: Date): Promise<number> {
    const old = await ConversationState.find({ writtenAt: { $lt: before }, seq: { $gt: 1 } }, { conversationId: 1, seq: 1 })
      .lean<Array<{ _id: string; conversationId: string; seq: number }>>();
    const latest = new Map<string, number>();
    for (const s of old) latest.set(s.conversationId, Math.max(latest.get(s.conversationId) ?? 0, s.seq));
    const superseded = old.filter((s) => s.seq < latest.get(s.conversationId)!).map((s) => s._id);
    let deleted = 0;
    for (let i = 0; i < superseded.length; i += 1_000) {
      deleted += (await ConversationState.deleteMany({ _id: { $in: superseded.slice(i, i + 1_000) } })).deletedCount;
    }
    return deleted;
  }

  /** Drops what this process remembers (tests that empty the database between cases). */
  forget(): void {
    this.known.clear();
  }

  private remember(conversation: ConversationDoc): void {
    this.known.delete(conversation._id); // re-inserted last: the map's order is recency
    this.known.set(conversation._id, conversation);
    if (this.known.size > this.maxKnown) this.known.delete(this.known.keys().next().value!);
  }
}
