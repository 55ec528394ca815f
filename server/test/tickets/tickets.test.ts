import pino from 'pino';
import type { Context, Next } from 'koa';
import { createApp } from '../../src/app';
import { issueStaffToken } from '../../src/agents/auth';
import { AgentAction } from '../../src/agents/models';
import type { ChannelName } from '../../src/conversation/types';
import type { DomainEvents } from '../../src/events/types';
import { Ticket } from '../../src/tickets/models';
import { staffLookupOf } from '../../src/tickets/routes';
import { TicketError } from '../../src/tickets/service';
import type { TicketRecord } from '../../src/tickets/types';
import { startDeskHarness, TEST_DESK_CONFIG, type DeskHarness } from '../agents/desk-harness';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';

useTestDatabase(__filename);

const MINUTE = 60_000;
let h: DeskHarness;
beforeAll(async () => { h = await startDeskHarness(); });
afterAll(() => h.stop());
beforeEach(() => h.reset());
afterEach(() => expect(h.listenerErrors).toEqual([]));

/** With nobody on duty, a handoff becomes a ticket: the quickest way to a prefilled one. */
async function ticketFromHandoff(userId: string, text: string): Promise<TicketRecord> {
  await h.customerSays(userId, text);
  const session = await h.session(userId);
  return (await Ticket.findById(session!.ticketId).lean<TicketRecord>())!;
}

describe('tickets', () => {
  it('are prefilled from the conversation: intent, summary, entities (masked for display), emotion, channel, priority', async () => {
    await h.customerSays('u-prefill', '你好');
    const ticket = await ticketFromHandoff('u-prefill', '我要投诉，保单P2024110012345678的理赔5万拖了一个月');
    expect(ticket).toMatchObject({
      channel: 'official-account',
      userId: 'u-prefill',
      conversationId: 'official-account:u-prefill',
      source: 'no_agent',
      status: 'open',
      priority: 'high',
      subject: '【投诉】理赔到账慢',
      intent: { scenarioId: 'claim-progress', intentId: 'claim-progress/delay', subIntentId: 'claim-progress/delay/too-slow', name: '理赔到账慢' },
      emotion: { label: 'anger', intensity: 0.85, polarity: 'negative' },
      handoffReasons: ['complaint', 'negative_emotion'],
      vip: false,
      team: 'claims',
    });
    expect(ticket.entities).toEqual([
      { type: 'policy_number', value: 'P2024110012345678', display: 'P2***********5678' },
      { type: 'amount', value: '50000', display: '50000' },
    ]);
    expect(ticket.summary).toContain('诉求：理赔到账慢。');
    expect(ticket.summary).toContain('「你好」');
    expect(ticket.summary).toContain('保单P2***********5678的理赔5万');
    expect(ticket.summary).not.toContain('P2024110012345678');
    // High priority: 30 minutes to first response, 24 hours to resolution.
    expect(new Date(ticket.sla.firstResponseDueAt).getTime() - new Date(ticket.openedAt).getTime()).toBe(30 * MINUTE);
    expect(new Date(ticket.sla.resolutionDueAt).getTime() - h.clock.now.getTime()).toBe(24 * 60 * MINUTE);
  });

  it('move open → in progress → waiting for the customer → resolved → closed, pausing the resolution clock while waiting', async () => {
    const ticket = await ticketFromHandoff('u-life', '理赔 转人工');
    const tickets = h.desk.tickets;
    const started = await tickets.transition(ticket._id, 'in_progress', 'zhangsan');
    expect(started).toMatchObject({ status: 'in_progress', assigneeId: 'zhangsan' });
    expect(started.sla.firstRespondedAt).toEqual(h.clock.now);

    await tickets.transition(ticket._id, 'waiting_for_user', 'zhangsan', '请客户补充银行卡信息');
    h.advance(120 * MINUTE);
    const resumed = await tickets.transition(ticket._id, 'in_progress', 'zhangsan');
    expect(new Date(resumed.sla.resolutionDueAt).getTime()).toBe(new Date(ticket.sla.resolutionDueAt).getTime() + 120 * MINUTE);
    expect(resumed.sla.pausedAt).toBeUndefined();

    await tickets.transition(ticket._id, 'resolved', 'zhangsan');
    const closed = await tickets.transition(ticket._id, 'closed', 'zhangsan');
    expect(closed.history.map((e) => e.to)).toEqual(['open', 'in_progress', 'waiting_for_user', 'in_progress', 'resolved', 'closed']);
    await expect(tickets.transition(ticket._id, 'in_progress', 'zhangsan')).rejects.toMatchObject({ code: 'ticket_closed' });
    await expect(tickets.transition('T999999', 'in_progress', 'zhangsan')).rejects.toBeInstanceOf(TicketError);
  });

  it('alert the managers in WeCom once when a target is missed (fake clock)', async () => {
    const breaches: Array<DomainEvents['sla.breached']> = [];
    h.events.on('sla.breached', (event) => { breaches.push(event); });
    const ticket = await ticketFromHandoff('u-sla', '我要投诉，理赔太慢'); // high: 30 min first response

    h.advance(29 * MINUTE);
    expect((await h.desk.sweep()).slaBreaches).toEqual([]);
    expect(h.toAgent('zhaojl')).toEqual([]);

    h.advance(2 * MINUTE);
    const report = await h.desk.sweep();
    expect(report.slaBreaches.map((b) => [b.ticket._id, b.kind])).toEqual([[ticket._id, 'first_response']]);
    const alerts = h.textsTo('zhaojl');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain(`【SLA超时】工单 ${ticket._id}（高优先级）首次响应已超时 1 分钟`);
    expect(alerts[0]).toContain('主题：【投诉】理赔到账慢');

    // Once only, however often the sweep runs.
    h.advance(5 * MINUTE);
    expect((await h.desk.sweep()).slaBreaches).toEqual([]);
    expect(h.textsTo('zhaojl')).toHaveLength(1);

    // The resolution target is its own alert, also once.
    h.advance(24 * 60 * MINUTE);
    expect((await h.desk.sweep()).slaBreaches.map((b) => b.kind)).toEqual(['resolution']);
    await h.desk.sweep();
    expect(h.textsTo('zhaojl')).toHaveLength(2);
    await h.events.settled();
    expect(breaches.map((b) => b.kind)).toEqual(['first_response', 'resolution']);
    expect(await AgentAction.countDocuments({ action: 'sla.alert', ticketId: ticket._id })).toBe(2);
  });

  it('never show a customer another customer’s tickets', async () => {
    const mine = [await ticketFromHandoff('u-owner', '理赔 转人工')];
    mine.unshift(await ticketFromHandoff('u-owner', '想改手机号，转人工'));
    const theirs = await ticketFromHandoff('u-other', '理赔 转人工');

    const own = await h.desk.ticketsForUser('official-account', 'u-owner');
    expect(own.map((t) => t.number).sort()).toEqual(mine.map((t) => t._id).sort());
    expect(own.some((t) => t.number === theirs._id)).toBe(false);
    expect(await h.desk.tickets.ticketForUser('official-account', 'u-owner', theirs._id)).toBeUndefined();
    expect(await h.desk.ticketsForUser('miniprogram', 'u-owner')).toEqual([]);

    // The same through the customer API, behind a stand-in for the mini-program session.
    const auth = async (ctx: Context, next: Next) => {
      const user = ctx.get('x-test-customer');
      if (user) (ctx.state as { customer?: { channel: ChannelName; userId: string } }).customer = { channel: 'official-account', userId: user };
      await next();
    };
    const router = h.desk.customerTicketRoutes(auth, (ctx) => (ctx.state as { customer?: { channel: ChannelName; userId: string } }).customer);
    const http = await serve(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1024, routers: [router] }));
    try {
      const list = await fetch(`${http.baseUrl}/api/me/tickets`, { headers: { 'x-test-customer': 'u-owner' } });
      const body = (await list.json()) as { items: Array<Record<string, unknown>> };
      expect(body.items.map((t) => t.number).sort()).toEqual(mine.map((t) => t._id).sort());
      expect(body.items[0]).toEqual({
        number: expect.any(String), subject: expect.any(String), status: 'open', statusLabel: '已受理',
        createdAt: expect.any(String), updatedAt: expect.any(String), replies: [],
      });
      const other = await fetch(`${http.baseUrl}/api/me/tickets/${theirs._id}`, { headers: { 'x-test-customer': 'u-owner' } });
      expect(other.status).toBe(404);
      const own = await fetch(`${http.baseUrl}/api/me/tickets/${mine[0]._id}`, { headers: { 'x-test-customer': 'u-owner' } });
      expect(own.status).toBe(200);
      expect((await fetch(`${http.baseUrl}/api/me/tickets`)).status).toBe(401);
    } finally {
      await http.close();
    }
  });

  it('are searched, moved and answered by staff through the API, with an audit trail', async () => {
    const claim = await ticketFromHandoff('u-staff', '我要投诉，理赔太慢');
    await ticketFromHandoff('u-staff-2', '想改手机号，转人工');
    const token = await issueStaffToken('zhangsan');
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${h.baseUrl}/api/agent/tickets${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

    expect((await fetch(`${h.baseUrl}/api/agent/tickets`)).status).toBe(401);
    const found = (await (await api('?q=理赔')).json()) as { total: number; items: TicketRecord[] };
    expect(found.items.map((t) => t._id)).toEqual([claim._id]);
    const high = (await (await api('?priority=high,urgent&status=open')).json()) as { total: number };
    expect(high.total).toBe(1);

    const moved = await api(`/${claim._id}/status`, { method: 'POST', body: JSON.stringify({ to: 'in_progress' }) });
    expect(moved.status).toBe(200);
    const mine = (await (await api('?assignee=me')).json()) as { items: TicketRecord[] };
    expect(mine.items.map((t) => t._id)).toEqual([claim._id]);
    expect((await api(`/${claim._id}/status`, { method: 'POST', body: JSON.stringify({ to: 'open' }) })).status).toBe(409);

    const reply = await api(`/${claim._id}/replies`, { method: 'POST', body: JSON.stringify({ text: '理赔款已于今日到账，请查收。' }) });
    expect(await reply.json()).toMatchObject({ delivered: true });
    expect(h.toCustomer('u-staff').at(-1)).toBe(`【工单 ${claim._id}】理赔款已于今日到账，请查收。`);
    const view = await h.desk.tickets.ticketForUser('official-account', 'u-staff', claim._id);
    expect(view?.replies.map((r) => r.text)).toEqual(['理赔款已于今日到账，请查收。']);

    const raised = (await (await api(`/${claim._id}`, { method: 'PATCH', body: JSON.stringify({ priority: 'urgent' }) })).json()) as TicketRecord;
    expect(new Date(raised.sla.firstResponseDueAt).getTime() - new Date(raised.openedAt).getTime()).toBe(15 * MINUTE);

    const trail = await AgentAction.find({ actor: 'zhangsan', ticketId: claim._id }).lean();
    expect(trail.map((a) => a.action).sort()).toEqual(['ticket.reply', 'ticket.status', 'ticket.update']);
  });
});

/** The staff ticket API as one signed-in agent or manager sees it. */
async function staffApi(agentId: string) {
  const token = await issueStaffToken(agentId);
  return async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${h.baseUrl}/api/agent/tickets${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
}
const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body) });

describe('closed tickets', () => {
  it('refuse changes, replies and status changes with ticket_closed, but still take internal notes', async () => {
    const ticket = await ticketFromHandoff('u-closed', '我要投诉，理赔太慢');
    const api = await staffApi('zhangsan');
    expect((await api(`/${ticket._id}/status`, json('POST', { to: 'resolved' }))).status).toBe(200);
    expect((await api(`/${ticket._id}/status`, json('POST', { to: 'closed' }))).status).toBe(200);
    const closed = (await Ticket.findById(ticket._id).lean<TicketRecord>())!;
    const sentBefore = h.toCustomer('u-closed').length;

    for (const [path, init] of [
      [`/${ticket._id}`, json('PATCH', { priority: 'urgent' })],
      [`/${ticket._id}/replies`, json('POST', { text: '您的工单已处理完毕。' })],
      [`/${ticket._id}/status`, json('POST', { to: 'in_progress' })],
    ] as const) {
      const res = await api(path, init);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'ticket_closed', message: expect.stringContaining(ticket._id) });
    }
    const after = (await Ticket.findById(ticket._id).lean<TicketRecord>())!;
    expect(after.priority).toBe(closed.priority);
    expect(after.sla).toEqual(closed.sla);
    expect(after.status).toBe('closed');
    expect(after.notes.filter((n) => n.toUser)).toEqual([]);
    expect(h.toCustomer('u-closed')).toHaveLength(sentBefore);

    const noted = await api(`/${ticket._id}/notes`, json('POST', { text: '复盘：首次响应超时，已与组长沟通。' }));
    expect(noted.status).toBe(200);
    expect(noted.body.notes).toEqual([expect.objectContaining({ by: 'zhangsan', text: '复盘：首次响应超时，已与组长沟通。', toUser: false })]);
  });

  it('a resolved ticket can still be reopened and changed', async () => {
    const ticket = await ticketFromHandoff('u-reopen', '理赔 转人工');
    const api = await staffApi('zhangsan');
    await api(`/${ticket._id}/status`, json('POST', { to: 'resolved' }));
    expect((await api(`/${ticket._id}`, json('PATCH', { priority: 'high' }))).status).toBe(200);
    expect((await api(`/${ticket._id}/status`, json('POST', { to: 'in_progress' }))).body).toMatchObject({ status: 'in_progress' });
  });
});

describe('ticket assignees, teams and priority', () => {
  it('refuse an assignee or team the agent directory does not know, naming the field', async () => {
    const ticket = await ticketFromHandoff('u-ghost', '理赔 转人工');
    const api = await staffApi('zhangsan');

    const unknownAgent = await api(`/${ticket._id}`, json('PATCH', { assigneeId: 'nobody-here' }));
    expect(unknownAgent.status).toBe(422);
    expect(unknownAgent.body.error).toMatchObject({ code: 'unknown_assignee', message: expect.stringContaining('nobody-here'), details: { field: 'assigneeId' } });
    const unknownTeam = await api(`/${ticket._id}`, json('PATCH', { team: 'no-such-team' }));
    expect(unknownTeam.status).toBe(422);
    expect(unknownTeam.body.error).toMatchObject({ code: 'unknown_team', message: expect.stringContaining('no-such-team'), details: { field: 'team' } });
    expect((await api(`/${ticket._id}`, json('PATCH', { assigneeId: 'nobody-here', team: 'no-such-team' }))).status).toBe(422);
    const unchanged = (await Ticket.findById(ticket._id).lean<TicketRecord>())!;
    expect([unchanged.assigneeId, unchanged.team]).toEqual([ticket.assigneeId, ticket.team]);

    const opened = await api('/', json('POST', { conversationId: ticket.conversationId, description: '客户来电催办', assigneeId: 'ghost' }));
    expect(opened.status).toBe(422);
    expect(opened.body.error).toMatchObject({ code: 'unknown_assignee', details: { field: 'assigneeId' } });
    expect(await Ticket.countDocuments({ conversationId: ticket.conversationId })).toBe(1);

    const moved = await api(`/${ticket._id}`, json('PATCH', { assigneeId: 'lisi', team: 'policy' }));
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ assigneeId: 'lisi', team: 'policy' });
    expect((await api('/', json('POST', { conversationId: ticket.conversationId, description: '客户来电催办', assigneeId: 'wangwu' }))).status).toBe(201);
  });

  it('can be checked against the agent directory itself (agents.yaml teams, synced agents)', async () => {
    const lookup = staffLookupOf(h.desk.directory);
    expect(await Promise.all([lookup.agentExists('zhangsan'), lookup.agentExists('nobody-here')])).toEqual([true, false]);
    expect(await Promise.all([lookup.teamExists('policy'), lookup.teamExists('no-such-team')])).toEqual([true, false]);
  });

  it('let only a manager lower a priority (it relaxes the SLA); any agent may raise one', async () => {
    const complaint = await ticketFromHandoff('u-lower', '我要投诉，理赔太慢');
    expect(complaint.priority).toBe('high');
    const agent = await staffApi('lisi'); // another team's agent

    const refused = await agent(`/${complaint._id}`, json('PATCH', { priority: 'low' }));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'manager_required', message: expect.stringContaining('high') });
    const kept = (await Ticket.findById(complaint._id).lean<TicketRecord>())!;
    expect(kept.priority).toBe('high');
    expect(kept.sla).toEqual(complaint.sla);

    expect((await agent(`/${complaint._id}`, json('PATCH', { priority: 'urgent' }))).body).toMatchObject({ priority: 'urgent' });

    const manager = await staffApi('zhaojl');
    const lowered = await manager(`/${complaint._id}`, json('PATCH', { priority: 'low' }));
    expect(lowered.status).toBe(200);
    expect(lowered.body).toMatchObject({ priority: 'low' });
    expect(new Date(lowered.body.sla.firstResponseDueAt).getTime() - new Date(complaint.openedAt).getTime()).toBe(480 * MINUTE);
  });
});

describe('SLA clocks and service hours', () => {
  // Agents on duty 09:00–21:00 Beijing time; urgent (regulator) targets run around the clock.
  const config = {
    ...TEST_DESK_CONFIG,
    sla: { ...TEST_DESK_CONFIG.sla, urgent: { firstResponseMinutes: 15, resolutionHours: 4, clock: 'calendar' as const } },
    serviceHours: {
      timezone: 'Asia/Shanghai',
      weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['09:00-21:00']])),
    },
  };
  const beijing = (local: string) => new Date(`${local}+08:00`);
  let night: DeskHarness;
  beforeAll(async () => { night = await startDeskHarness({ config, start: beijing('2026-03-02T21:30:00') }); });
  afterAll(() => night.stop());
  beforeEach(() => { night.clock.now = beijing('2026-03-02T21:30:00'); }); // a Monday evening, after hours
  afterEach(() => expect(night.listenerErrors).toEqual([]));

  const nightTicket = async (userId: string, text: string): Promise<TicketRecord> => {
    await night.customerSays(userId, text);
    const session = await night.session(userId);
    return (await Ticket.findById(session!.ticketId).lean<TicketRecord>())!;
  };

  it('count only opening hours: a complaint at 21:30 is due at 09:30, and nobody is alerted overnight', async () => {
    const ticket = await nightTicket('u-night', '我要投诉，理赔太慢'); // high: 30 min, 24 h
    expect(ticket.priority).toBe('high');
    expect(new Date(ticket.sla.firstResponseDueAt)).toEqual(beijing('2026-03-03T09:30:00'));
    // 24 service hours: all of Tuesday's and Wednesday's twelve.
    expect(new Date(ticket.sla.resolutionDueAt)).toEqual(beijing('2026-03-04T21:00:00'));

    night.advance(10 * 60 * MINUTE); // 07:30
    expect((await night.desk.sweep()).slaBreaches).toEqual([]);
    night.advance(121 * MINUTE); // 09:31
    expect((await night.desk.sweep()).slaBreaches.map((b) => [b.ticket._id, b.kind])).toEqual([[ticket._id, 'first_response']]);
  });

  it('run around the clock for a calendar target (regulator cases)', async () => {
    const ticket = await nightTicket('u-regulator', '再不处理我就打12378投诉你们');
    expect(ticket.priority).toBe('urgent');
    expect(new Date(ticket.sla.firstResponseDueAt).getTime() - new Date(ticket.openedAt).getTime()).toBe(15 * MINUTE);
  });

  it('pause only by the opening hours a customer kept us waiting', async () => {
    const ticket = await nightTicket('u-pause', '我要投诉，理赔太慢');
    expect(new Date(ticket.sla.resolutionDueAt)).toEqual(beijing('2026-03-04T21:00:00')); // at a closing time
    const tickets = night.desk.tickets;
    await tickets.transition(ticket._id, 'in_progress', 'zhangsan');
    // Waiting only while closed (21:30 → 08:00) moves nothing, not even past the night after a closing-time target.
    await tickets.transition(ticket._id, 'waiting_for_user', 'zhangsan', '请客户补充材料');
    night.clock.now = beijing('2026-03-03T08:00:00');
    const unmoved = await tickets.transition(ticket._id, 'in_progress', 'zhangsan');
    expect(new Date(unmoved.sla.resolutionDueAt)).toEqual(beijing('2026-03-04T21:00:00'));
    // Waiting from 08:00 to 10:00 keeps us waiting one open hour.
    await tickets.transition(ticket._id, 'waiting_for_user', 'zhangsan', '请客户补充材料');
    night.clock.now = beijing('2026-03-03T10:00:00');
    const resumed = await tickets.transition(ticket._id, 'in_progress', 'zhangsan');
    expect(new Date(resumed.sla.resolutionDueAt)).toEqual(beijing('2026-03-05T10:00:00'));
    // And a new priority counts its targets in opening hours from when the ticket was opened.
    const lowered = await tickets.update(ticket._id, { priority: 'normal' }, 'zhaojl', { mayLowerPriority: true });
    expect(new Date(lowered.sla.firstResponseDueAt)).toEqual(beijing('2026-03-03T11:00:00'));
  });
});
