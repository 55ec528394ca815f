import { issueStaffToken } from '../../src/agents/auth';
import { AgentAction } from '../../src/agents/models';
import { Ticket } from '../../src/tickets/models';
import { useTestDatabase } from '../support/database';
import { startDeskHarness, type DeskHarness } from './desk-harness';

useTestDatabase(__filename);

let h: DeskHarness;
beforeAll(async () => { h = await startDeskHarness(); });
afterAll(() => h.stop());
beforeEach(() => h.reset());
afterEach(() => expect(h.listenerErrors).toEqual([]));

describe('relay between the customer and the agent', () => {
  it('holds a reply the 48 h window refuses, tells the agent, opens a ticket, and sends it when the customer writes again', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-window', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    h.wechat.failNext({ path: '/cgi-bin/message/custom/send', toUser: 'u-window', errcode: 45015 });
    await h.agentSays('zhangsan', '您好，理赔款已在审核中。');

    expect(h.toCustomer('u-window')).toEqual([]);
    const notice = h.textsTo('zhangsan').at(-1)!;
    expect(notice).toContain('客户已超过48小时未发言');
    const session = await h.session('u-window');
    expect(await h.heldReplies('u-window')).toEqual(['您好，理赔款已在审核中。']);
    const ticket = await Ticket.findById(session!.ticketId).lean();
    expect(ticket).toMatchObject({ source: 'window_closed', assigneeId: 'zhangsan', team: 'claims', status: 'open' });
    expect(notice).toContain(ticket!._id);

    await h.customerSays('u-window', '理赔怎么还没好');
    expect(h.toCustomer('u-window')).toEqual(['您好，理赔款已在审核中。']);
    expect(h.textsTo('zhangsan').some((t) => t.includes('暂存的 1 条回复已补发'))).toBe(true);
    expect(await h.heldReplies('u-window')).toEqual([]);
  });

  it('takes a quota refusal the same way', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-quota', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    h.wechat.failNext({ path: '/cgi-bin/message/custom/send', toUser: 'u-quota', errcode: 45047 });
    await h.agentSays('zhangsan', '第六条消息');
    expect(h.textsTo('zhangsan').at(-1)).toContain('额度');
    expect(await h.heldReplies('u-quota')).toHaveLength(1);
  });

  it('sends held replies once each when the customer writes again, also past the quota and on two instances at once', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-held', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    h.wechat.failNext({ path: '/cgi-bin/message/custom/send', toUser: 'u-held', errcode: 45015, times: 6 });
    for (let n = 1; n <= 6; n++) await h.agentSays('zhangsan', `第${n}条`);
    expect(await h.heldReplies('u-held')).toHaveLength(6);

    // The customer's message opens 5 sends: the sixth waits for the next one (it had sent the first five again).
    await h.customerSays('u-held', '在吗');
    expect(h.toCustomer('u-held')).toEqual(['第1条', '第2条', '第3条', '第4条', '第5条']);
    expect(await h.heldReplies('u-held')).toEqual(['第6条']);
    expect(h.textsTo('zhangsan').some((t) => t.includes('暂存的 5 条回复已补发'))).toBe(true);
    await h.customerSays('u-held', '还在吗');
    expect(h.toCustomer('u-held')).toEqual(['第1条', '第2条', '第3条', '第4条', '第5条', '第6条']);

    // Two messages of the customer handled at the same moment by two instances: the held reply goes out once.
    h.wechat.failNext({ path: '/cgi-bin/message/custom/send', toUser: 'u-held', errcode: 45015 });
    await h.agentSays('zhangsan', '只发一次');
    const other = h.anotherInstance();
    h.wechat.userMessaged('u-held');
    const received = {
      conversationId: 'official-account:u-held', channel: 'official-account' as const, userId: 'u-held', text: '人呢',
      emotion: { label: 'none' as const, intensity: 0, polarity: 'neutral' as const }, at: h.clock.now, state: 'human' as const,
    };
    await Promise.all([h.desk.desk.onCustomerMessage({ ...received, messageId: 'm-a' }), other.desk.onCustomerMessage({ ...received, messageId: 'm-b' })]);
    expect(h.toCustomer('u-held').filter((t) => t === '只发一次')).toHaveLength(1);
    expect(await h.heldReplies('u-held')).toEqual([]);
    await other.stop();
  });

  it('takes "接入 #编号" as accepting that session and "#编号，…" as a reply to that customer', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-first', '理赔 转人工');
    await h.customerSays('u-second', '理赔 转人工');
    const second = await h.session('u-second');
    await h.agentSays('zhangsan', `接入 #${second!._id}`);
    expect(await h.session('u-second')).toMatchObject({ state: 'active', agentId: 'zhangsan' });
    expect(await h.session('u-first')).toMatchObject({ state: 'offered' });
    expect(h.toCustomer('u-first')).toEqual([]);

    await h.agentSays('zhangsan', '接入');
    await h.agentSays('zhangsan', `#${second!._id}，您好，第二位客户`);
    expect(h.toCustomer('u-second')).toEqual(['您好，第二位客户']);
    expect(h.toCustomer('u-first')).toEqual([]);
    await h.agentSays('zhangsan', `结束 #${second!._id}`);
    expect(await h.session('u-second')).toMatchObject({ state: 'ended', endReason: 'agent' });
    expect(await h.session('u-first')).toMatchObject({ state: 'active' });
  });

  it('accepts an offer when the agent simply answers it, and picks a session by #number', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-one', '理赔 转人工');
    await h.agentSays('zhangsan', '您好，我是张三');
    expect(await h.session('u-one')).toMatchObject({ state: 'active', agentId: 'zhangsan' });
    expect(h.toCustomer('u-one')).toEqual(['您好，我是张三']);

    await h.customerSays('u-two', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    const one = await h.session('u-one');
    await h.agentSays('zhangsan', `#${one!._id} 这条发给第一位客户`);
    expect(h.toCustomer('u-one').at(-1)).toBe('这条发给第一位客户');
    await h.agentSays('zhangsan', '继续发给第一位');
    expect(h.toCustomer('u-one').at(-1)).toBe('继续发给第一位'); // #number moved the focus
    expect(h.toCustomer('u-two')).toEqual([]);
  });

  it('runs the agent commands: search, ticket, status, busy and free, help, and refuses strangers', async () => {
    await h.onDuty('zhangsan');
    await h.agentSays('zhangsan', '你好');
    expect(h.textsTo('zhangsan').at(-1)).toBe('您当前没有进行中的会话。');

    await h.agentSays('zhangsan', '/kb 理赔到账');
    expect(h.textsTo('zhangsan').at(-1)).toContain('1. 理赔到账慢（claim-progress/delay/too-slow）');

    await h.customerSays('u-cmd', '我要投诉，理赔太慢');
    await h.agentSays('zhangsan', '接入');
    await h.agentSays('zhangsan', '工单 客户要求书面答复理赔时效');
    const ticket = await Ticket.findOne({ source: 'agent' }).lean();
    expect(ticket).toMatchObject({
      openedBy: 'zhangsan', assigneeId: 'zhangsan', description: '客户要求书面答复理赔时效', priority: 'high', subject: '【投诉】理赔到账慢',
    });
    expect(h.textsTo('zhangsan').at(-1)).toContain(`已登记工单 ${ticket!._id}（高优先级）`);

    await h.agentSays('zhangsan', '/status');
    expect(h.textsTo('zhangsan').at(-1)).toMatch(/状态：空闲（接单中）；容量 1\/2\n#\d+ 进行中（当前）/);
    await h.agentSays('zhangsan', '忙碌');
    expect((await h.desk.directory.get('zhangsan'))?.status).toBe('busy');
    expect(h.textsTo('zhangsan').at(-1)).toContain('您还有 1 个会话进行中');
    await h.agentSays('zhangsan', '/free');
    expect((await h.desk.directory.get('zhangsan'))?.status).toBe('on_duty');
    await h.agentSays('zhangsan', '/help');
    expect(h.textsTo('zhangsan').at(-1)).toContain('/transfer 转接');
    await h.agentSays('zhangsan', '/nonsense');
    expect(h.textsTo('zhangsan').at(-1)).toContain('未知指令');

    await h.agentSays('zhaojl', '/accept');
    expect(h.textsTo('zhaojl').at(-1)).toBe('没有待接入的会话。');
    await h.desk.desk.receive({ fromUserId: 'stranger', kind: 'text', text: '/accept', sentAt: h.clock.now });
    expect(await AgentAction.countDocuments({ actor: 'stranger' })).toBe(0);

    const trail = await AgentAction.find({ actor: 'zhangsan' }).sort({ at: 1 }).lean();
    expect(trail.map((a) => a.action)).toEqual(expect.arrayContaining(['kb.search', 'session.accept', 'ticket.open', 'agent.status']));
  });

  it('pushes every customer message in a live session with the emotion change and suggestions', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-assist', '我要投诉，理赔太慢');
    await h.agentSays('zhangsan', '接入');
    await h.customerSays('u-assist', '到底什么时候到账');
    const assist = h.textsTo('zhangsan').at(-1)!;
    expect(assist).toMatch(/^#\d+ 客户：到底什么时候到账\n情绪：愤怒 0\.85 → 愤怒 0\.50（缓和）\n参考话术：\n1\. 理赔到账慢：/);
    await h.customerSays('u-assist', '好的谢谢');
    expect(h.textsTo('zhangsan').at(-1)).toContain('情绪：愤怒 0.50 → 平静（缓和）');
  });

  it('masks a phone or ID number typed in full-width digits, on the card, in its details and in the relay', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-wide', '理赔 转人工 身份证１１０１０１１９９００３０７１２３４');
    await h.agentSays('zhangsan', '接入');
    await h.customerSays('u-wide', '我手机１３８１２３４５６７８');
    const seen = h.textsTo('zhangsan').join('\n');
    expect(seen).not.toMatch(/１９９００３０７|１２３４５６７８|19900307|12345678/);
    expect(seen).toContain('1101**********1234');
    expect(seen).toContain('138****5678');
  });

  it('masks what a relayed message names as the card does (a policy number), not only number-shaped data', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-named', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    await h.customerSays('u-named', '我要投诉，保单P2024110012345678的5万还没到');
    const relayed = h.textsTo('zhangsan').at(-1) ?? '';
    expect(relayed).toContain('客户：');
    expect(relayed).not.toContain('P2024110012345678');
    expect(relayed).toContain('5万'); // amounts stay readable
  });

  it('ends the session when the conversation is closed elsewhere', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-closed', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    await h.conversations.returnToBot('official-account:u-closed', 'timeout');
    await h.events.settled();
    expect(await h.session('u-closed')).toMatchObject({ state: 'ended', endReason: 'conversation_closed' });
    expect(h.textsTo('zhangsan').at(-1)).toContain('会话已关闭');
  });

  it('shows the desk to staff: agents with load, the queue, status changes, and the audit log for managers', async () => {
    await h.onDuty('wangwu');
    await h.customerSays('u-desk-1', '理赔 转人工');
    await h.customerSays('u-desk-2', '理赔 转人工');
    const agentToken = await issueStaffToken('wangwu');
    const managerToken = await issueStaffToken('zhaojl');
    const api = (token: string, path: string, init: RequestInit = {}) =>
      fetch(`${h.baseUrl}/api/agent/desk${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

    const agents = (await (await api(agentToken, '/agents')).json()) as { items: Array<{ id: string; status: string; load: number; skills: string[] }> };
    expect(agents.items.find((a) => a.id === 'wangwu')).toMatchObject({ status: 'on_duty', load: 1, skills: ['claim-progress', 'claim-report'] });
    const sessions = (await (await api(agentToken, '/sessions')).json()) as { queued: Array<{ userId: string }>; offered: Array<{ userId: string }> };
    expect(sessions.offered.map((s) => s.userId)).toEqual(['u-desk-1']);
    expect(sessions.queued.map((s) => s.userId)).toEqual(['u-desk-2']);

    expect((await api(agentToken, '/agents/zhangsan/status', { method: 'PUT', body: JSON.stringify({ status: 'on_duty' }) })).status).toBe(403);
    expect((await api(managerToken, '/agents/zhangsan/status', { method: 'PUT', body: JSON.stringify({ status: 'on_duty' }) })).status).toBe(200);
    await h.events.settled();
    expect(await h.session('u-desk-2')).toMatchObject({ state: 'offered', offeredTo: 'zhangsan' });

    const own = (await (await api(agentToken, '/audit?actor=zhaojl')).json()) as { items: Array<{ actor: string }> };
    expect(own.items.every((a) => a.actor === 'wangwu')).toBe(true);
    const all = (await (await api(managerToken, '/audit?action=agent.status')).json()) as { items: Array<{ actor: string; detail: { agentId: string } }> };
    expect(all.items).toEqual([expect.objectContaining({ actor: 'zhaojl', detail: expect.objectContaining({ agentId: 'zhangsan', to: 'on_duty' }) })]);
  });
});
