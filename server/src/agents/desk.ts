import { Types } from 'mongoose';
import { fillTemplate, type ReplyTexts } from '../config/wechat-config';
import type { PushAuthor, UserDelivery } from '../conversation/delivery';
import type { MessageDoc } from '../conversation/models';
import type { ConversationService } from '../conversation/service';
import type { OutboundMessage } from '../conversation/types';
import type { EventBus } from '../events/bus';
import type { DomainEvents } from '../events/types';
import type { Logger } from '../logging/logger';
import { prefillFromConversation } from '../tickets/prefill';
import type { SlaBreach, TicketService } from '../tickets/service';
import { TICKET_PRIORITY_LABELS, TICKET_STATUS_LABELS, type HandoffFacts, type TicketSource } from '../tickets/types';
import type { AuditLog } from './audit';
import {
  customerLabel,
  customerMessageForAgent,
  escalationCard,
  escalationDetails,
  FACT_LABELS,
  knowledgeResults,
  type EscalationBrief,
  type Suggestion,
} from './cards';
import { AGENT_HELP, parseAgentCommand, type AgentCommand, type ClaimChange } from './commands';
import { HttpError } from '../http/errors';
import { managersFor, type AgentDeskConfig } from './config';
import { asciiDigits, maskMentions } from '../nlu/masking';
import type { AgentDirectory } from './directory';
import type { AgentMessenger } from './messenger';
import {
  Agent,
  AgentSeat,
  DeskCounter,
  HeldReply,
  HeldReplyClaim,
  HumanSession,
  OpenSession,
  type AgentDoc,
  type AgentStatus,
  type HeldReplyRecord,
  type HumanSessionRecord,
  type SessionEndReason,
} from './models';
import { chooseAgent, expectedWaitMinutes, isStaffed, queueOrder, skillScore, type RoutingRequest } from './routing';
import { insertedOnce, isDuplicateKey } from '../db/duplicate-key';

/** Knowledge suggestions for a text, best first (wired to the knowledge base by the platform). */
export type SuggestFn = (text: string) => Suggestion[] | Promise<Suggestion[]>;

/** A message from an agent's WeCom, as the callback adapter hands it over. */
export interface AgentMessage {
  fromUserId: string;
  kind: 'text' | 'event' | 'other';
  text?: string;
  msgType?: string;
  sentAt: Date;
}

/**
 * What agents may do to a claim from WeCom. The insurance domain provides it (`insurance/agent-claims.ts`), so this
 * domain does not import insurance; both answer with text for the agent and throw HttpError for a refusal.
 */
export interface ClaimHandling {
  describe(claimId: string): Promise<string>;
  move(agent: { id: string; name: string }, claimId: string, change: ClaimChange): Promise<string>;
}

export interface AgentDeskDeps {
  config: AgentDeskConfig;
  /** Claims handling by WeCom command; without it /claim says it is not available. */
  claims?: ClaimHandling;
  replies: Pick<ReplyTexts, 'handoffQueued' | 'handoffNoAgent' | 'goodbyeAfterAgent'>;
  directory: AgentDirectory;
  messenger: AgentMessenger;
  audit: AuditLog;
  delivery: Pick<UserDelivery, 'push'>;
  conversations: Pick<ConversationService, 'get' | 'recentMessages' | 'assignAgent' | 'returnToBot'>;
  events: EventBus;
  tickets: TicketService;
  suggest: SuggestFn;
  logger: Logger;
  now: () => Date;
}

export interface DeskSweepReport {
  lapsedOffers: string[];
  queueTimeouts: string[];
}

type AgentSessionLookup = HumanSessionRecord | 'ambiguous' | undefined;

const SESSION_NUMBER_ATTEMPTS = 5;
/** A pointer without its session after this long belongs to a process that died mid-handoff. */
const STALE_POINTER_MS = 60_000;
/** A seat without its session after this long belongs to a process that died between the two writes. */
const SEAT_GRACE_MS = 60_000;
const HELD_REPLY_CLAIM_RETENTION_MS = 24 * 3_600_000;
const STATUS_LABELS: Record<AgentStatus, string> = { on_duty: '空闲（接单中）', busy: '忙碌（暂停接单）', off: '下班' };

/**
 * The human desk: takes handoffs, routes them to agents in WeCom (skills, load, idle time; VIP first; a queue when
 * everyone is busy; a ticket when nobody is at work), relays both ways with agent assist, runs the agents'
 * commands, and hands the conversation back to the bot. Every fact another instance needs is in the database;
 * timers only trigger `sweep()` over it.
 */
export class AgentDesk {
  private dispatching: Promise<void> = Promise.resolve();
  private listening = false;

  constructor(private readonly deps: AgentDeskDeps) {}

  private get now(): Date {
    return this.deps.now();
  }

  listen(): void {
    if (this.listening) return;
    this.listening = true;
    const { events } = this.deps;
    events.on('conversation.handed_off', async (event) => { await this.onHandedOff(event); });
    events.on('message.received', (event) => this.onCustomerMessage(event));
    events.on('conversation.closed', (event) => this.onConversationClosed(event));
  }

  // ---- Handoff and routing ----

  /** A new handoff: open a session (once per conversation), queue it, and route. */
  async onHandedOff(event: DomainEvents['conversation.handed_off']): Promise<HumanSessionRecord | undefined> {
    const now = this.now;
    const recent = await this.deps.conversations.recentMessages(event.conversationId, 3);
    const trigger = [...recent].reverse().find((m) => m.direction === 'in');
    const top = (trigger?.understanding as { candidates?: Array<{ subIntentId: string; name: string }> } | undefined)?.candidates?.[0];
    for (let attempt = 1; ; attempt += 1) {
      const number = await this.nextSessionNumber();
      try {
        // The open-session row is the guard: a second handoff event for the same conversation stops here.
        await OpenSession.create({ _id: event.conversationId, sessionId: number, at: now });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        if (!(await this.clearStalePointer(event.conversationId)) || attempt >= SESSION_NUMBER_ATTEMPTS) return undefined;
        continue;
      }
      const record: Omit<HumanSessionRecord, 'createdAt' | 'updatedAt'> = {
        _id: number, conversationId: event.conversationId, channel: event.channel, userId: event.userId, vip: event.vip,
        reasons: event.reasons, scenarioId: event.scenarioId, intentId: event.intentId, subIntentId: top?.subIntentId, topic: top?.name,
        emotion: event.emotion, lastEmotion: event.emotion, state: 'queued', queuedAt: now, passedBy: [],
        lastUserMessageAt: event.at,
      };
      try {
        await HumanSession.create(record);
      } catch (err) {
        await OpenSession.deleteOne({ _id: event.conversationId, sessionId: number });
        if (isDuplicateKey(err) && attempt < SESSION_NUMBER_ATTEMPTS) continue; // the number was handed out twice
        throw err;
      }
      await this.deps.audit.record({ actor: 'system', action: 'session.queued', sessionId: number, conversationId: event.conversationId, detail: { reasons: event.reasons, vip: event.vip } });
      await this.dispatch();
      return (await HumanSession.findById(number).lean<HumanSessionRecord>()) ?? undefined;
    }
  }

  /**
   * A pointer whose session ended, or never got written (the process died between the two inserts), must not block
   * the conversation's next handoff. Returns true when it was removed.
   */
  private async clearStalePointer(conversationId: string): Promise<boolean> {
    const pointer = await OpenSession.findById(conversationId).lean();
    if (!pointer) return true;
    const session = await HumanSession.findById(pointer.sessionId).lean<HumanSessionRecord>();
    const orphaned = !session && this.now.getTime() - new Date(pointer.at).getTime() > STALE_POINTER_MS;
    if (!orphaned && session?.state !== 'ended') return false;
    const removed = await OpenSession.deleteOne({ _id: conversationId, sessionId: pointer.sessionId });
    return removed.deletedCount === 1;
  }

  /** Routes every queued session it can. Serialised within this instance so one pass sees the loads of the last. */
  dispatch(): Promise<void> {
    const run = this.dispatching.then(() => this.dispatchOnce());
    this.dispatching = run.catch(() => undefined);
    return run;
  }

  private async dispatchOnce(): Promise<void> {
    const queued = (await HumanSession.find({ state: 'queued' }).lean<HumanSessionRecord[]>()).sort(queueOrder);
    if (!queued.length) return;
    const agents = await this.deps.directory.snapshot();
    const atWork = agents.filter(isStaffed);
    if (!atWork.length) {
      for (const session of queued) await this.closeWithTicket(session, 'no_agent');
      return;
    }
    const offered = new Set<string>();
    for (const session of queued) {
      const agent = chooseAgent(this.routingRequest(session), agents, this.deps.config.routing);
      if (!agent) continue;
      if (await this.offer(session, agent.id, agent.capacity)) {
        agent.load += 1;
        offered.add(session._id);
      }
    }
    const waiting = queued.filter((s) => !offered.has(s._id));
    for (const [ahead, session] of waiting.entries()) {
      if (!session.queueNoticeAt && !session.transferredBy) await this.tellQueuePosition(session, ahead, atWork.length);
    }
  }

  private routingRequest(session: HumanSessionRecord): RoutingRequest {
    return {
      scenarioId: session.scenarioId, intentId: session.intentId, subIntentId: session.subIntentId, reasons: session.reasons,
      passedBy: session.passedBy ?? [], targetAgentId: session.targetAgentId, targetTeam: session.targetTeam,
    };
  }

  private async tellQueuePosition(session: HumanSessionRecord, ahead: number, agentsAtWork: number): Promise<void> {
    const marked = await HumanSession.updateOne(
      { _id: session._id, state: 'queued', queueNoticeAt: { $exists: false } },
      { $set: { queueNoticeAt: this.now, queueNoticePosition: ahead } },
    );
    if (marked.modifiedCount !== 1) return;
    await this.announcePosition(session, ahead, agentsAtWork);
  }

  private async announcePosition(session: HumanSessionRecord, ahead: number, agentsAtWork: number): Promise<void> {
    const minutes = expectedWaitMinutes(ahead, agentsAtWork, this.deps.config.queue.averageHandleMinutes);
    await this.pushToCustomer(session, [{ kind: 'text', text: fillTemplate(this.deps.replies.handoffQueued, { position: ahead, minutes }) }]);
  }

  /**
   * A queued customer wrote (often "还要等多久"): tell them where they are now if that changed since they were last
   * told, e.g. a VIP went ahead or people before them were served. They just wrote, so the push is within quota.
   */
  private async tellPositionIfMoved(session: HumanSessionRecord): Promise<void> {
    const queued = (await HumanSession.find({ state: 'queued' }).lean<HumanSessionRecord[]>()).sort(queueOrder);
    const ahead = queued.findIndex((s) => s._id === session._id);
    if (ahead === -1 || ahead === session.queueNoticePosition) return;
    const marked = await HumanSession.updateOne(
      { _id: session._id, state: 'queued', queueNoticePosition: session.queueNoticePosition ?? null },
      { $set: { queueNoticeAt: this.now, queueNoticePosition: ahead } },
    );
    if (marked.modifiedCount !== 1) return;
    await this.announcePosition(session, ahead, (await this.deps.directory.snapshot()).filter(isStaffed).length);
  }

  private async offer(session: HumanSessionRecord, agentId: string, capacity: number): Promise<boolean> {
    const now = this.now;
    const expires = new Date(now.getTime() + this.deps.config.offer.timeoutSeconds * 1000);
    // The loads this instance read may be a moment old: the seat is what keeps the agent within capacity.
    if (!(await this.takeSeat(agentId, capacity, session._id))) return false;
    const claimed = await HumanSession.updateOne(
      { _id: session._id, state: 'queued' },
      { $set: { state: 'offered', offeredTo: agentId, offeredAt: now, offerExpiresAt: expires } },
    );
    if (claimed.modifiedCount !== 1) {
      await this.freeSeat(agentId, session._id); // another instance offered it first
      return false;
    }
    await Agent.updateOne({ _id: agentId }, { $set: { lastOfferedAt: now } });
    const brief = await this.briefFor(session);
    await this.deps.messenger.card(agentId, escalationCard(brief, this.deps.config.card.url));
    await this.deps.messenger.text(agentId, escalationDetails(brief));
    await this.deps.audit.record({ actor: 'system', action: 'session.offered', sessionId: session._id, conversationId: session.conversationId, detail: { agentId, expires } });
    return true;
  }

  /** Everything the agent needs at once: dialogue, mood, masked key facts, suggested answers. */
  async briefFor(session: HumanSessionRecord): Promise<EscalationBrief> {
    const [conversation, messages] = await Promise.all([
      this.deps.conversations.get(session.conversationId),
      this.deps.conversations.recentMessages(session.conversationId, 20),
    ]);
    const prefill = conversation ? prefillFromConversation({ conversation, messages }) : undefined;
    const mentions = (prefill?.entities ?? []).map((e) => ({ type: e.type, value: e.value }));
    const turns = transcript(messages)
      .slice(-this.deps.config.card.recentTurns)
      .map((turn) => ({ ...turn, text: maskMentions(asciiDigits(turn.text), mentions) }));
    const facts = (prefill?.entities ?? []).map((e) => ({
      label: FACT_LABELS[e.type] ?? e.type,
      value: e.type === 'amount' ? `${e.display}元` : e.display,
    }));
    const lastUserText = [...turns].reverse().find((t) => t.who === 'user')?.text;
    const transferredBy = session.transferredBy ? (await this.deps.directory.get(session.transferredBy))?.name ?? session.transferredBy : undefined;
    return {
      sessionId: session._id, channel: session.channel, customer: customerLabel(session.userId), vip: session.vip,
      reasons: session.reasons, topic: session.topic ?? prefill?.intent.name ?? session.intentId ?? session.scenarioId,
      // How the customer feels now: after a wait in the queue or a transfer, not at the moment of the handoff.
      emotion: session.lastEmotion ?? session.emotion ?? prefill?.emotion, turns, facts,
      suggestions: lastUserText ? await this.suggestions(lastUserText) : [],
      waitedSeconds: Math.max(0, Math.floor((this.now.getTime() - new Date(session.queuedAt).getTime()) / 1000)),
      transferredBy, at: this.now,
    };
  }

  private async suggestions(text: string): Promise<Suggestion[]> {
    try {
      return (await this.deps.suggest(text)).slice(0, this.deps.config.card.suggestions);
    } catch (err) {
      this.deps.logger.warn({ err }, 'knowledge suggestions failed');
      return [];
    }
  }

  /** The team best placed for a session's follow-up (for tickets opened without an agent). */
  private teamFor(session: HumanSessionRecord): string | undefined {
    const request = this.routingRequest(session);
    let best: { id: string; score: number } | undefined;
    for (const team of this.deps.config.teams) {
      const score = skillScore(team.skills, request);
      if (score > 0 && (!best || score > best.score)) best = { id: team.id, score };
    }
    return best?.id;
  }

  private handoffFacts(session: HumanSessionRecord): HandoffFacts {
    return {
      reasons: session.reasons, scenarioId: session.scenarioId, intentId: session.intentId, vip: session.vip, sessionId: session._id,
      emotion: session.emotion
        ? { label: session.emotion.label as NonNullable<HandoffFacts['emotion']>['label'], intensity: session.emotion.intensity, polarity: session.emotion.polarity as NonNullable<HandoffFacts['emotion']>['polarity'] }
        : undefined,
    };
  }

  /** Nobody can take it (no one at work, or the wait ran out): a ticket, a call-back promise, and the bot again. */
  private async closeWithTicket(session: HumanSessionRecord, source: Extract<TicketSource, 'no_agent' | 'queue_timeout'>): Promise<void> {
    if (!(await this.endSession(session, source))) return;
    const ticket = await this.deps.tickets.open({
      conversationId: session.conversationId, source, openedBy: 'system', team: this.teamFor(session), handoff: this.handoffFacts(session),
    });
    await HumanSession.updateOne({ _id: session._id }, { $set: { ticketId: ticket._id } });
    await this.deps.conversations.returnToBot(session.conversationId, 'bot');
    const template = source === 'no_agent' ? this.deps.replies.handoffNoAgent : this.deps.config.customerTexts.queueTimeout;
    await this.pushToCustomer(session, [{ kind: 'text', text: fillTemplate(template, { ticket: ticket._id }) }]);
    await this.deps.audit.record({ actor: 'system', action: 'ticket.auto_opened', sessionId: session._id, ticketId: ticket._id, conversationId: session.conversationId, detail: { source } });
  }

  /** Marks a session ended (once, whoever wins) and frees its conversation and agent. */
  private async endSession(session: HumanSessionRecord, reason: SessionEndReason): Promise<boolean> {
    const ended = await HumanSession.updateOne(
      { _id: session._id, state: session.state },
      { $set: { state: 'ended', endedAt: this.now, endReason: reason }, $unset: { offerExpiresAt: 1 } },
    );
    if (ended.modifiedCount !== 1) return false;
    await OpenSession.deleteOne({ _id: session.conversationId, sessionId: session._id });
    const holder = session.state === 'active' ? session.agentId : session.state === 'offered' ? session.offeredTo : undefined;
    if (holder) await this.released(holder, session._id);
    return true;
  }

  /** One of the agent's `capacity` seats for the session; false when all are held. */
  private async takeSeat(agentId: string, capacity: number, sessionId: string): Promise<boolean> {
    for (let seat = 0; seat < capacity; seat++) {
      try {
        await AgentSeat.create({ _id: `${agentId}#${seat}`, agentId, sessionId, at: this.now });
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return false;
  }

  private async freeSeat(agentId: string, sessionId: string): Promise<void> {
    await AgentSeat.deleteMany({ agentId, sessionId });
  }

  /**
   * Seats whose session no longer sits with that agent (a process died between taking or freeing a seat and the
   * session's change) are given back once they are older than a routing pass could take.
   */
  private async reclaimSeats(): Promise<number> {
    const seats = await AgentSeat.find({ at: { $lte: new Date(this.now.getTime() - SEAT_GRACE_MS) } }).lean();
    if (!seats.length) return 0;
    const sessions = new Map(
      (await HumanSession.find({ _id: { $in: [...new Set(seats.map((s) => s.sessionId))] } }, { state: 1, offeredTo: 1, agentId: 1 })
        .lean<Array<Pick<HumanSessionRecord, '_id' | 'state' | 'offeredTo' | 'agentId'>>>()).map((s) => [s._id, s]),
    );
    const orphaned = seats.filter((seat) => {
      const session = sessions.get(seat.sessionId);
      return !session || !((session.state === 'offered' && session.offeredTo === seat.agentId) || (session.state === 'active' && session.agentId === seat.agentId));
    });
    if (orphaned.length) await AgentSeat.deleteMany({ _id: { $in: orphaned.map((s) => s._id) } });
    return orphaned.length;
  }

  /** An agent let go of a session: maybe idle from now, and their focus moves to another session they hold. */
  private async released(agentId: string, sessionId: string): Promise<void> {
    await this.freeSeat(agentId, sessionId);
    const holding = await HumanSession.find({ $or: [{ state: 'active', agentId }, { state: 'offered', offeredTo: agentId }] }).sort({ acceptedAt: -1 }).lean<HumanSessionRecord[]>();
    const set: Record<string, unknown> = {};
    const unset: Record<string, 1> = {};
    if (!holding.length) set.idleSince = this.now;
    const agent = await this.deps.directory.get(agentId);
    if (agent?.focusSessionId === sessionId) {
      const next = holding.find((s) => s.state === 'active');
      if (next) set.focusSessionId = next._id;
      else unset.focusSessionId = 1;
    }
    if (Object.keys(set).length || Object.keys(unset).length) {
      await Agent.updateOne({ _id: agentId }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) });
    }
  }

  /** Pushes to the customer; UserDelivery keeps the transcript, with the agent as author for their replies. */
  private async pushToCustomer(session: Pick<HumanSessionRecord, 'channel' | 'userId' | '_id'>, messages: OutboundMessage[], agentId?: string) {
    const from: PushAuthor = agentId ? { author: 'agent', agentId } : { author: 'bot' };
    const outcome = await this.deps.delivery.push(session.channel, session.userId, messages, from);
    if (!outcome.ok) this.deps.logger.warn({ sessionId: session._id, reason: outcome.reason }, 'message to the customer not delivered');
    else if (agentId) await HumanSession.updateOne({ _id: session._id }, { $set: { lastAgentReplyAt: this.now } });
    return outcome;
  }

  // ---- The customer's side during a session ----

  /** A customer message while a human has (or is about to have) the conversation: relay it with the assist. */
  async onCustomerMessage(event: DomainEvents['message.received']): Promise<void> {
    if (event.state !== 'human' && event.state !== 'waiting_agent') return;
    const open = await OpenSession.findById(event.conversationId).lean();
    if (!open) return;
    const session = await HumanSession.findById(open.sessionId).lean<HumanSessionRecord>();
    if (!session || session.state === 'ended') return;
    await HumanSession.updateOne(
      { _id: session._id },
      { $set: { lastUserMessageAt: event.at, ...(event.text && event.emotion ? { lastEmotion: event.emotion } : {}) } },
    );
    // The customer wrote, so their channel takes messages again: what was held back goes out first.
    await this.sendHeldReplies(session);

    if (session.state === 'queued') {
      await this.tellPositionIfMoved(session);
      return;
    }
    const holder = session.state === 'active' ? session.agentId : session.state === 'offered' ? session.offeredTo : undefined;
    if (!holder) return;
    if (!event.text) {
      await this.deps.messenger.text(holder, `#${session._id} 客户发送了一条非文字消息（图片、语音等），请在客服系统中查看。`);
      return;
    }
    const suggestions = await this.suggestions(event.text);
    await this.deps.messenger.text(
      holder,
      customerMessageForAgent({
        sessionId: session._id, text: event.text, mentions: event.entities, accepted: session.state === 'active',
        before: session.lastEmotion ?? undefined, now: event.emotion, suggestions,
      }),
    );
  }

  /**
   * Sends the replies held for the customer, oldest first and one at a time. Each is taken by inserting its claim,
   * so two customer messages handled at once (two instances) cannot both send it; the first the channel refuses is
   * released with everything after it, for the customer's next message.
   */
  private async sendHeldReplies(session: HumanSessionRecord): Promise<void> {
    const held = await HeldReply.find({ sessionId: session._id }).sort({ at: 1, _id: 1 }).lean<HeldReplyRecord[]>();
    const sent: HeldReplyRecord[] = [];
    for (const reply of held) {
      if (!(await this.claimHeldReply(reply._id))) continue; // another instance is sending it
      const outcome = await this.pushToCustomer(session, [{ kind: 'text', text: reply.text }], reply.agentId);
      if (!outcome.ok) {
        await HeldReplyClaim.deleteOne({ _id: reply._id });
        break;
      }
      await HeldReply.deleteOne({ _id: reply._id });
      sent.push(reply);
    }
    if (!sent.length) return;
    const agentId = session.agentId ?? sent[0].agentId;
    await this.deps.messenger.text(agentId, `#${session._id} 客户已再次发言，暂存的 ${sent.length} 条回复已补发。`);
    await this.deps.audit.record({ actor: 'system', action: 'session.pending_delivered', sessionId: session._id, conversationId: session.conversationId, detail: { count: sent.length } });
  }

  private claimHeldReply(replyId: string): Promise<boolean> {
    return insertedOnce(() => HeldReplyClaim.create({ _id: replyId, at: this.now }));
  }

  /** The conversation was closed elsewhere (the customer left, a timeout): the session ends with it. */
  async onConversationClosed(event: DomainEvents['conversation.closed']): Promise<void> {
    const open = await OpenSession.findById(event.conversationId).lean();
    if (!open) return; // closed by the desk itself, which removes the open session first
    const session = await HumanSession.findById(open.sessionId).lean<HumanSessionRecord>();
    if (!session || session.state === 'ended') return;
    if (!(await this.endSession(session, 'conversation_closed'))) return;
    const holder = session.agentId ?? session.offeredTo;
    if (holder) await this.deps.messenger.text(holder, `#${session._id} 会话已关闭（${event.by}）。`);
    await this.deps.audit.record({ actor: 'system', action: 'session.closed', sessionId: session._id, conversationId: session.conversationId, detail: { by: event.by } });
    await this.dispatch();
  }

  // ---- The agent's side: WeCom messages and commands ----

  async receive(message: AgentMessage): Promise<void> {
    const agent = await this.deps.directory.get(message.fromUserId);
    if (!agent) {
      if (message.kind === 'text') await this.deps.messenger.text(message.fromUserId, '您还不是客服坐席，请联系管理员在 agents.yaml 中添加。');
      return;
    }
    if (message.kind === 'event') return; // entering the app, menu clicks: nothing to answer
    if (message.kind === 'other' || !message.text) {
      await this.deps.messenger.text(agent._id, '目前只能转发文字消息，请发送文字。');
      return;
    }
    const answer = await this.run(agent, parseAgentCommand(message.text));
    if (answer) await this.deps.messenger.text(agent._id, answer);
  }

  /** Runs one command; returns what to tell the agent (nothing after a delivered reply, to spare their WeCom). */
  async run(agent: AgentDoc, command: AgentCommand): Promise<string | undefined> {
    switch (command.kind) {
      case 'accept':
        return this.accept(agent, command.session);
      case 'reply':
        return this.reply(agent, command.text, command.session);
      case 'end':
        return this.end(agent, command.session);
      case 'transfer':
        return this.transfer(agent, command.target, command.session);
      case 'ticket':
        return this.openTicket(agent, command.description, command.session);
      case 'kb': {
        const found = await this.suggestions(command.query);
        await this.deps.audit.record({ actor: agent._id, action: 'kb.search', detail: { query: command.query, hits: found.length } });
        return knowledgeResults(command.query, found);
      }
      case 'claim':
        return this.handleClaim(agent, command.claimId, command.change);
      case 'set_status':
        return this.setStatus(agent, command.status);
      case 'status':
        return this.statusReport(agent);
      case 'help':
        return AGENT_HELP;
      case 'invalid':
        return command.message;
    }
  }

  /** Shows a claim, or moves it as the staff API would (same checks, timeline entry and customer notice). */
  private async handleClaim(agent: AgentDoc, claimId: string, change?: ClaimChange): Promise<string> {
    const claims = this.deps.claims;
    if (!claims) return '本系统未启用理赔处理。';
    try {
      if (!change) return await claims.describe(claimId);
      const answer = await claims.move({ id: agent._id, name: agent.name }, claimId, change);
      await this.deps.audit.record({ actor: agent._id, action: 'claim.move', detail: { claimId, to: change.to } });
      return answer;
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) return `无法处理案件 ${claimId}：${err.message}`;
      throw err;
    }
  }

  async accept(agent: AgentDoc, ref?: string): Promise<string> {
    const session = ref
      ? await HumanSession.findById(ref).lean<HumanSessionRecord>()
      : await HumanSession.findOne({ state: 'offered', offeredTo: agent._id }).sort({ offeredAt: 1 }).lean<HumanSessionRecord>();
    if (session?.state === 'active' && session.agentId === agent._id) return `#${session._id} 已由您接入。`;
    if (!session || session.state !== 'offered' || session.offeredTo !== agent._id) {
      return ref ? `#${ref} 不是推送给您的待接入会话（可能已超时转给其他客服）。` : '没有待接入的会话。';
    }
    const accepted = await HumanSession.updateOne(
      { _id: session._id, state: 'offered', offeredTo: agent._id },
      { $set: { state: 'active', agentId: agent._id, acceptedAt: this.now }, $unset: { offeredTo: 1, offeredAt: 1, offerExpiresAt: 1, targetAgentId: 1, targetTeam: 1 } },
    );
    if (accepted.modifiedCount !== 1) return `#${session._id} 已超时转给其他客服。`;
    await this.deps.conversations.assignAgent(session.conversationId, agent._id);
    await Agent.updateOne({ _id: agent._id }, { $set: { focusSessionId: session._id } });
    if (session.ticketId) await this.deps.tickets.markFirstResponse(session.ticketId);
    await this.deps.audit.record({ actor: agent._id, action: 'session.accept', sessionId: session._id, conversationId: session.conversationId });
    return `已接入 #${session._id}。直接回复文字即发送给客户；/end 结束，/transfer 转接，/ticket 登记工单。`;
  }

  /** The session an agent's command is about: the one named, their current one, or their only one. */
  private async sessionOf(agent: AgentDoc, ref?: string): Promise<AgentSessionLookup> {
    const mine = (s: HumanSessionRecord | null) => (s && s.state === 'active' && s.agentId === agent._id ? s : undefined);
    if (ref) return mine(await HumanSession.findById(ref).lean<HumanSessionRecord>());
    if (agent.focusSessionId) {
      const focused = mine(await HumanSession.findById(agent.focusSessionId).lean<HumanSessionRecord>());
      if (focused) return focused;
    }
    const active = await HumanSession.find({ state: 'active', agentId: agent._id }).lean<HumanSessionRecord[]>();
    if (active.length > 1) return 'ambiguous';
    return active[0];
  }

  private async noSession(agent: AgentDoc, lookup: AgentSessionLookup, ref?: string): Promise<string> {
    if (lookup === 'ambiguous') {
      const active = await HumanSession.find({ state: 'active', agentId: agent._id }).lean<HumanSessionRecord[]>();
      return `您有 ${active.length} 个会话：${active.map((s) => `#${s._id}`).join(' ')}，请在开头加 #编号 指明。`;
    }
    return ref ? `#${ref} 不是您进行中的会话。` : '您当前没有进行中的会话。';
  }

  async reply(agent: AgentDoc, text: string, ref?: string): Promise<string | undefined> {
    let lookup = await this.sessionOf(agent, ref);
    let prefix = '';
    if (!lookup) {
      // Answering a fresh offer accepts it: the agent need not type /accept first.
      const offered = ref
        ? await HumanSession.findOne({ _id: ref, state: 'offered', offeredTo: agent._id }).lean<HumanSessionRecord>()
        : await HumanSession.findOne({ state: 'offered', offeredTo: agent._id }).sort({ offeredAt: 1 }).lean<HumanSessionRecord>();
      if (offered) {
        prefix = `${await this.accept(agent, offered._id)}\n`;
        lookup = await this.sessionOf(agent, offered._id);
      }
    }
    if (!lookup || lookup === 'ambiguous') return this.noSession(agent, lookup, ref);
    const session = lookup;
    if (ref && agent.focusSessionId !== session._id) await Agent.updateOne({ _id: agent._id }, { $set: { focusSessionId: session._id } });

    const message: OutboundMessage = { kind: 'text', text };
    const outcome = await this.pushToCustomer(session, [message], agent._id);
    if (outcome.ok) {
      if (session.ticketId) await this.deps.tickets.markFirstResponse(session.ticketId);
      await this.deps.audit.record({ actor: agent._id, action: 'session.reply', sessionId: session._id, conversationId: session.conversationId, detail: { chars: [...text].length } });
      return prefix ? `${prefix}已发送。` : undefined;
    }
    if (outcome.reason === 'window_closed' || outcome.reason === 'quota_exhausted') {
      await HeldReply.create({ _id: new Types.ObjectId().toHexString(), sessionId: session._id, text, agentId: agent._id, at: this.now });
      const ticketId = session.ticketId ?? (await this.ticketFor(session, agent, 'window_closed'));
      await this.deps.audit.record({ actor: agent._id, action: 'session.reply_held', sessionId: session._id, ticketId, conversationId: session.conversationId, detail: { reason: outcome.reason } });
      const why = outcome.reason === 'window_closed' ? '客户已超过48小时未发言，公众号无法再主动发消息' : '本轮可发消息额度（客户每发言一次最多5条）已用完';
      return `${prefix}消息未送达：${why}。已暂存，客户再次发言时自动补发；已登记工单 ${ticketId} 以便跟进。`;
    }
    await this.deps.audit.record({ actor: agent._id, action: 'session.reply_failed', sessionId: session._id, conversationId: session.conversationId, detail: { reason: outcome.reason } });
    return `${prefix}消息未送达（${outcome.reason === 'user_unreachable' ? '客户已取消关注或无法联系' : '发送失败，请稍后重试'}）。`;
  }

  private async ticketFor(session: HumanSessionRecord, agent: AgentDoc, source: TicketSource, description?: string): Promise<string> {
    const ticket = await this.deps.tickets.open({
      conversationId: session.conversationId, source, openedBy: source === 'agent' ? agent._id : 'system', description,
      assigneeId: agent._id, team: agent.team ?? undefined, handoff: this.handoffFacts(session),
    });
    if (!session.ticketId) await HumanSession.updateOne({ _id: session._id, ticketId: { $exists: false } }, { $set: { ticketId: ticket._id } });
    return ticket._id;
  }

  async end(agent: AgentDoc, ref?: string): Promise<string> {
    const lookup = await this.sessionOf(agent, ref);
    if (!lookup || lookup === 'ambiguous') return this.noSession(agent, lookup, ref);
    const session = lookup;
    if (!(await this.endSession(session, 'agent'))) return `#${session._id} 已结束。`;
    let followUp = '';
    if (!session.ticketId && (await HeldReply.exists({ sessionId: session._id }))) {
      // Something the agent said never reached the customer: somebody must come back to it.
      followUp = `；有未送达的回复，已登记跟进工单 ${await this.ticketFor(session, agent, 'follow_up')}`;
    }
    await this.deps.conversations.returnToBot(session.conversationId, 'agent');
    await this.pushToCustomer(session, [{ kind: 'text', text: this.deps.replies.goodbyeAfterAgent }]);
    await this.deps.audit.record({ actor: agent._id, action: 'session.end', sessionId: session._id, conversationId: session.conversationId });
    await this.dispatch();
    return `会话 #${session._id} 已结束，已交回机器人${followUp}。`;
  }

  async transfer(agent: AgentDoc, targetText: string, ref?: string): Promise<string> {
    const lookup = await this.sessionOf(agent, ref);
    if (!lookup || lookup === 'ambiguous') return this.noSession(agent, lookup, ref);
    const session = lookup;
    const target = await this.deps.directory.resolveTarget(targetText);
    if (!target) return `找不到客服或小组「${targetText}」。`;
    const agents = await this.deps.directory.snapshot();
    let label: string;
    const set: Record<string, unknown> = { state: 'queued', transferredBy: agent._id, queuedAt: this.now };
    if (target.kind === 'agent') {
      if (target.agent._id === agent._id) return '不能转接给自己。';
      const routable = agents.find((a) => a.id === target.agent._id);
      if (!routable || routable.status !== 'on_duty') return `${target.agent.name} 当前${STATUS_LABELS[(target.agent.status ?? 'off') as AgentStatus]}，无法转接。`;
      if (routable.load >= routable.capacity) return `${target.agent.name} 已满负荷，无法转接。`;
      set.targetAgentId = target.agent._id;
      label = target.agent.name;
    } else {
      const free = agents.some((a) => a.team === target.teamId && a.id !== agent._id && a.status === 'on_duty' && a.load < a.capacity);
      if (!free) return `${target.teamName} 暂无空闲客服，无法转接。`;
      set.targetTeam = target.teamId;
      label = target.teamName;
    }
    const moved = await HumanSession.updateOne(
      { _id: session._id, state: 'active', agentId: agent._id },
      { $set: set, $unset: { agentId: 1, acceptedAt: 1, queueNoticeAt: 1 }, $push: { passedBy: agent._id } },
    );
    if (moved.modifiedCount !== 1) return `#${session._id} 状态已变化，请重试。`;
    await this.released(agent._id, session._id);
    await this.deps.audit.record({ actor: agent._id, action: 'session.transfer', sessionId: session._id, conversationId: session.conversationId, detail: { to: targetText } });
    await this.dispatch();
    return `#${session._id} 已转接给 ${label}，等待对方接入。`;
  }

  async openTicket(agent: AgentDoc, description: string, ref?: string): Promise<string> {
    const lookup = await this.sessionOf(agent, ref);
    if (!lookup || lookup === 'ambiguous') return `${await this.noSession(agent, lookup, ref)}（会话外的工单请在工单系统中创建）`;
    const ticketId = await this.ticketFor(lookup, agent, 'agent', description);
    const ticket = await this.deps.tickets.get(ticketId);
    await this.deps.audit.record({ actor: agent._id, action: 'ticket.open', sessionId: lookup._id, ticketId, conversationId: lookup.conversationId });
    return `已登记工单 ${ticketId}（${TICKET_PRIORITY_LABELS[ticket?.priority ?? 'normal']}优先级）：${ticket?.subject ?? description}`;
  }

  async setStatus(agent: AgentDoc, status: AgentStatus, actor: string = agent._id): Promise<string> {
    const previous = await this.deps.directory.setStatus(agent._id, status);
    await this.deps.audit.record({ actor, action: 'agent.status', detail: { agentId: agent._id, from: previous, to: status } });
    const handedBack = status === 'off' ? await this.handBack(agent._id) : [];
    await this.dispatch();
    if (handedBack.length) return `已设为「${STATUS_LABELS[status]}」。${handedBack.map((id) => `#${id}`).join(' ')} 已转回队列，由其他客服接待。`;
    const active = await HumanSession.countDocuments({ state: 'active', agentId: agent._id });
    const note = status !== 'on_duty' && active ? `（您还有 ${active} 个会话进行中，请处理完后结束）` : '';
    return `已设为「${STATUS_LABELS[status]}」${note}。`;
  }

  /**
   * An agent who is off reads no WeCom: their live sessions and offers go back to the queue for someone else (a live
   * one as if they had transferred it), instead of leaving the customer with nobody until they come back.
   */
  private async handBack(agentId: string): Promise<string[]> {
    const held = await HumanSession.find({ $or: [{ state: 'active', agentId }, { state: 'offered', offeredTo: agentId }] }).lean<HumanSessionRecord[]>();
    const handedBack: string[] = [];
    for (const session of held) {
      const requeued = session.state === 'active'
        ? await this.requeueLive(session._id, agentId)
        : await this.requeueOffer(session._id, agentId);
      if (requeued.modifiedCount !== 1) continue;
      await this.released(agentId, session._id);
      await this.deps.audit.record({ actor: 'system', action: 'session.handed_back', sessionId: session._id, conversationId: session.conversationId, detail: { agentId, was: session.state } });
      handedBack.push(session._id);
    }
    return handedBack;
  }

  /** An offer back to the queue, the agent it was offered to passed over next time, unless it changed meanwhile. */
  private requeueOffer(sessionId: string, agentId: string) {
    return HumanSession.updateOne(
      { _id: sessionId, state: 'offered', offeredTo: agentId },
      { $set: { state: 'queued' }, $unset: { offeredTo: 1, offeredAt: 1, offerExpiresAt: 1, targetAgentId: 1, targetTeam: 1 }, $push: { passedBy: agentId } },
    );
  }

  /** A live session back to the queue, passed on by its agent (the next agent's card says who), unless it changed hands. */
  private requeueLive(sessionId: string, agentId: string, unchanged: Partial<Pick<HumanSessionRecord, 'lastUserMessageAt'>> = {}) {
    return HumanSession.updateOne(
      { _id: sessionId, state: 'active', agentId, ...unchanged },
      { $set: { state: 'queued', transferredBy: agentId, queuedAt: this.now }, $unset: { agentId: 1, acceptedAt: 1, queueNoticeAt: 1, targetAgentId: 1, targetTeam: 1 }, $push: { passedBy: agentId } },
    );
  }

  /** Sessions still held by agents who are off (set off elsewhere, or dropped from agents.yaml): back to the queue. */
  private async handBackFromAgentsOff(): Promise<void> {
    const open = await HumanSession.find({ state: { $in: ['offered', 'active'] } }, { state: 1, offeredTo: 1, agentId: 1 })
      .lean<Array<Pick<HumanSessionRecord, '_id' | 'state' | 'offeredTo' | 'agentId'>>>();
    const holders = new Set(open.map((s) => (s.state === 'active' ? s.agentId : s.offeredTo)).filter((id): id is string => Boolean(id)));
    for (const agentId of holders) {
      const agent = await this.deps.directory.get(agentId);
      if (!agent || agent.status === 'off') {
        const handedBack = await this.handBack(agentId);
        if (handedBack.length && agent) await this.deps.messenger.text(agentId, `您已下班，${handedBack.map((id) => `#${id}`).join(' ')} 已转回队列，由其他客服接待。`);
      }
    }
  }

  /**
   * A customer whose latest message (or whose session, since it was accepted) has had no reply from its agent for
   * `session.unansweredMinutes`: the agent is most likely gone without 下班, so the session goes back to the queue for
   * another agent, and the silent one is set busy so nothing new is offered to them.
   */
  private async handOnUnanswered(): Promise<void> {
    const limitMs = this.deps.config.session.unansweredMinutes * 60_000;
    const active = await HumanSession.find({ state: 'active' }).lean<HumanSessionRecord[]>();
    for (const session of active) {
      const waitingSince = Math.max(new Date(session.acceptedAt ?? 0).getTime(), new Date(session.lastUserMessageAt ?? 0).getTime());
      const answered = session.lastAgentReplyAt && new Date(session.lastAgentReplyAt).getTime() >= waitingSince;
      if (answered || this.now.getTime() - waitingSince < limitMs) continue;
      const agentId = session.agentId!;
      // Not if the customer wrote meanwhile (another instance relayed it): judged again on the next sweep.
      const requeued = await this.requeueLive(session._id, agentId, session.lastUserMessageAt ? { lastUserMessageAt: session.lastUserMessageAt } : {});
      if (requeued.modifiedCount !== 1) continue;
      await this.released(agentId, session._id);
      await this.deps.audit.record({ actor: 'system', action: 'session.unanswered', sessionId: session._id, conversationId: session.conversationId, detail: { agentId } });
      const agent = await this.deps.directory.get(agentId);
      if (agent?.status === 'on_duty') await this.deps.directory.setStatus(agentId, 'busy');
      await this.deps.messenger.text(agentId, `#${session._id} 客户超过 ${this.deps.config.session.unansweredMinutes} 分钟未得到回复，已转回队列由其他客服接待；您已被设为「忙碌」，发送「空闲」恢复接单。`);
    }
  }

  private async statusReport(agent: AgentDoc): Promise<string> {
    const fresh = (await this.deps.directory.get(agent._id)) ?? agent;
    const sessions = await HumanSession.find({ $or: [{ state: 'active', agentId: agent._id }, { state: 'offered', offeredTo: agent._id }] }).lean<HumanSessionRecord[]>();
    const lines = [`状态：${STATUS_LABELS[(fresh.status ?? 'off') as AgentStatus]}；容量 ${sessions.length}/${fresh.capacity ?? 0}`];
    for (const s of sessions) lines.push(`#${s._id} ${s.state === 'active' ? '进行中' : '待接入'}${fresh.focusSessionId === s._id ? '（当前）' : ''} ${s.topic ?? ''}`);
    const queued = await HumanSession.countDocuments({ state: 'queued' });
    lines.push(`排队中：${queued}`);
    return lines.join('\n');
  }

  // ---- Timers: everything is a sweep over the database ----

  /** Lapsed offers go to the next agent; over-long waits become tickets; the queue is routed again. */
  async sweep(): Promise<DeskSweepReport> {
    const now = this.now;
    const report: DeskSweepReport = { lapsedOffers: [], queueTimeouts: [] };
    await this.reclaimSeats();
    // A claim outlives its reply only to beat a reader that listed the reply just before it was sent.
    await HeldReplyClaim.deleteMany({ at: { $lt: new Date(now.getTime() - HELD_REPLY_CLAIM_RETENTION_MS) } });
    await this.handBackFromAgentsOff();
    await this.handOnUnanswered();
    const lapsed = await HumanSession.find({ state: 'offered', offerExpiresAt: { $lte: now } }).lean<HumanSessionRecord[]>();
    for (const session of lapsed) {
      const agentId = session.offeredTo!;
      const requeued = await this.requeueOffer(session._id, agentId);
      if (requeued.modifiedCount !== 1) continue;
      report.lapsedOffers.push(session._id);
      await this.released(agentId, session._id);
      await this.deps.audit.record({ actor: 'system', action: 'offer.lapsed', sessionId: session._id, conversationId: session.conversationId, detail: { agentId } });
      let note = '';
      if (this.deps.config.offer.missedSetsBusy) {
        const agent = await this.deps.directory.get(agentId);
        if (agent?.status === 'on_duty') {
          await this.deps.directory.setStatus(agentId, 'busy');
          await this.deps.audit.record({ actor: 'system', action: 'agent.status', detail: { agentId, from: 'on_duty', to: 'busy', why: 'offer lapsed' } });
          note = '您已被设为「忙碌」，发送「空闲」恢复接单。';
        }
      }
      await this.deps.messenger.text(agentId, `会话 #${session._id} 超过 ${this.deps.config.offer.timeoutSeconds} 秒未接入，已转给其他客服。${note}`);
    }
    const cutoff = new Date(now.getTime() - this.deps.config.queue.maxWaitMinutes * 60_000);
    const waitedTooLong = await HumanSession.find({ state: 'queued', queuedAt: { $lte: cutoff } }).lean<HumanSessionRecord[]>();
    for (const session of waitedTooLong) {
      await this.closeWithTicket(session, 'queue_timeout');
      report.queueTimeouts.push(session._id);
    }
    await this.dispatch();
    return report;
  }

  /** Tells the managers in charge that a ticket missed its target. */
  async alertBreach(breach: SlaBreach): Promise<void> {
    const { ticket } = breach;
    const managers = managersFor(this.deps.config, ticket.team);
    const assignee = ticket.assigneeId ? (await this.deps.directory.get(ticket.assigneeId))?.name ?? ticket.assigneeId : '未分配';
    const late = Math.max(0, Math.round((breach.at.getTime() - breach.dueAt.getTime()) / 60_000));
    const text = [
      `【SLA超时】工单 ${ticket._id}（${TICKET_PRIORITY_LABELS[ticket.priority]}优先级）${breach.kind === 'first_response' ? '首次响应' : '解决'}已超时${late ? ` ${late} 分钟` : ''}`,
      `主题：${ticket.subject}`,
      `客户：${customerLabel(ticket.userId)}；处理人：${assignee}`,
      `状态：${TICKET_STATUS_LABELS[ticket.status]}`,
    ].join('\n');
    await this.deps.messenger.text(managers, text);
    await this.deps.audit.record({ actor: 'system', action: 'sla.alert', ticketId: ticket._id, conversationId: ticket.conversationId, detail: { kind: breach.kind, managers } });
  }

  /** Desk overview for the console: queue (in serving order), offers and live sessions. */
  async overview(): Promise<{ queued: HumanSessionRecord[]; offered: HumanSessionRecord[]; active: HumanSessionRecord[] }> {
    const open = await HumanSession.find({ state: { $in: ['queued', 'offered', 'active'] } }).lean<HumanSessionRecord[]>();
    return {
      queued: open.filter((s) => s.state === 'queued').sort(queueOrder),
      offered: open.filter((s) => s.state === 'offered'),
      active: open.filter((s) => s.state === 'active'),
    };
  }

  private async nextSessionNumber(): Promise<string> {
    const counter = await DeskCounter.findOneAndUpdate({ _id: 'session' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' }).lean();
    return String(1000 + (counter?.seq ?? 0));
  }
}

/** The dialogue as turns, oldest first: inbound messages with the bot's replies stored on them, and agents' messages. */
export function transcript(messages: MessageDoc[]): Array<{ who: 'user' | 'bot' | 'agent'; text: string }> {
  const turns: Array<{ who: 'user' | 'bot' | 'agent'; text: string }> = [];
  for (const message of messages) {
    if (message.direction === 'in') {
      if (message.text) turns.push({ who: 'user', text: message.text });
      for (const reply of (message.replies ?? []) as OutboundMessage[]) {
        const text = reply.kind === 'news' ? reply.title : reply.text;
        if (text) turns.push({ who: 'bot', text });
      }
    } else if (message.text) {
      turns.push({ who: message.author === 'agent' ? 'agent' : 'bot', text: message.text });
    }
  }
  return turns;
}

