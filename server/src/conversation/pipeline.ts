import type { WechatConfig } from '../config/wechat-config';
import { BatchedInserts } from '../db/batched-inserts';
import type { EventBus } from '../events/bus';
import { answerOrAskFor, decide, productInQuestion, type DecideInput, type DialogueState, type SubIntentFacts } from './decide';
import { conversationIdFor, Message, MessageClaim, type MessageDoc } from './models';
import { ConversationStates, newConversation, type ConversationDoc } from './states';
import type { Decision, EmotionReading, InboundMessage, OutboundMessage, PipelineResult, Understanding } from './types';

/** The understanding stage: intents (ranked sub-intents), entities and emotion of one text. */
export interface Understander {
  understand(text: string, now: Date): Promise<Understanding>;
}

/** What the pipeline reads from the knowledge base. */
export interface KnowledgeReader {
  getSubIntent(id: string): {
    id: string; name: string; scenarioId: string; sensitive: boolean; needsProduct: boolean; live?: string; menu?: string[];
    coolingOff?: SubIntentFacts['coolingOff'];
    forAges?: SubIntentFacts['forAges'];
    ageSiblings?: string[];
    deferToAge?: true;
    /** User states some of its solutions are written for. */
    variants?: { userStates: string[] };
  } | undefined;
  selectSolution(
    subIntentId: string,
    context: { product?: string; userState?: string },
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
  /** The user's states (knowledge/source.ts USER_STATES), most specific first; none for a user it does not know. */
  userStates?(user: { channel: string; userId: string; unionId?: string }, now: Date): Promise<string[]>;
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
  /** Conversation states; share one instance with ConversationService so both remember the same changes. */
  states?: ConversationStates;
  /**
   * Whether a human desk takes handoffs (default true). Without one, a handoff is still decided and recorded with its
   * reasons, but the user is told where humans can be reached (replies.handoffUnavailable) and the bot keeps serving:
   * a conversation waiting for an agent who can never come would go silent.
   */
  humanDesk?: boolean;
  /** Cooling-off periods of the products on sale (see DecideInput): a stated time since purchase picks the answer. */
  coolingOffDays?: DecideInput['coolingOffDays'];
}

const NEUTRAL: EmotionReading = { label: 'none', intensity: 0, polarity: 'neutral' };

type ClaimRow = { _id: string; conversationId: string; claimedAt: Date };
type MessageRow = Omit<MessageDoc, 'createdAt' | 'updatedAt'> & { createdAt: Date; updatedAt: Date };
const claims = new BatchedInserts<ClaimRow>(() => MessageClaim);
const messages = new BatchedInserts<MessageRow>(() => Message);

type Claim = { kind: 'stored'; result: PipelineResult } | { kind: 'claimed'; takeover: boolean };

/** What one message decided, and the conversation it was decided in. */
interface Outcome {
  /** The conversation before this message (undefined: its first message). */
  before: ConversationDoc | undefined;
  decision: Decision;
  replies: OutboundMessage[];
}

export class DuplicateInProgress extends Error {
  constructor(readonly messageId: string) {
    super(`message ${messageId} is being handled by another request`);
  }
}

/**
 * understand → decide → answer or hand off, for any channel. A delivery is claimed by inserting its claim (a retry
 * collides and gets the stored replies), its decision is written as the conversation's next state, then the
 * message is stored with everything it decided and why. Every write is an insert, batched with those of
 * concurrent messages: the store's cheapest operation, and the same on MongoDB and FerretDB.
 */
export class ConversationPipeline {
  private readonly now: () => Date;
  private readonly staleClaimMs: number;
  private readonly states: ConversationStates;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.staleClaimMs = deps.staleClaimMs ?? 20_000;
    this.states = deps.states ?? new ConversationStates();
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
    const claimedAt = this.now();
    const claimed = await this.claim(inbound, conversationId, messageId, claimedAt);
    if (claimed.kind === 'stored') return claimed.result;

    const now = this.now();
    const text = this.textOf(inbound);
    const understanding = text ? await this.deps.understander.understand(text, now) : undefined;
    // A process that died after writing this message's decision left it in the conversation: finish that one, do
    // not decide again (its effects, e.g. a handoff, are already there).
    const decided = claimed.takeover ? await this.states.decidedBy(messageId) : undefined;
    const outcome: Outcome = decided
      ? { before: decided.before, decision: decided.record.decision, replies: decided.record.replies }
      : await this.decideAndWrite(inbound, conversationId, messageId, text, understanding, now);

    const written = await messages.insert({
      _id: messageId, conversationId, channel: inbound.channel, userId: inbound.userId, direction: 'in' as const, author: 'user' as const,
      kind: inbound.kind, text: text ?? inbound.text, inbound, status: 'done' as const, claimedAt, understanding,
      decision: outcome.decision, replies: outcome.replies, createdAt: new Date(), updatedAt: new Date(),
    } as MessageRow);
    // Stored already: a process that took this message over after ours stalled got there first.
    if (written === 'duplicate') return this.resultOf((await Message.findById(messageId).lean<MessageDoc>())!);
    const before = outcome.before ?? this.fresh(inbound, now);
    this.publish(inbound, conversationId, messageId, before, outcome.before?.lastActivityAt, text, understanding, outcome.decision, outcome.replies, now);
    return { conversationId, messageId, decision: outcome.decision, replies: outcome.replies, duplicate: false };
  }

  /**
   * Decides from the conversation's latest state and writes the result as its next state. Losing the race to
   * another writer (another message of the same user, an agent) means deciding again from the newer state; an
   * account command runs once, whatever happens to the state.
   */
  private async decideAndWrite(
    inbound: InboundMessage, conversationId: string, messageId: string, text: string | undefined, understanding: Understanding | undefined, now: Date,
  ): Promise<Outcome> {
    const commandReply = text && this.deps.liveAnswers ? await this.deps.liveAnswers.command(text, inbound, now) : undefined;
    const outcome = await this.states.update(conversationId, async (before) => {
      const conversation = before ? { ...before } : this.fresh(inbound, now);
      if (inbound.profile?.vip !== undefined) conversation.vip = inbound.profile.vip;
      const state = this.dialogueState(conversation, now);
      const decision: Decision = commandReply ? { action: 'acknowledge', reason: 'account command' } : this.decideFor(inbound, text, understanding, state, conversation);
      const replies = commandReply ? [{ kind: 'text' as const, text: commandReply }] : await this.render(decision, inbound, understanding, state, conversation);
      const next = this.nextState(conversation, decision, understanding, state, now);
      return { next, record: { messageId, decision, replies }, value: { before, decision, replies } };
    }, { assumeNew: true });
    return outcome!; // the builder always writes
  }

  /** The stored result of a delivery, waiting up to `timeoutMs` for one still in progress. */
  async waitForResult(messageId: string, timeoutMs: number): Promise<PipelineResult | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const doc = await Message.findById(messageId).lean<MessageDoc>();
      if (doc) return this.resultOf(doc);
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

  /** Inserts the claim; for a duplicate returns the stored result, or takes over a dead claim (once). */
  private async claim(inbound: InboundMessage, conversationId: string, messageId: string, claimedAt: Date): Promise<Claim> {
    if ((await claims.insert({ _id: messageId, conversationId, claimedAt })) === 'inserted') return { kind: 'claimed', takeover: false };
    const stored = await Message.findById(messageId).lean<MessageDoc>();
    if (stored) return { kind: 'stored', result: this.resultOf(stored) };
    const existing = await MessageClaim.findById(messageId).lean<ClaimRow>();
    if (!existing || claimedAt.getTime() - new Date(existing.claimedAt).getTime() < this.staleClaimMs) throw new DuplicateInProgress(messageId);
    // The process that claimed it died before finishing: one retry takes it over, by claiming that stale claim.
    const takeoverId = `${messageId}#takeover@${new Date(existing.claimedAt).getTime()}`;
    if ((await claims.insert({ _id: takeoverId, conversationId, claimedAt })) === 'duplicate') throw new DuplicateInProgress(messageId);
    await MessageClaim.updateOne({ _id: messageId }, { $set: { claimedAt } });
    return { kind: 'claimed', takeover: true };
  }

  /** The state of a conversation that has no message yet. */
  private fresh(inbound: InboundMessage, now: Date): ConversationDoc {
    return newConversation(inbound.channel, inbound.userId, now, inbound.profile);
  }

  private textOf(inbound: InboundMessage): string | undefined {
    if (inbound.kind === 'event' && inbound.event?.type === 'menu_click') {
      const action = this.deps.config.menuActions.get(inbound.event.key);
      // A button that answers a sub-intent reads as its name in transcripts and statistics.
      return action && ('question' in action ? action.question : this.deps.knowledge.getSubIntent(action.subIntentId)?.name);
    }
    if (inbound.kind === 'text' || inbound.kind === 'voice') return inbound.text?.trim() || undefined;
    return undefined;
  }

  /** The dialogue so far; pending choices and slots are forgotten after a long silence. */
  private dialogueState(conversation: ConversationDoc, now: Date): DialogueState {
    const idleMs = now.getTime() - new Date(conversation.lastActivityAt).getTime();
    const expired = idleMs > this.deps.config.handoffRules.conversation.resetAfterMinutes * 60_000;
    return {
      pendingChoices: expired ? [] : conversation.pendingChoices.map((c) => ({ ...c })),
      pendingSlot: expired || !conversation.pendingSlot ? undefined : { ...conversation.pendingSlot },
      slots: expired ? {} : { ...conversation.slots },
      lowConfidenceStreak: expired ? 0 : conversation.lowConfidenceStreak,
      emotions: conversation.emotions.map((e) => ({ label: e.label, intensity: e.intensity, polarity: e.polarity })),
      lastScenarioId: expired ? undefined : conversation.lastScenarioId,
      vip: conversation.vip,
    };
  }

  private facts = (subIntentId: string): SubIntentFacts | undefined => {
    const sub = this.deps.knowledge.getSubIntent(subIntentId);
    if (!sub) return undefined;
    return {
      id: sub.id, name: sub.name, scenarioId: sub.scenarioId, sensitive: sub.sensitive, needsProduct: sub.needsProduct, menu: sub.menu,
      coolingOff: sub.coolingOff, forAges: sub.forAges, ageSiblings: sub.ageSiblings, deferToAge: sub.deferToAge,
    };
  };

  private decideFor(
    inbound: InboundMessage, text: string | undefined, understanding: Understanding | undefined,
    state: DialogueState, conversation: ConversationDoc,
  ): Decision {
    const event = inbound.kind === 'event' ? inbound.event : undefined;
    if (inbound.kind === 'event') {
      if (event?.type === 'subscribe' || event?.type === 'scan') return { action: 'welcome', reason: `event ${event.type}` };
      if (event?.type !== 'menu_click' || !text) return { action: 'acknowledge', reason: `event ${event?.type ?? 'unknown'}` };
    }
    // Without a desk nobody reads a relay (one left from when a desk was set up): the bot serves again.
    if (conversation.state !== 'bot' && this.deps.humanDesk !== false) return { action: 'relay_to_agent', reason: `conversation is ${conversation.state}` };
    const menuAction = event?.type === 'menu_click' ? this.deps.config.menuActions.get(event.key) : undefined;
    if (event?.type === 'menu_click' && menuAction && 'subIntentId' in menuAction) {
      return answerOrAskFor(menuAction.subIntentId, 1, `menu ${event.key} answers ${menuAction.subIntentId}`, state, this.facts);
    }
    if (!text || !understanding) return { action: 'acknowledge', reason: `${inbound.kind} message without text` };
    return decide({ inbound, text, understanding, state, rules: this.deps.config.handoffRules, facts: this.facts, coolingOffDays: this.deps.coolingOffDays });
  }

  private async render(
    decision: Decision, inbound: InboundMessage, understanding: Understanding | undefined, state: DialogueState, conversation: ConversationDoc,
  ): Promise<OutboundMessage[]> {
    const replies = this.deps.config.replies;
    switch (decision.action) {
      case 'answer':
        return this.answer(decision, inbound, understanding, state, conversation);
      case 'clarify':
        return [{ kind: 'choices', text: decision.choices.length === 1 ? replies.clarifyOne : replies.clarify, choices: decision.choices }];
      case 'ask_slot':
        return [{ kind: 'text', text: replies.askSlot[decision.slot] ?? replies.fallback }];
      case 'handoff': {
        if (this.deps.humanDesk !== false) return [{ kind: 'text', text: replies.handoff }];
        // Nobody can take over here: answer what was understood, and say where humans are.
        if (!decision.subIntentId) return [{ kind: 'text', text: replies.handoffUnavailable }];
        const answer = { action: 'answer' as const, subIntentId: decision.subIntentId, solutionId: '', confidence: 1, reason: decision.reason };
        const [answered] = await this.answer(answer, inbound, understanding, state, conversation);
        if (answer.solutionId) decision.solutionId = answer.solutionId;
        // One message, not two: a push spends the user's customer-service quota per message.
        if (answered?.kind !== 'text') return [{ kind: 'text', text: replies.handoffUnavailable }];
        return [{ ...answered, text: `${answered.text}\n\n${replies.handoffUnavailable}` }];
      }
      case 'welcome':
        // A follower scanning a code again is not new: no introduction, just an offer to help.
        return [{ kind: 'text', text: inbound.event?.type === 'scan' ? replies.welcomeBack : replies.welcome }];
      case 'fallback':
        return [{ kind: 'text', text: replies.fallback }];
      case 'relay_to_agent':
        return [];
      case 'acknowledge': {
        if (inbound.kind === 'voice') return [{ kind: 'text', text: replies.voiceUnrecognised }];
        if (inbound.kind === 'image') return [{ kind: 'text', text: replies.image }];
        if (inbound.kind === 'video') return [{ kind: 'text', text: replies.video }];
        if (inbound.kind === 'location') return [{ kind: 'text', text: replies.location }];
        if (inbound.kind === 'link') return [{ kind: 'text', text: replies.link }];
        if (inbound.event?.type === 'menu_click') return [{ kind: 'text', text: replies.menuUnknown }];
        // Emoji or punctuation alone: answer the feeling they carry, else ask what the user would like to know.
        if (inbound.kind === 'text') return [{ kind: 'text', text: replies.symbolsOnly[understanding?.emotion.polarity ?? 'neutral'] }];
        return [];
      }
    }
  }

  /** The answer to a sub-intent: live from the user's records where it can, else the solution for their product and state. */
  private async answer(
    decision: Extract<Decision, { action: 'answer' }>, inbound: InboundMessage, understanding: Understanding | undefined,
    state: DialogueState, conversation: ConversationDoc,
  ): Promise<OutboundMessage[]> {
    const replies = this.deps.config.replies;
    const sub = this.deps.knowledge.getSubIntent(decision.subIntentId);
    const user = { channel: inbound.channel, userId: inbound.userId, unionId: inbound.profile?.unionId ?? conversation.unionId ?? undefined };
    const live = sub?.live;
    if (live && this.deps.liveAnswers) {
      const text = await this.deps.liveAnswers.answer(live, user, inbound.receivedAt);
      if (text) {
        decision.solutionId = `live:${live}`;
        return [{ kind: 'text', text }];
      }
    }
    const product = productInQuestion(understanding, state);
    // The user's records are read only for a sub-intent that has answers written for some user state.
    const written = sub?.variants?.userStates ?? [];
    const userState = written.length && this.deps.liveAnswers?.userStates
      ? (await this.deps.liveAnswers.userStates(user, inbound.receivedAt)).find((state) => written.includes(state))
      : undefined;
    const solution = await this.deps.knowledge.selectSolution(decision.subIntentId, { product, userState });
    if (!solution) return [{ kind: 'text', text: replies.fallback }];
    decision.solutionId = solution.id;
    // Our answers describe our own rules: a user asking about another insurer's policy is told so first, also when
    // the answer is a choice picked from those offered for that question.
    const picked = state.pendingChoices.some((c) => c.subIntentId === decision.subIntentId);
    const insurer = understanding?.entities.find((e) => e.type === 'insurer')?.value ?? (picked ? state.slots.insurer : undefined);
    const text = insurer ? `${replies.otherInsurer.replace('{insurer}', String(insurer))}\n${solution.text}` : solution.text;
    if (decision.choices) return [{ kind: 'choices', text, choices: decision.choices }];
    const links = solution.rich?.links?.length ? solution.rich.links.map((l) => ({ title: l.title, page: l.page })) : undefined;
    return [{ kind: 'text', text, ...(links ? { links } : {}) }];
  }

  /** Without a desk, whether a handoff now repeats the conversation's last one (within the reset window). */
  private repeatsHandoff(conversation: ConversationDoc, now: Date): boolean {
    if (this.deps.humanDesk !== false || !conversation.handoff?.at) return false;
    return now.getTime() - new Date(conversation.handoff.at).getTime() < this.deps.config.handoffRules.conversation.resetAfterMinutes * 60_000;
  }

  /** The conversation after one decision: the next snapshot. */
  private nextState(
    conversation: ConversationDoc, decision: Decision, understanding: Understanding | undefined, state: DialogueState, now: Date,
  ): ConversationDoc {
    const slots = { ...state.slots };
    for (const entity of understanding?.entities ?? []) {
      if (['product', 'policy_number', 'relation'].includes(entity.type)) slots[entity.type === 'policy_number' ? 'policyNumber' : entity.type] = String(entity.value);
    }
    // The insurer the last message named (for the answer to a choice picked next), not a standing fact.
    const insurer = understanding?.entities.find((e) => e.type === 'insurer')?.value;
    if (insurer !== undefined) slots.insurer = String(insurer);
    else delete slots.insurer;
    // As many readings as the worsening-trend rule looks at (the latest one is what agents and tickets see).
    const keep = Math.max(1, this.deps.config.handoffRules.emotion.worseningWindow);
    const emotions = understanding
      ? [...conversation.emotions, { ...understanding.emotion, at: now }].slice(-keep)
      : conversation.emotions;
    // Offering choices is not a miss; "都不是" to them, or no plausible answer at all, is.
    const missed = decision.action === 'fallback';
    const answered = decision.action === 'answer' ? this.deps.knowledge.getSubIntent(decision.subIntentId) : undefined;
    const next: ConversationDoc = {
      ...conversation,
      ...(this.deps.humanDesk === false ? { state: 'bot' as const } : {}),
      seq: conversation.seq + 1,
      slots,
      emotions,
      vip: state.vip,
      lastActivityAt: now,
      pendingChoices: (decision.action === 'clarify' || decision.action === 'answer') && decision.choices
        ? decision.choices.map((c) => ({ number: c.number, label: c.label, subIntentId: c.subIntentId }))
        : [],
      pendingSlot: decision.action === 'ask_slot' ? { slot: decision.slot, subIntentId: decision.subIntentId } : undefined,
      lowConfidenceStreak: missed ? state.lowConfidenceStreak + 1 : decision.action === 'answer' ? 0 : state.lowConfidenceStreak,
    };
    if (answered) Object.assign(next, { lastScenarioId: answered.scenarioId, lastSubIntentId: answered.id });
    if (decision.action === 'handoff') {
      // Without a desk the bot keeps the conversation, but the handoff is noted: asking again soon is the same one.
      Object.assign(next, this.deps.humanDesk === false
        ? { lowConfidenceStreak: 0, handoff: this.repeatsHandoff(conversation, now) ? conversation.handoff : { reasons: decision.reasons, at: now } }
        : { state: 'waiting_agent', handoff: { reasons: decision.reasons, at: now }, lowConfidenceStreak: 0 });
    }
    return next;
  }

  private publish(
    inbound: InboundMessage, conversationId: string, messageId: string, conversation: ConversationDoc, previousActivityAt: Date | undefined,
    text: string | undefined, understanding: Understanding | undefined, decision: Decision, replies: OutboundMessage[], at: Date,
  ): void {
    const events = this.deps.events;
    const top = understanding?.candidates[0];
    events.publish('message.received', {
      conversationId, messageId, channel: inbound.channel, userId: inbound.userId, text, emotion: understanding?.emotion ?? NEUTRAL,
      topSubIntentId: top?.subIntentId, confidence: top?.confidence, at, state: conversation.state, previousActivityAt,
      entities: understanding?.entities,
    });
    events.publish('message.answered', { conversationId, messageId, decision, replies, at });
    // Asked again while the last one stands (no desk: "转人工" three times): one handoff, not three, in the statistics.
    if (decision.action === 'handoff' && !this.repeatsHandoff(conversation, at)) {
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
