import { Message, type MessageDoc } from './models';
import type { Decision, EmotionReading, OutboundMessage, Understanding } from './types';

/**
 * Read-only transcript queries for inspection and learning: the stored messages of a conversation turned into
 * speaker turns (customer / bot / agent) with times. A bot reply lives on the inbound message it answers, so it
 * becomes its own turn carrying that message's id as evidence.
 */

export type Speaker = 'customer' | 'bot' | 'agent';

export interface TranscriptTurn {
  /** The stored message this turn comes from (the evidence a finding points at). */
  messageId: string;
  speaker: Speaker;
  agentId?: string;
  text: string;
  at: Date;
  /** Customer turns: the emotion read from the text. */
  emotion?: EmotionReading;
  /** Customer turns: what the pipeline decided for it. */
  decision?: Decision;
  topSubIntentId?: string;
  confidence?: number;
}

export interface Transcript {
  /** Chat: the conversation id; voice: `voice:<callId>`. */
  conversationId: string;
  channel: string;
  userId?: string;
  turns: TranscriptTurn[];
}

/** How many messages one transcript reads at most (a conversation id lives as long as the user). */
export const MAX_TRANSCRIPT_MESSAGES = 400;

function outboundText(replies: readonly OutboundMessage[]): string {
  return replies
    .map((reply) => (reply.kind === 'news' ? `${reply.title} ${reply.description}` : reply.kind === 'choices' ? `${reply.text} ${reply.choices.map((c) => c.label).join(' ')}` : reply.text))
    .join('\n');
}

function receivedAt(doc: MessageDoc): Date {
  const inbound = doc.inbound as { receivedAt?: Date | string } | undefined;
  const at = inbound?.receivedAt ? new Date(inbound.receivedAt) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : new Date(doc.createdAt);
}

/** Turns stored messages (any order) into a time-ordered list of speaker turns. */
export function turnsOf(docs: readonly MessageDoc[]): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  for (const doc of docs) {
    if (doc.status !== 'done') continue;
    if (doc.direction === 'in') {
      const understanding = doc.understanding as Understanding | undefined;
      const decision = doc.decision as Decision | undefined;
      const at = receivedAt(doc);
      const top = understanding?.candidates?.[0];
      if (doc.text) {
        turns.push({
          messageId: doc._id, speaker: 'customer', text: doc.text, at, emotion: understanding?.emotion, decision,
          topSubIntentId: top?.subIntentId, confidence: top?.confidence,
        });
      }
      const replies = (doc.replies ?? []) as OutboundMessage[];
      if (replies.length && decision?.action !== 'relay_to_agent') {
        const deliveredAt = doc.delivery?.at ? new Date(doc.delivery.at) : new Date(doc.updatedAt ?? at);
        turns.push({ messageId: doc._id, speaker: 'bot', text: outboundText(replies), at: deliveredAt < at ? at : deliveredAt });
      }
    } else {
      const replies = (doc.replies ?? []) as OutboundMessage[];
      turns.push({
        messageId: doc._id, speaker: doc.author === 'agent' ? 'agent' : 'bot', agentId: doc.agentId ?? undefined,
        text: doc.text ?? outboundText(replies), at: new Date(doc.createdAt),
      });
    }
  }
  // Stable by time; a customer message sorts before the bot reply stored on it.
  const rank: Record<Speaker, number> = { customer: 0, bot: 1, agent: 2 };
  return turns.sort((a, b) => a.at.getTime() - b.at.getTime() || rank[a.speaker] - rank[b.speaker]);
}

/**
 * The transcript of a conversation between two instants (`since` exclusive, `until` inclusive), by the time the
 * message was stored. Without `since`, the latest messages up to the cap.
 */
export async function loadTranscript(conversationId: string, window: { since?: Date; until: Date }): Promise<Transcript> {
  const createdAt: Record<string, Date> = { $lte: window.until };
  if (window.since) createdAt.$gt = window.since;
  const docs = await Message.find({ conversationId, createdAt })
    .sort({ createdAt: -1 })
    .limit(MAX_TRANSCRIPT_MESSAGES)
    .lean<MessageDoc[]>();
  const first = docs[docs.length - 1];
  return { conversationId, channel: first?.channel ?? conversationId.split(':')[0], userId: first?.userId, turns: turnsOf(docs) };
}

/**
 * Several conversations' transcripts in one read (the idle sweep finishes many at once; on a database that can only
 * push down `_id` lookups, one scan beats one per conversation).
 */
export async function loadTranscripts(windows: ReadonlyArray<{ conversationId: string; since?: Date; until: Date }>): Promise<Map<string, Transcript>> {
  const result = new Map<string, Transcript>();
  if (!windows.length) return result;
  const earliest = windows.some((w) => !w.since) ? undefined : new Date(Math.min(...windows.map((w) => w.since!.getTime())));
  const latest = new Date(Math.max(...windows.map((w) => w.until.getTime())));
  const createdAt: Record<string, Date> = { $lte: latest };
  if (earliest) createdAt.$gt = earliest;
  const docs = await Message.find({ conversationId: { $in: windows.map((w) => w.conversationId) }, createdAt }).lean<MessageDoc[]>();
  const byConversation = new Map<string, MessageDoc[]>();
  for (const doc of docs) byConversation.set(doc.conversationId, [...(byConversation.get(doc.conversationId) ?? []), doc]);
  for (const window of windows) {
    const own = (byConversation.get(window.conversationId) ?? [])
      .filter((d) => {
        const at = new Date(d.createdAt).getTime();
        return at <= window.until.getTime() && (!window.since || at > window.since.getTime());
      })
      .sort((a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime())
      .slice(0, MAX_TRANSCRIPT_MESSAGES);
    const first = own[own.length - 1];
    result.set(window.conversationId, {
      conversationId: window.conversationId, channel: first?.channel ?? window.conversationId.split(':')[0], userId: first?.userId, turns: turnsOf(own),
    });
  }
  return result;
}

/**
 * What agents said after the given customer messages, within `withinMs` of each: the agent turns that followed it
 * in the same conversation (oldest first, at most `perQuestion`). Used to propose agents' answers as solutions for
 * unanswered questions.
 */
export async function agentRepliesAfter(
  questions: ReadonlyArray<{ messageId: string; conversationId: string; at: Date }>,
  withinMs: number,
  perQuestion = 5,
): Promise<Map<string, TranscriptTurn[]>> {
  const found = new Map<string, TranscriptTurn[]>();
  if (!questions.length) return found;
  const from = new Date(Math.min(...questions.map((q) => q.at.getTime())));
  const to = new Date(Math.max(...questions.map((q) => q.at.getTime())) + withinMs);
  // One read for all of them (see loadTranscripts).
  const docs = await Message.find({
    conversationId: { $in: [...new Set(questions.map((q) => q.conversationId))] }, direction: 'out', author: 'agent', createdAt: { $gte: from, $lte: to },
  }).lean<MessageDoc[]>();
  const byConversation = new Map<string, MessageDoc[]>();
  for (const doc of docs) byConversation.set(doc.conversationId, [...(byConversation.get(doc.conversationId) ?? []), doc]);
  for (const q of questions) {
    const replies = turnsOf(byConversation.get(q.conversationId) ?? [])
      .filter((turn) => turn.at.getTime() >= q.at.getTime() && turn.at.getTime() - q.at.getTime() <= withinMs)
      .slice(0, perQuestion);
    if (replies.length) found.set(q.messageId, replies);
  }
  return found;
}
