import type { MessageDoc } from '../conversation/models';
import type { ConversationDoc } from '../conversation/states';
import type { EmotionReading, EntityMention, HandoffReason, RankedCandidate } from '../conversation/types';
import { maskEntity, maskMentions } from '../nlu/masking';
import type { HandoffFacts, TicketEntity, TicketIntent, TicketPriority } from './types';

/** What a ticket knows before anyone types: taken from the conversation that led to it. */
export interface TicketPrefill {
  subject: string;
  summary: string;
  intent: TicketIntent;
  entities: TicketEntity[];
  emotion?: EmotionReading;
  handoffReasons: HandoffReason[];
  vip: boolean;
  priority: TicketPriority;
}

interface StoredUnderstanding {
  candidates?: RankedCandidate[];
  entities?: EntityMention[];
  emotion?: EmotionReading;
}

const SUMMARY_MAX = 300;
const SUBJECT_MAX = 40;

/** Slots the pipeline keeps under other names than the entity types. */
const SLOT_ENTITY_TYPES: Record<string, string> = { policyNumber: 'policy_number', product: 'product', relation: 'relation' };

const clip = (text: string, max: number) => ([...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text);

function understandingOf(message: MessageDoc): StoredUnderstanding | undefined {
  const u = message.understanding as StoredUnderstanding | undefined | null;
  return u && typeof u === 'object' ? u : undefined;
}

/** Higher priority for what a contact centre escalates: regulators first, then complaints, anger, VIPs, large claims. */
export function priorityFor(reasons: readonly HandoffReason[], vip: boolean, emotion?: EmotionReading): TicketPriority {
  if (reasons.includes('regulator')) return 'urgent';
  if (reasons.some((r) => r === 'complaint' || r === 'negative_emotion' || r === 'emotion_worsening' || r === 'large_claim')) return 'high';
  if (vip || reasons.includes('vip')) return 'high';
  if (emotion && emotion.polarity === 'negative' && emotion.intensity >= 0.8) return 'high';
  return 'normal';
}

/**
 * Intent, entities, emotion, summary and priority from the conversation's recent messages (oldest first). The
 * message that caused the handoff wins for the intent; later messages add facts.
 */
export function prefillFromConversation(input: {
  conversation: Pick<ConversationDoc, 'vip' | 'slots' | 'emotions' | 'lastSubIntentId' | 'handoff'>;
  messages: MessageDoc[];
  handoff?: HandoffFacts;
}): TicketPrefill {
  const { conversation, messages, handoff } = input;
  const inbound = messages.filter((m) => m.direction === 'in' && m.author === 'user');

  const handoffMessage = [...inbound].reverse().find((m) => (m.decision as { action?: string } | undefined)?.action === 'handoff');
  const withIntent = [handoffMessage, ...[...inbound].reverse()].find((m) => m && (understandingOf(m)?.candidates?.length ?? 0) > 0);
  const top = withIntent ? understandingOf(withIntent)?.candidates?.[0] : undefined;
  const subIntentId = top?.subIntentId ?? conversation.lastSubIntentId ?? undefined;
  const path = subIntentId?.split('/') ?? [];
  const intent: TicketIntent = {
    subIntentId,
    intentId: handoff?.intentId ?? (path.length >= 2 ? path.slice(0, 2).join('/') : undefined),
    scenarioId: handoff?.scenarioId ?? path[0],
    name: top?.name,
  };

  const entities: TicketEntity[] = [];
  const seen = new Set<string>();
  const addEntity = (type: string, value: string | number) => {
    const key = `${type}\u0000${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    entities.push({ type, value: String(value), display: maskEntity({ type, value }) });
  };
  for (const message of inbound) for (const e of understandingOf(message)?.entities ?? []) addEntity(e.type, e.value);
  for (const [slot, value] of Object.entries(conversation.slots ?? {})) if (value) addEntity(SLOT_ENTITY_TYPES[slot] ?? slot, value);

  const lastReading = conversation.emotions?.length ? conversation.emotions[conversation.emotions.length - 1] : undefined;
  const emotion: EmotionReading | undefined =
    handoff?.emotion ??
    (lastReading
      ? { label: lastReading.label as EmotionReading['label'], intensity: lastReading.intensity ?? 0, polarity: lastReading.polarity as EmotionReading['polarity'] }
      : undefined);

  const reasons = handoff?.reasons ?? ((conversation.handoff?.reasons ?? []) as HandoffReason[]);
  const vip = handoff?.vip ?? Boolean(conversation.vip);
  const mentions = entities.map((e) => ({ type: e.type, value: e.value }));
  const userTexts = inbound.map((m) => m.text).filter((t): t is string => Boolean(t)).map((t) => maskMentions(t, mentions));
  const said = userTexts.slice(-5).map((t) => `「${clip(t, 80)}」`).join(' ');
  const summary = clip(`${intent.name ? `诉求：${intent.name}。` : ''}${said ? `用户：${said}` : '（无文字记录）'}`, SUMMARY_MAX);
  const about = intent.name ?? (userTexts.length ? clip(userTexts[userTexts.length - 1], SUBJECT_MAX) : '人工服务请求');
  const subject = clip(reasons.includes('complaint') ? `【投诉】${about}` : about, SUBJECT_MAX);

  return { subject, summary, intent, entities, emotion, handoffReasons: reasons, vip, priority: priorityFor(reasons, vip, emotion) };
}
