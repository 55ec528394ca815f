import type { WechatConfig } from '../config/wechat-config';
import type { EventBus } from '../events/bus';
import { decide, type DialogueState, type SubIntentFacts } from './decide';
import { Conversation, conversationIdFor, Message, type ConversationDoc, type MessageDoc } from './models';
import type { Decision, EmotionReading, InboundMessage, OutboundMessage, PipelineResult, Understanding } from './types';

/** The understanding stage: intents (ranked sub-intents), entities and emotion of one text. */
export interface Understander {
  understand(text: string, now: Date): Promise<Understanding>;
}

/** What the pipeline reads from the knowledge base. */
export interface KnowledgeReader {
  getSubIntent(id: string): { id: string; name: string; scenarioId: string; sensitive: boolean; needsProduct: boolean; live?: string } | undefined;
  selectSolution(
    subIntentId: string,
    context: { product?: string },
  ): Promise<{ id: string; text: string; rich?: { text?: string | null; links?: Array<{ title: string; page: string }> } | null } | undefined>;
}

/**
 * Answers from the user's own data (their policies, their claims), and commands that act on it (binding an
 * Official Account follower to their mini-program account). Provided by the insurance domain.
 */
export interface LiveAnswers {
  /** A text for a `live` sub-intent, or undefined to fall back on the written solution. */
  answer(kind: string, user: { channel: string; userId: string; unionId?: string }, now: Date): Promise<string | undefined>;
  /** A reply when the text is a command for this provider (e.g. "绑定 123456"), else undefined. */
  command(text: string, user: { channel: string; userId: string }, now: Date): Promise<string | undefined>;
}

export interface PipelineDeps {
  understander: Understander;
  knowledge: KnowledgeReader;
  config: WechatConfig;
  events: EventBus;
  now?: () => Date;
  /** A claim older than this belongs to a process that died; a retry may take it over. */
  staleClaimMs?: number;
  liveAnswers?: LiveAnswers;
}

const NEUTRAL: EmotionReading = { label: 'none', intensity: 0, polarity: 'neutral' };
const EMOTION_HISTORY = 10;
const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/** What one message decided, kept on the message until it is fully applied (so a crash can finish it). */
interface DecisionPlan {
  text?: string;
  understanding?: Understanding;
  decision: Decision;
  replies: OutboundMessage[];
  /** Plain `set` / `unset` (no `$` keys: they are stored inside a document). */
  conversation: { set: Record<string, unknown>; unset: string[] };
}

type Claim = { kind: 'stored'; result: PipelineResult } | { kind: 'claimed'; plan?: DecisionPlan };

export class DuplicateInProgress extends Error {
  constructor(readonly messageId: string) {
    super(`message ${messageId} is being handled by another request`);
  }
}

/**
 * understand → decide → answer or hand off, for any channel. Each delivery is claimed by inserting its message
 * (a retry collides and gets the stored replies), and everything it decided is stored with the reason.
 */
export class ConversationPipeline {
  private readonly now: () => Date;
  private readonly staleClaimMs: number;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.staleClaimMs = deps.staleClaimMs ?? 20_000;
  }

  static conversationId(inbound: Pick<InboundMessage, 'channel' | 'userId'>): string {
    return conversationIdFor(inbound.channel, inbound.userId);
  }

  static messageId(inbound: Pick<InboundMessage, 'channel' | 'dedupeKey'>): string {
    return `${inbound.channel}:${inbound.dedupeKey}`;
  }

  /** Handles one delivery. Throws DuplicateInProgress when the same delivery is being handled right now. */
  async handle(inbound: InboundMessage): Promise<PipelineResult> {
    const conversationId = ConversationPipeline.conversationId(inbound);
    const messageId = ConversationPipeline.messageId(inbound);
    const claimed = await this.claim(inbound, conversationId, messageId);
    if (claimed.kind === 'stored') return claimed.result;

    const now = this.now();
    const conversation = await this.loadConversation(inbound, conversationId, now);
    // A process that died after deciding left its decision on the message: finish that one, do not decide again
    // (the conversation may already carry its effects, e.g. a handoff).
    const plan = claimed.plan ?? (await this.decideAndRecord(inbound, messageId, conversation, now));

    await Conversation.updateOne(
      { _id: conversationId },
      { $set: plan.conversation.set, ...(plan.conversation.unset.length ? { $unset: Object.fromEntries(plan.conversation.unset.map((k) => [k, 1])) } : {}) },
    );
    // How the replies reach the user is the channel's business (passive reply or push): it sets `delivery`.
    await Message.updateOne({ _id: messageId }, { $set: { status: 'done', decision: plan.decision, replies: plan.replies } });
    this.publish(inbound, conversationId, messageId, conversation, plan.text, plan.understanding, plan.decision, plan.replies, now);
    return { conversationId, messageId, decision: plan.decision, replies: plan.replies, duplicate: false };
  }

  /** understand → decide → render, and the conversation update it implies, stored on the message before applying. */
  private async decideAndRecord(inbound: InboundMessage, messageId: string, conversation: ConversationDoc, now: Date): Promise<DecisionPlan> {
    const text = this.textOf(inbound);
    const understanding = text ? await this.deps.understander.understand(text, now) : undefined;
    const state = this.dialogueState(conversation, now);
    const commandReply = text && this.deps.liveAnswers ? await this.deps.liveAnswers.command(text, inbound, now) : undefined;
    const decision: Decision = commandReply ? { action: 'acknowledge', reason: 'account command' } : this.decideFor(inbound, text, understanding, state, conversation);
    const replies = commandReply ? [{ kind: 'text' as const, text: commandReply }] : await this.render(decision, inbound, understanding, state, conversation);
    const plan: DecisionPlan = { text, understanding, decision, replies, conversation: this.conversationUpdate(conversation, decision, understanding, state, now) };
    await Message.updateOne({ _id: messageId }, { $set: { text, understanding, plan } });
    return plan;
  }

  /** The stored result of a delivery, waiting up to `timeoutMs` for one still in progress. */
  async waitForResult(messageId: string, timeoutMs: number): Promise<PipelineResult | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const doc = await Message.findById(messageId).lean<MessageDoc>();
      if (doc?.status === 'done') return this.resultOf(doc);
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private resultOf(doc: MessageDoc): PipelineResult {
    return {
      conversationId: doc.conversationId, messageId: doc._id, decision: doc.decision as Decision,
      replies: (doc.replies ?? []) as OutboundMessage[], duplicate: true,
    };
  }

  /** Inserts the message as `processing`; for a duplicate returns the stored result, or takes over a dead claim. */
  private async claim(inbound: InboundMessage, conversationId: string, messageId: string): Promise<Claim> {
    const claimedAt = this.now();
    try {
      await Message.create({
        _id: messageId, conversationId, channel: inbound.channel, userId: inbound.userId, direction: 'in', author: 'user',
        kind: inbound.kind, text: inbound.text, inbound, status: 'processing', claimedAt,
      });
      return { kind: 'claimed' };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const existing = await Message.findById(messageId).lean<MessageDoc>();
    if (!existing) throw new DuplicateInProgress(messageId);
    if (existing.status === 'done') return { kind: 'stored', result: this.resultOf(existing) };
    if (claimedAt.getTime() - new Date(existing.claimedAt).getTime() < this.staleClaimMs) throw new DuplicateInProgress(messageId);
    // The process that claimed it died before finishing: take it over, once.
    const takeover = await Message.updateOne({ _id: messageId, claimedAt: existing.claimedAt, status: 'processing' }, { $set: { claimedAt } });
    if (takeover.modifiedCount !== 1) throw new DuplicateInProgress(messageId);
    return { kind: 'claimed', plan: (existing as { plan?: DecisionPlan }).plan };
  }

  private async loadConversation(inbound: InboundMessage, id: string, now: Date): Promise<ConversationDoc> {
    const existing = await Conversation.findById(id).lean<ConversationDoc>();
    if (existing) {
      if (inbound.profile?.vip !== undefined) existing.vip = inbound.profile.vip;
      return existing;
    }
    const fresh = {
      _id: id, channel: inbound.channel, userId: inbound.userId, state: 'bot' as const, vip: Boolean(inbound.profile?.vip),
      unionId: inbound.profile?.unionId, pendingChoices: [], slots: {}, lowConfidenceStreak: 0, emotions: [], lastActivityAt: now,
    };
    try {
      await Conversation.create(fresh);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // created by a concurrent message of the same user
      return (await Conversation.findById(id).lean<ConversationDoc>())!;
    }
    return fresh as unknown as ConversationDoc;
  }

  private textOf(inbound: InboundMessage): string | undefined {
    if (inbound.kind === 'event' && inbound.event?.type === 'menu_click') return this.deps.config.menuActions[inbound.event.key];
    if (inbound.kind === 'text' || inbound.kind === 'voice') return inbound.text?.trim() || undefined;
    return undefined;
  }

  /** The dialogue so far; pending choices and slots are forgotten after a long silence. */
  private dialogueState(conversation: ConversationDoc, now: Date): DialogueState {
    const idleMs = now.getTime() - new Date(conversation.lastActivityAt).getTime();
    const expired = idleMs > this.deps.config.handoffRules.conversation.resetAfterMinutes * 60_000;
    const slots = conversation.slots instanceof Map ? Object.fromEntries(conversation.slots) : { ...(conversation.slots as Record<string, string> | undefined) };
    return {
      pendingChoices: expired ? [] : (conversation.pendingChoices ?? []).map((c) => ({ number: c.number!, label: c.label!, subIntentId: c.subIntentId! })),
      pendingSlot: expired || !conversation.pendingSlot ? undefined : { slot: conversation.pendingSlot.slot!, subIntentId: conversation.pendingSlot.subIntentId! },
      slots: expired ? {} : slots,
      lowConfidenceStreak: expired ? 0 : conversation.lowConfidenceStreak ?? 0,
      emotions: (conversation.emotions ?? []).map((e) => ({ label: e.label as EmotionReading['label'], intensity: e.intensity ?? 0, polarity: e.polarity as EmotionReading['polarity'] })),
      lastScenarioId: expired ? undefined : conversation.lastScenarioId ?? undefined,
      vip: Boolean(conversation.vip),
    };
  }

  private facts = (subIntentId: string): SubIntentFacts | undefined => {
    const sub = this.deps.knowledge.getSubIntent(subIntentId);
    if (!sub) return undefined;
    return { id: sub.id, name: sub.name, scenarioId: sub.scenarioId, sensitive: sub.sensitive, needsProduct: sub.needsProduct };
  };

  private decideFor(
    inbound: InboundMessage, text: string | undefined, understanding: Understanding | undefined,
    state: DialogueState, conversation: ConversationDoc,
  ): Decision {
    if (inbound.kind === 'event') {
      const type = inbound.event?.type;
      if (type === 'subscribe' || type === 'scan') return { action: 'welcome', reason: `event ${type}` };
      if (type !== 'menu_click' || !text) return { action: 'acknowledge', reason: `event ${type ?? 'unknown'}` };
    }
    if (conversation.state !== 'bot') return { action: 'relay_to_agent', reason: `conversation is ${conversation.state}` };
    if (!text || !understanding) return { action: 'acknowledge', reason: `${inbound.kind} message without text` };
    return decide({ inbound, text, understanding, state, rules: this.deps.config.handoffRules, facts: this.facts });
  }

  private async render(
    decision: Decision, inbound: InboundMessage, understanding: Understanding | undefined, state: DialogueState, conversation: ConversationDoc,
  ): Promise<OutboundMessage[]> {
    const replies = this.deps.config.replies;
    switch (decision.action) {
      case 'answer': {
        const live = this.deps.knowledge.getSubIntent(decision.subIntentId)?.live;
        if (live && this.deps.liveAnswers) {
          const user = { channel: inbound.channel, userId: inbound.userId, unionId: inbound.profile?.unionId ?? conversation.unionId ?? undefined };
          const text = await this.deps.liveAnswers.answer(live, user, inbound.receivedAt);
          if (text) {
            decision.solutionId = `live:${live}`;
            return [{ kind: 'text', text }];
          }
        }
        const product = understanding?.entities.find((e) => e.type === 'product')?.value?.toString() ?? state.slots.product;
        const solution = await this.deps.knowledge.selectSolution(decision.subIntentId, { product });
        if (!solution) return [{ kind: 'text', text: replies.fallback }];
        decision.solutionId = solution.id;
        const links = solution.rich?.links?.length ? solution.rich.links.map((l) => ({ title: l.title, page: l.page })) : undefined;
        return [{ kind: 'text', text: solution.text, ...(links ? { links } : {}) }];
      }
      case 'clarify':
        return [{ kind: 'choices', text: replies.clarify, choices: decision.choices }];
      case 'ask_slot':
        return [{ kind: 'text', text: replies.askSlot[decision.slot] ?? replies.fallback }];
      case 'handoff':
        return [{ kind: 'text', text: replies.handoff }];
      case 'welcome':
        return [{ kind: 'text', text: replies.welcome }];
      case 'fallback':
        return [{ kind: 'text', text: replies.fallback }];
      case 'relay_to_agent':
        return [];
      case 'acknowledge': {
        if (inbound.kind === 'voice') return [{ kind: 'text', text: replies.voiceUnrecognised }];
        if (inbound.kind === 'image') return [{ kind: 'text', text: replies.image }];
        if (inbound.kind === 'location') return [{ kind: 'text', text: replies.location }];
        if (inbound.kind === 'link') return [{ kind: 'text', text: replies.link }];
        if (inbound.event?.type === 'menu_click') return [{ kind: 'text', text: replies.menuUnknown }];
        return [];
      }
    }
  }

  /** The conversation changes one decision implies, as plain data (stored with the message, applied after). */
  private conversationUpdate(
    conversation: ConversationDoc, decision: Decision, understanding: Understanding | undefined, state: DialogueState, now: Date,
  ): DecisionPlan['conversation'] {
    const slots = { ...state.slots };
    for (const entity of understanding?.entities ?? []) {
      if (['product', 'policy_number', 'relation'].includes(entity.type)) slots[entity.type === 'policy_number' ? 'policyNumber' : entity.type] = String(entity.value);
    }
    const emotions = understanding
      ? [...(conversation.emotions ?? []), { ...understanding.emotion, at: now }].slice(-EMOTION_HISTORY)
      : conversation.emotions ?? [];
    const missed = decision.action === 'fallback' || decision.action === 'clarify';
    const answered = decision.action === 'answer' ? this.deps.knowledge.getSubIntent(decision.subIntentId) : undefined;
    const set: Record<string, unknown> = {
      slots,
      emotions,
      vip: state.vip,
      lastActivityAt: now,
      pendingChoices: decision.action === 'clarify' ? decision.choices : [],
      lowConfidenceStreak: missed ? state.lowConfidenceStreak + 1 : decision.action === 'answer' ? 0 : state.lowConfidenceStreak,
    };
    if (answered) Object.assign(set, { lastScenarioId: answered.scenarioId, lastSubIntentId: answered.id });
    if (decision.action === 'handoff') Object.assign(set, { state: 'waiting_agent', handoff: { reasons: decision.reasons, at: now }, lowConfidenceStreak: 0 });
    if (decision.action === 'ask_slot') set.pendingSlot = { slot: decision.slot, subIntentId: decision.subIntentId };
    return { set, unset: decision.action === 'ask_slot' ? [] : ['pendingSlot'] };
  }

  private publish(
    inbound: InboundMessage, conversationId: string, messageId: string, conversation: ConversationDoc, text: string | undefined,
    understanding: Understanding | undefined, decision: Decision, replies: OutboundMessage[], at: Date,
  ): void {
    const events = this.deps.events;
    const top = understanding?.candidates[0];
    events.publish('message.received', {
      conversationId, messageId, channel: inbound.channel, userId: inbound.userId, text, emotion: understanding?.emotion ?? NEUTRAL,
      topSubIntentId: top?.subIntentId, confidence: top?.confidence, at, state: conversation.state ?? 'bot',
    });
    events.publish('message.answered', { conversationId, messageId, decision, replies, at });
    if (decision.action === 'handoff') {
      const sub = top ? this.deps.knowledge.getSubIntent(top.subIntentId) : undefined;
      events.publish('conversation.handed_off', {
        conversationId, channel: inbound.channel, userId: inbound.userId, reasons: decision.reasons,
        scenarioId: sub?.scenarioId ?? conversation.lastScenarioId ?? undefined, intentId: sub ? sub.id.split('/').slice(0, 2).join('/') : undefined,
        vip: Boolean(conversation.vip), emotion: understanding?.emotion, at,
      });
    }
    if ((decision.action === 'fallback' || decision.action === 'clarify') && text) {
      events.publish('question.unanswered', { conversationId, messageId, text, confidence: top?.confidence ?? 0, at });
    }
  }
}
