import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { requireStaff } from '../agents/auth';
import type { AgentDirectory } from '../agents/directory';
import { CHANNELS, type ChannelName } from '../conversation/types';
import { badRequest, conflict, HttpError, notFound, unauthorized } from '../http/errors';
import { validate } from '../http/validation';
import { TicketError, type TicketService } from './service';
import { TICKET_PRIORITIES, TICKET_STATUSES } from './types';

/** Something the staff routes tell the audit log (who did what to which ticket). */
export type StaffTicketAction = (entry: { actor: string; action: string; ticketId: string; detail?: Record<string, unknown> }) => Promise<void>;

function toHttp(err: unknown): never {
  if (err instanceof TicketError) {
    if (err.code === 'not_found') throw notFound('ticket_not_found', err.message);
    if (err.code === 'conversation_not_found') throw notFound('conversation_not_found', err.message);
    if (err.code === 'invalid_transition') throw conflict('invalid_transition', err.message);
    if (err.code === 'ticket_closed') throw conflict('ticket_closed', err.message);
    if (err.code === 'manager_required') throw new HttpError(403, 'manager_required', err.message);
    throw conflict('ticket_conflict', err.message);
  }
  throw err;
}

const listOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(z.enum(values)).optional());

const listQuery = z.object({
  status: listOf(TICKET_STATUSES),
  priority: listOf(TICKET_PRIORITIES),
  /** `me` for the signed-in agent. */
  assignee: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  channel: z.enum(CHANNELS).optional(),
  q: z.string().trim().min(1).max(100).optional(),
  breached: z.enum(['true', 'false']).optional(),
  sort: z.enum(['newest', 'due']).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

const staffId = (ctx: Context) => ctx.state.staff!._id;

/** Who may be named on a ticket: the agents and teams of agents.yaml. */
export interface TicketStaffLookup {
  agentExists(id: string): Promise<boolean>;
  teamExists(id: string): Promise<boolean>;
}

/** The exact lookup: agents.yaml's teams as the directory holds them, its agents as synced into the database. */
export function staffLookupOf(directory: Pick<AgentDirectory, 'get' | 'teamName'>): TicketStaffLookup {
  return {
    agentExists: async (id) => Boolean(await directory.get(id)),
    teamExists: async (id) => directory.teamName(id) !== undefined,
  };
}

const unknownStaff = (field: 'assigneeId' | 'team', value: string) =>
  new HttpError(422, field === 'team' ? 'unknown_team' : 'unknown_assignee', `${field}: no ${field === 'team' ? 'team' : 'agent'} "${value}" in the agent directory`, { field });

/** Refuses a ticket naming an agent or team the desk does not have: nobody would ever work it. */
async function requireKnownStaff(staff: TicketStaffLookup, names: { assigneeId?: string; team?: string }): Promise<void> {
  if (names.assigneeId !== undefined && !(await staff.agentExists(names.assigneeId))) throw unknownStaff('assigneeId', names.assigneeId);
  if (names.team !== undefined && !(await staff.teamExists(names.team))) throw unknownStaff('team', names.team);
}

/**
 * Tickets for agents and managers: search and lists, open from a conversation, move, prioritise, note, reply.
 * `staff` says which assignees and teams exist (`staffLookupOf(directory)`).
 */
export function staffTicketRoutes(tickets: TicketService, staff: TicketStaffLookup, audit?: StaffTicketAction): Router {
  const router = new Router({ prefix: '/api/agent/tickets' });
  router.use(requireStaff('agent', 'manager'));
  const record = async (ctx: Context, action: string, ticketId: string, detail?: Record<string, unknown>) => {
    await audit?.({ actor: staffId(ctx), action, ticketId, detail });
  };

  router.get('/', async (ctx) => {
    const query = validate(listQuery, ctx.query, 'query');
    ctx.body = await tickets.list({
      status: query.status, priority: query.priority, team: query.team, channel: query.channel, q: query.q,
      assigneeId: query.assignee === 'me' ? staffId(ctx) : query.assignee,
      breached: query.breached === undefined ? undefined : query.breached === 'true',
      sort: query.sort, page: query.page, pageSize: query.pageSize,
    });
  });

  router.get('/:id', async (ctx) => {
    const ticket = await tickets.get(ctx.params.id);
    if (!ticket) throw notFound('ticket_not_found', `no ticket ${ctx.params.id}`);
    ctx.body = ticket;
  });

  router.post('/', async (ctx) => {
    const body = validate(
      z.object({
        conversationId: z.string().min(1),
        description: z.string().trim().min(1).max(2000),
        priority: z.enum(TICKET_PRIORITIES).optional(),
        assigneeId: z.string().min(1).optional(),
      }),
      ctx.request.body,
      'body',
    );
    await requireKnownStaff(staff, { assigneeId: body.assigneeId });
    const ticket = await tickets
      .open({ conversationId: body.conversationId, source: 'agent', openedBy: staffId(ctx), description: body.description, priority: body.priority, assigneeId: body.assigneeId ?? staffId(ctx), team: ctx.state.staff!.team ?? undefined })
      .catch(toHttp);
    await record(ctx, 'ticket.open', ticket._id, { source: 'api' });
    ctx.status = 201;
    ctx.body = ticket;
  });

  router.post('/:id/status', async (ctx) => {
    const body = validate(z.object({ to: z.enum(TICKET_STATUSES), note: z.string().max(1000).optional() }), ctx.request.body, 'body');
    const ticket = await tickets.transition(ctx.params.id, body.to, staffId(ctx), body.note).catch(toHttp);
    await record(ctx, 'ticket.status', ticket._id, { to: body.to });
    ctx.body = ticket;
  });

  router.patch('/:id', async (ctx) => {
    const body = validate(
      z.object({ priority: z.enum(TICKET_PRIORITIES).optional(), assigneeId: z.string().min(1).optional(), team: z.string().min(1).optional() }),
      ctx.request.body,
      'body',
    );
    await requireKnownStaff(staff, body);
    // Lowering a priority relaxes the SLA owed to the customer: a manager's call, whatever the team. Raising is anyone's.
    const mayLowerPriority = ctx.state.staff!.role === 'manager';
    const ticket = await tickets.update(ctx.params.id, body, staffId(ctx), { mayLowerPriority }).catch(toHttp);
    await record(ctx, 'ticket.update', ticket._id, body);
    ctx.body = ticket;
  });

  router.post('/:id/notes', async (ctx) => {
    const body = validate(z.object({ text: z.string().trim().min(1).max(2000) }), ctx.request.body, 'body');
    const ticket = await tickets.addNote(ctx.params.id, staffId(ctx), body.text).catch(toHttp);
    await record(ctx, 'ticket.note', ticket._id);
    ctx.body = ticket;
  });

  /** Writes to the customer: `delivered` is false when their channel refused (e.g. the 48 h window is closed). */
  router.post('/:id/replies', async (ctx) => {
    const body = validate(z.object({ text: z.string().trim().min(1).max(600) }), ctx.request.body, 'body');
    const { ticket, outcome } = await tickets.replyToUser(ctx.params.id, staffId(ctx), body.text).catch(toHttp);
    await record(ctx, 'ticket.reply', ticket._id, { delivered: outcome.ok });
    ctx.body = { ticket, delivered: outcome.ok, ...(outcome.ok ? {} : { reason: outcome.reason }) };
  });

  return router;
}

/** Who the caller is, as the mini-program session (or any other customer auth) established it. */
export type CustomerResolver = (ctx: Context) => { channel: ChannelName; userId: string } | undefined;

export interface CustomerTicketRoutesOptions {
  tickets: TicketService;
  /** The customer session middleware (mini-program login); runs before the resolver. */
  auth: Middleware;
  resolveCustomer: CustomerResolver;
  prefix?: string;
}

/** 「我的工单」: a customer lists and opens their own tickets, never anyone else's. */
export function customerTicketRoutes({ tickets, auth, resolveCustomer, prefix = '/api/me/tickets' }: CustomerTicketRoutesOptions): Router {
  const router = new Router({ prefix });
  router.use(auth);
  const customer = (ctx: Context) => {
    const who = resolveCustomer(ctx);
    if (!who) throw unauthorized('a customer session is required');
    return who;
  };

  router.get('/', async (ctx) => {
    const { channel, userId } = customer(ctx);
    ctx.body = { items: await tickets.ticketsForUser(channel, userId) };
  });

  router.get('/:id', async (ctx) => {
    const { channel, userId } = customer(ctx);
    if (!/^T\d{1,12}$/.test(ctx.params.id)) throw badRequest('invalid_ticket_number', 'ticket numbers look like T000123');
    const ticket = await tickets.ticketForUser(channel, userId, ctx.params.id);
    if (!ticket) throw new HttpError(404, 'ticket_not_found', 'no such ticket');
    ctx.body = ticket;
  });

  return router;
}
