import type { ConversationService } from '../conversation/service';
import type { PushOutcome, UserDelivery } from '../conversation/delivery';
import type { ChannelName } from '../conversation/types';
import type { EventBus } from '../events/bus';
import { Ticket, TicketCounter } from './models';
import { prefillFromConversation } from './prefill';
import { ServiceHours } from './service-hours';
import {
  TICKET_PRIORITIES,
  TICKET_STATUS_LABELS,
  TICKET_TRANSITIONS,
  type CustomerTicketView,
  type HandoffFacts,
  type SlaKind,
  type SlaTargets,
  type TicketPriority,
  type TicketRecord,
  type TicketSource,
  type TicketStatus,
} from './types';
import { isDuplicateKey } from '../db/duplicate-key';

export type TicketErrorCode = 'not_found' | 'invalid_transition' | 'conflict' | 'conversation_not_found' | 'ticket_closed' | 'manager_required';

/** A ticket operation that cannot be done as asked; routes turn the code into an HTTP status. */
export class TicketError extends Error {
  constructor(readonly code: TicketErrorCode, message: string) {
    super(message);
    this.name = 'TicketError';
  }
}

export interface OpenTicketInput {
  conversationId: string;
  source: TicketSource;
  /** 'system' or the agent's WeCom userid. */
  openedBy: string;
  description?: string;
  priority?: TicketPriority;
  assigneeId?: string;
  team?: string;
  handoff?: HandoffFacts;
}

export interface TicketFilter {
  status?: TicketStatus[];
  priority?: TicketPriority[];
  assigneeId?: string;
  team?: string;
  channel?: ChannelName;
  /** Free text over number, subject, summary, description and user id. */
  q?: string;
  /** Only tickets that missed a target. */
  breached?: boolean;
  sort?: 'newest' | 'due';
  page?: number;
  pageSize?: number;
}

export interface SlaBreach {
  ticket: TicketRecord;
  kind: SlaKind;
  dueAt: Date;
  at: Date;
}

export interface TicketServiceDeps {
  conversations: Pick<ConversationService, 'get' | 'recentMessages'>;
  events: EventBus;
  slaTargets: SlaTargets;
  /** When the desk is staffed: SLA clocks on the `service` clock count only these hours (default: around the clock). */
  serviceHours?: ServiceHours;
  now?: () => Date;
  /** Reaches the customer for replies written on a ticket. */
  delivery?: Pick<UserDelivery, 'push'>;
  /** Tells the people in charge about a breach (the agent desk sends it to managers in WeCom). Called once per breach. */
  onBreach?: (breach: SlaBreach) => Promise<void>;
}

const OPEN_STATUSES: TicketStatus[] = ['open', 'in_progress', 'waiting_for_user'];
const MINUTE = 60_000;
const NUMBER_ATTEMPTS = 5;

/** Escapes a user's search text for a RE2-compatible regex (no look-around, no back-references needed). */
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `closed` is final (types.ts): nothing changes a closed ticket or writes to its customer any more. */
function refuseIfClosed(ticket: Pick<TicketRecord, '_id' | 'status'>): void {
  if (ticket.status === 'closed') throw new TicketError('ticket_closed', `ticket ${ticket._id} is closed: it can no longer be changed, moved or replied on (internal notes only)`);
}

/** True when `to` is a lower priority than `from` (TICKET_PRIORITIES runs from most to least urgent). */
const isLowerPriority = (from: TicketPriority, to: TicketPriority) => TICKET_PRIORITIES.indexOf(to) > TICKET_PRIORITIES.indexOf(from);

/**
 * Tickets: opened from a conversation (prefilled) by the system or an agent, moved through their statuses with
 * SLA clocks per priority, searched by staff, and shown to their customer. Every state change is a conditional
 * update on the status read, so two agents acting at once cannot both win.
 */
export class TicketService {
  private readonly now: () => Date;
  private readonly serviceHours: ServiceHours;

  constructor(private readonly deps: TicketServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.serviceHours = deps.serviceHours ?? ServiceHours.always();
  }

  /** The clock a priority's targets count on. */
  private clockFor(priority: TicketPriority): ServiceHours {
    return this.deps.slaTargets[priority].clock === 'calendar' ? ServiceHours.always() : this.serviceHours;
  }

  /** Both SLA due dates of a priority, counted from `from`. */
  private dueDates(priority: TicketPriority, from: Date): { firstResponseDueAt: Date; resolutionDueAt: Date } {
    const target = this.deps.slaTargets[priority];
    const clock = this.clockFor(priority);
    return {
      firstResponseDueAt: clock.add(from, target.firstResponseMinutes * MINUTE),
      resolutionDueAt: clock.add(from, target.resolutionMinutes * MINUTE),
    };
  }

  async open(input: OpenTicketInput): Promise<TicketRecord> {
    const conversation = await this.deps.conversations.get(input.conversationId);
    if (!conversation) throw new TicketError('conversation_not_found', `no conversation ${input.conversationId}`);
    const messages = await this.deps.conversations.recentMessages(input.conversationId, 30);
    const prefill = prefillFromConversation({ conversation, messages, handoff: input.handoff });
    const now = this.now();
    const priority = input.priority ?? prefill.priority;
    const base: Omit<TicketRecord, '_id' | 'createdAt' | 'updatedAt'> = {
      channel: conversation.channel as ChannelName,
      userId: conversation.userId,
      conversationId: input.conversationId,
      sessionId: input.handoff?.sessionId,
      source: input.source,
      openedBy: input.openedBy,
      status: 'open',
      priority,
      subject: prefill.subject,
      description: input.description,
      summary: prefill.summary,
      intent: prefill.intent,
      entities: prefill.entities,
      emotion: prefill.emotion,
      handoffReasons: prefill.handoffReasons,
      vip: prefill.vip,
      team: input.team,
      assigneeId: input.assigneeId,
      sla: this.dueDates(priority, now),
      history: [{ at: now, by: input.openedBy, action: 'opened', to: 'open', note: input.source }],
      notes: [],
      openedAt: now,
    };
    const ticket = await this.insertNumbered(base);
    this.deps.events.publish('ticket.opened', {
      ticketId: ticket._id, conversationId: ticket.conversationId, channel: ticket.channel, userId: ticket.userId,
      source: ticket.source, priority: ticket.priority, openedBy: ticket.openedBy, at: now,
    });
    return ticket;
  }

  async get(id: string): Promise<TicketRecord | null> {
    return Ticket.findById(id).lean<TicketRecord>();
  }

  async list(filter: TicketFilter): Promise<{ total: number; page: number; pageSize: number; items: TicketRecord[] }> {
    const page = filter.page ?? 1;
    const pageSize = filter.pageSize ?? 20;
    const and: Record<string, unknown>[] = [];
    if (filter.status?.length) and.push({ status: { $in: filter.status } });
    if (filter.priority?.length) and.push({ priority: { $in: filter.priority } });
    if (filter.assigneeId) and.push({ assigneeId: filter.assigneeId });
    if (filter.team) and.push({ team: filter.team });
    if (filter.channel) and.push({ channel: filter.channel });
    if (filter.q) {
      const pattern = { $regex: escapeRegex(filter.q.trim()), $options: 'i' };
      and.push({ $or: [{ _id: pattern }, { subject: pattern }, { summary: pattern }, { description: pattern }, { userId: pattern }] });
    }
    if (filter.breached) {
      and.push({ $or: [{ 'sla.firstResponseBreachedAt': { $exists: true } }, { 'sla.resolutionBreachedAt': { $exists: true } }] });
    }
    const query = and.length ? { $and: and } : {};
    const sort: Record<string, 1 | -1> = filter.sort === 'due' ? { 'sla.resolutionDueAt': 1, _id: 1 } : { createdAt: -1, _id: -1 };
    const [total, items] = await Promise.all([
      Ticket.countDocuments(query),
      Ticket.find(query).sort(sort).skip((page - 1) * pageSize).limit(pageSize).lean<TicketRecord[]>(),
    ]);
    return { total, page, pageSize, items };
  }

  /** Moves a ticket to its next status; stops or restarts the SLA clocks that depend on it. */
  async transition(id: string, to: TicketStatus, by: string, note?: string): Promise<TicketRecord> {
    const ticket = await this.require(id);
    const from = ticket.status;
    refuseIfClosed(ticket);
    if (!TICKET_TRANSITIONS[from].includes(to)) {
      throw new TicketError('invalid_transition', `a ticket cannot go from ${from} to ${to}`);
    }
    const now = this.now();
    const set: Record<string, unknown> = { status: to };
    const unset: Record<string, 1> = {};
    if (!ticket.sla.firstRespondedAt && by !== 'system') set['sla.firstRespondedAt'] = now;
    if (to === 'waiting_for_user') set['sla.pausedAt'] = now;
    if (from === 'waiting_for_user' && ticket.sla.pausedAt) {
      // The customer's time does not count against us: push the resolution target out by the (counted) pause.
      const clock = this.clockFor(ticket.priority);
      const paused = clock.between(new Date(ticket.sla.pausedAt), now);
      if (paused > 0) set['sla.resolutionDueAt'] = clock.add(new Date(ticket.sla.resolutionDueAt), paused);
      unset['sla.pausedAt'] = 1;
    }
    if (to === 'resolved') set['sla.resolvedAt'] = now;
    if (from === 'resolved' && to === 'in_progress') unset['sla.resolvedAt'] = 1;
    if (to === 'closed') set.closedAt = now;
    if (to === 'in_progress' && !ticket.assigneeId && by !== 'system') set.assigneeId = by;
    const result = await Ticket.updateOne(
      { _id: id, status: from },
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}), $push: { history: { at: now, by, action: 'status', from, to, note } } },
    );
    if (result.modifiedCount !== 1) {
      refuseIfClosed(await this.require(id));
      throw new TicketError('conflict', `ticket ${id} changed meanwhile; reload and retry`);
    }
    this.deps.events.publish('ticket.status_changed', { ticketId: id, from, to, by, at: now });
    return this.require(id);
  }

  /**
   * Changes priority, assignee or team. Lowering the priority relaxes the SLA the customer is owed, so the caller
   * must say the actor may do that (`mayLowerPriority`: managers, decided by the staff routes).
   */
  async update(
    id: string,
    changes: { priority?: TicketPriority; assigneeId?: string; team?: string },
    by: string,
    options: { mayLowerPriority?: boolean } = {},
  ): Promise<TicketRecord> {
    const ticket = await this.require(id);
    refuseIfClosed(ticket);
    const set: Record<string, unknown> = {};
    const notes: string[] = [];
    if (changes.priority && changes.priority !== ticket.priority) {
      if (isLowerPriority(ticket.priority, changes.priority) && !options.mayLowerPriority) {
        throw new TicketError('manager_required', `only a manager may lower ticket ${id}'s priority from ${ticket.priority} to ${changes.priority}`);
      }
      // A new priority means new targets, counted from when the ticket was opened.
      const due = this.dueDates(changes.priority, new Date(ticket.openedAt));
      set.priority = changes.priority;
      set['sla.firstResponseDueAt'] = due.firstResponseDueAt;
      set['sla.resolutionDueAt'] = due.resolutionDueAt;
      notes.push(`priority ${ticket.priority} → ${changes.priority}`);
    }
    if (changes.assigneeId !== undefined && changes.assigneeId !== ticket.assigneeId) {
      set.assigneeId = changes.assigneeId;
      notes.push(`assignee ${ticket.assigneeId ?? '-'} → ${changes.assigneeId}`);
    }
    if (changes.team !== undefined && changes.team !== ticket.team) {
      set.team = changes.team;
      notes.push(`team ${ticket.team ?? '-'} → ${changes.team}`);
    }
    if (!notes.length) return ticket;
    // Conditional: a close or another priority change in between must not be overwritten.
    const result = await Ticket.updateOne(
      { _id: id, status: { $ne: 'closed' }, priority: ticket.priority },
      { $set: set, $push: { history: { at: this.now(), by, action: 'update', note: notes.join('; ') } } },
    );
    if (result.modifiedCount !== 1) {
      refuseIfClosed(await this.require(id));
      throw new TicketError('conflict', `ticket ${id} changed meanwhile; reload and retry`);
    }
    return this.require(id);
  }

  /**
   * An internal note, also on a closed ticket: it changes nothing the customer sees or the SLA counts, and a manager
   * reviewing a case (a complaint, a QA finding) needs to record it on the ticket after closing.
   */
  async addNote(id: string, by: string, text: string): Promise<TicketRecord> {
    await this.require(id);
    await Ticket.updateOne({ _id: id }, { $push: { notes: { at: this.now(), by, text, toUser: false } } });
    return this.require(id);
  }

  /**
   * Writes to the customer about the ticket: pushed through their channel when it allows, and always visible in
   * 「我的工单」. Counts as the first response.
   */
  async replyToUser(id: string, by: string, text: string): Promise<{ ticket: TicketRecord; outcome: PushOutcome }> {
    const ticket = await this.require(id);
    refuseIfClosed(ticket);
    const outcome: PushOutcome = this.deps.delivery
      ? await this.deps.delivery.push(ticket.channel, ticket.userId, [{ kind: 'text', text: `【工单 ${ticket._id}】${text}` }], { author: 'agent', agentId: by })
      : { ok: false, reason: 'user_unreachable', detail: 'no delivery configured' };
    const now = this.now();
    const set: Record<string, unknown> = {};
    if (!ticket.sla.firstRespondedAt) set['sla.firstRespondedAt'] = now;
    // Not conditional on the status: the push has happened, so the ticket records it even if closed meanwhile.
    await Ticket.updateOne(
      { _id: id },
      { ...(Object.keys(set).length ? { $set: set } : {}), $push: { notes: { at: now, by, text, toUser: true, delivered: outcome.ok } } },
    );
    return { ticket: await this.require(id), outcome };
  }

  /** The first response happened outside the ticket (e.g. in the live session): stops that clock. */
  async markFirstResponse(id: string): Promise<void> {
    await Ticket.updateOne({ _id: id, 'sla.firstRespondedAt': { $exists: false } }, { $set: { 'sla.firstRespondedAt': this.now() } });
  }

  /** A customer's own tickets, newest first. Nothing internal (notes, assignee, summary) is in the view. */
  async ticketsForUser(channel: ChannelName, userId: string): Promise<CustomerTicketView[]> {
    const tickets = await Ticket.find({ channel, userId }).sort({ createdAt: -1 }).limit(50).lean<TicketRecord[]>();
    return tickets.map(customerView);
  }

  /** One ticket, only if it belongs to this customer (another customer's number looks exactly like a missing one). */
  async ticketForUser(channel: ChannelName, userId: string, id: string): Promise<CustomerTicketView | undefined> {
    const ticket = await Ticket.findById(id).lean<TicketRecord>();
    if (!ticket || ticket.channel !== channel || ticket.userId !== userId) return undefined;
    return customerView(ticket);
  }

  /**
   * Finds tickets past a target and reports each breach exactly once: the mark is set with a conditional update,
   * and only the instance whose update landed alerts.
   */
  async sweepSla(): Promise<SlaBreach[]> {
    const now = this.now();
    const breaches: SlaBreach[] = [];
    const checks: Array<{ kind: SlaKind; filter: Record<string, unknown>; dueField: 'firstResponseDueAt' | 'resolutionDueAt'; markField: string }> = [
      {
        kind: 'first_response',
        filter: { status: { $in: OPEN_STATUSES }, 'sla.firstRespondedAt': { $exists: false }, 'sla.firstResponseDueAt': { $lte: now }, 'sla.firstResponseBreachedAt': { $exists: false } },
        dueField: 'firstResponseDueAt',
        markField: 'sla.firstResponseBreachedAt',
      },
      {
        // waiting_for_user is left out: that clock is paused.
        kind: 'resolution',
        filter: { status: { $in: ['open', 'in_progress'] }, 'sla.resolutionDueAt': { $lte: now }, 'sla.resolutionBreachedAt': { $exists: false } },
        dueField: 'resolutionDueAt',
        markField: 'sla.resolutionBreachedAt',
      },
    ];
    for (const check of checks) {
      const due = await Ticket.find(check.filter).limit(200).lean<TicketRecord[]>();
      for (const ticket of due) {
        const marked = await Ticket.updateOne(
          { _id: ticket._id, [check.markField]: { $exists: false } },
          { $set: { [check.markField]: now }, $push: { history: { at: now, by: 'system', action: 'sla_breached', note: check.kind } } },
        );
        if (marked.modifiedCount !== 1) continue;
        const breach: SlaBreach = { ticket, kind: check.kind, dueAt: new Date(ticket.sla[check.dueField]), at: now };
        breaches.push(breach);
        this.deps.events.publish('sla.breached', {
          ticketId: ticket._id, kind: check.kind, priority: ticket.priority, dueAt: breach.dueAt, team: ticket.team, at: now,
        });
        await this.deps.onBreach?.(breach);
      }
    }
    return breaches;
  }

  private async require(id: string): Promise<TicketRecord> {
    const ticket = await Ticket.findById(id).lean<TicketRecord>();
    if (!ticket) throw new TicketError('not_found', `no ticket ${id}`);
    return ticket;
  }

  /** Next number from the counter; the `_id` insert is the guard, so a number handed out twice is simply skipped. */
  private async insertNumbered(base: Omit<TicketRecord, '_id' | 'createdAt' | 'updatedAt'>): Promise<TicketRecord> {
    for (let attempt = 1; ; attempt += 1) {
      const counter = await TicketCounter.findOneAndUpdate({ _id: 'ticket' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' }).lean();
      const id = `T${String(counter?.seq ?? Date.now()).padStart(6, '0')}`;
      try {
        const created = await Ticket.create({ _id: id, ...base });
        return created.toObject() as TicketRecord;
      } catch (err) {
        if (!isDuplicateKey(err) || attempt >= NUMBER_ATTEMPTS) throw err;
      }
    }
  }
}

function customerView(ticket: TicketRecord): CustomerTicketView {
  return {
    number: ticket._id,
    subject: ticket.subject,
    status: ticket.status,
    statusLabel: TICKET_STATUS_LABELS[ticket.status],
    createdAt: ticket.createdAt,
    updatedAt: ticket.updatedAt,
    ...(ticket.sla.resolvedAt ? { resolvedAt: ticket.sla.resolvedAt } : {}),
    replies: (ticket.notes ?? []).filter((n) => n.toUser).map((n) => ({ at: n.at, text: n.text })),
  };
}
