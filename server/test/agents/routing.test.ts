import { Agent, AgentAction, AgentSeat, HumanSession } from '../../src/agents/models';
import { readConversation } from '../../src/conversation/states';
import { Ticket } from '../../src/tickets/models';
import { useTestDatabase } from '../support/database';
import { startDeskHarness, type DeskHarness } from './desk-harness';

useTestDatabase(__filename);

let h: DeskHarness;
beforeAll(async () => { h = await startDeskHarness(); });
afterAll(() => h.stop());
beforeEach(() => h.reset());
afterEach(() => expect(h.listenerErrors).toEqual([]));

const MINUTE = 60_000;

describe('routing a handoff', () => {
  it('offers it to the agent with the matching skill, with a card, and never to the unskilled one', async () => {
    await h.onDuty('zhangsan', 'lisi');
    const result = await h.customerSays('u-claim', '理赔还没到账，转人工');
    expect(result.decision).toMatchObject({ action: 'handoff', reasons: ['explicit_request'] });
    expect(await h.session('u-claim')).toMatchObject({ state: 'offered', offeredTo: 'zhangsan', scenarioId: 'claim-progress' });
    expect(h.toAgent('zhangsan').map((m) => m.msgtype)).toEqual(['textcard', 'text']);
    expect(h.toAgent('lisi')).toEqual([]);

    await h.customerSays('u-policy', '想改手机号，转人工');
    expect(await h.session('u-policy')).toMatchObject({ state: 'offered', offeredTo: 'lisi', scenarioId: 'policy-service' });
  });

  it('stops routing to an agent taken out of agents.yaml, keeping their record for the history that names them', async () => {
    // 钱七 was on the desk under an earlier agents.yaml, on duty and idle the longest, when the file dropped them.
    await Agent.create({ _id: 'qianqi', name: '钱七', team: 'policy', capacity: 2, status: 'on_duty', idleSince: new Date(0) });
    await h.desk.directory.sync();
    await h.onDuty('lisi');
    await h.customerSays('u-left', '想改手机号，转人工');
    expect(await h.session('u-left')).toMatchObject({ state: 'offered', offeredTo: 'lisi' });
    expect(await Agent.findById('qianqi').lean()).toMatchObject({ name: '钱七', status: 'off', capacity: 0 });
    // Saying 上班 in WeCom does not bring them back either.
    await h.agentSays('qianqi', '上班');
    expect((await h.desk.directory.snapshot()).map((a) => a.id)).not.toContain('qianqi');
  });

  it('gives it to any free agent when nobody at work has the skill', async () => {
    await h.onDuty('lisi');
    await h.customerSays('u-any', '理赔进度，转人工');
    expect(await h.session('u-any')).toMatchObject({ state: 'offered', offeredTo: 'lisi' });
  });

  it('prefers the least loaded, then the longest idle, and respects capacity', async () => {
    await h.onDuty('wangwu');
    h.advance(MINUTE);
    await h.onDuty('zhangsan'); // idle for less time than 王五

    await h.customerSays('u-a', '理赔A 转人工');
    expect((await h.session('u-a'))?.offeredTo).toBe('wangwu');
    await h.customerSays('u-b', '理赔B 转人工');
    expect((await h.session('u-b'))?.offeredTo).toBe('zhangsan');
    await h.customerSays('u-c', '理赔C 转人工');
    expect((await h.session('u-c'))?.offeredTo).toBe('zhangsan'); // 王五 is at capacity 1, 张三 has room for 2

    await h.customerSays('u-d', '理赔D 转人工');
    expect(await h.session('u-d')).toMatchObject({ state: 'queued' });
    // Nobody ahead, two agents at work, 5 minutes a session → about 3 minutes.
    expect(h.toCustomer('u-d')).toEqual(['当前咨询人数较多，您前面还有 0 位，预计等待约 3 分钟。']);
  });

  it('keeps an agent within capacity when two instances route at the same instant', async () => {
    await h.onDuty('wangwu'); // capacity 1
    await h.agentSays('wangwu', '忙碌'); // at work, taking nothing: both customers queue
    await h.customerSays('u-race-1', '理赔 转人工');
    await h.customerSays('u-race-2', '理赔 转人工');
    expect(await HumanSession.countDocuments({ state: 'queued' })).toBe(2);
    // 王五 is free again (written directly: no routing pass yet), and two instances route at once.
    await Agent.updateOne({ _id: 'wangwu' }, { $set: { status: 'on_duty' } });
    const second = h.anotherInstance();
    await Promise.all([h.desk.desk.dispatch(), second.desk.dispatch()]);
    const offered = await HumanSession.find({ offeredTo: 'wangwu', state: 'offered' }).lean();
    expect(offered).toHaveLength(1);
    expect(await HumanSession.countDocuments({ state: 'queued' })).toBe(1);
    expect(await AgentSeat.countDocuments({ agentId: 'wangwu' })).toBe(1);
    await second.stop();
  });

  it('gives back a seat a dead process left behind, once it is older than a routing pass', async () => {
    await h.onDuty('wangwu'); // capacity 1
    await AgentSeat.create({ _id: 'wangwu#0', agentId: 'wangwu', sessionId: 'never-written', at: h.clock.now });
    await h.customerSays('u-after-crash', '理赔 转人工');
    expect(await h.session('u-after-crash')).toMatchObject({ state: 'queued' }); // the seat still counts
    h.advance(2 * MINUTE);
    await h.desk.sweep();
    expect(await h.session('u-after-crash')).toMatchObject({ state: 'offered', offeredTo: 'wangwu' });
    expect((await AgentSeat.find({ agentId: 'wangwu' }).lean()).map((s) => s.sessionId)).toEqual([(await h.session('u-after-crash'))!._id]);
  });

  it('serves VIP customers first, then in order of arrival', async () => {
    await h.onDuty('wangwu');
    await h.customerSays('u-first', '理赔 转人工');
    await h.customerSays('u-normal', '理赔 转人工');
    await h.customerSays('u-vip', '理赔 转人工', { profile: { vip: true } });
    const { queued } = await h.desk.desk.overview();
    expect(queued.map((s) => s.userId)).toEqual(['u-vip', 'u-normal']);
    expect(h.toCustomer('u-normal')[0]).toContain('您前面还有 0 位');
    expect(h.toCustomer('u-vip')[0]).toContain('您前面还有 0 位');

    await h.agentSays('wangwu', '接入');
    await h.agentSays('wangwu', '结束');
    expect(await h.session('u-vip')).toMatchObject({ state: 'offered', offeredTo: 'wangwu' });
    expect(await h.session('u-normal')).toMatchObject({ state: 'queued' });
  });

  it('tells a queued customer who writes again where they are now, only when that changed', async () => {
    await h.onDuty('wangwu');
    await h.customerSays('u-busy', '理赔 转人工');
    await h.customerSays('u-wait', '理赔 转人工');
    expect(h.toCustomer('u-wait')).toEqual(['当前咨询人数较多，您前面还有 0 位，预计等待约 5 分钟。']);
    await h.customerSays('u-wait', '还要等多久');
    expect(h.toCustomer('u-wait')).toHaveLength(1); // nothing moved: not told twice

    await h.customerSays('u-vip2', '理赔 转人工', { profile: { vip: true } });
    await h.customerSays('u-wait', '怎么还没人');
    expect(h.toCustomer('u-wait').at(-1)).toBe('当前咨询人数较多，您前面还有 1 位，预计等待约 10 分钟。');
    await h.customerSays('u-wait', '好吧');
    expect(h.toCustomer('u-wait')).toHaveLength(2);
  });

  it('moves an offer not accepted in time to the next agent, and sets the one who missed it busy', async () => {
    await h.onDuty('wangwu');
    h.advance(MINUTE);
    await h.onDuty('zhangsan');
    await h.customerSays('u-lapse', '理赔 转人工');
    const session = await h.session('u-lapse');
    expect(session?.offeredTo).toBe('wangwu');

    h.advance(59_000);
    expect((await h.desk.sweep()).lapsedOffers).toEqual([]);
    h.advance(2_000);
    expect((await h.desk.sweep()).lapsedOffers).toEqual([session!._id]);
    await h.events.settled();
    expect(await h.session('u-lapse')).toMatchObject({ state: 'offered', offeredTo: 'zhangsan', passedBy: ['wangwu'] });
    expect((await h.desk.directory.get('wangwu'))?.status).toBe('busy');
    expect(h.textsTo('wangwu').at(-1)).toContain('超过 60 秒未接入');
    expect(h.toAgent('zhangsan')[0].msgtype).toBe('textcard');
    expect(await AgentAction.countDocuments({ action: 'offer.lapsed', sessionId: session!._id })).toBe(1);

    // 张三 misses it too: nobody on duty now, so it waits — and the customer is told.
    h.advance(61_000);
    await h.desk.sweep();
    expect(await h.session('u-lapse')).toMatchObject({ state: 'queued' });
    expect(h.toCustomer('u-lapse')[0]).toContain('您前面还有 0 位');

    // 王五 is back: it goes to him again, as nobody else can take it.
    await h.agentSays('wangwu', '空闲');
    expect(await h.session('u-lapse')).toMatchObject({ state: 'offered', offeredTo: 'wangwu' });
  });

  it('opens a ticket and promises a call-back when no agent is at work, and the bot answers again', async () => {
    await h.customerSays('u-none', '理赔拖太久，转人工');
    const session = await h.session('u-none');
    expect(session).toMatchObject({ state: 'ended', endReason: 'no_agent' });
    const ticket = await Ticket.findById(session!.ticketId).lean();
    expect(ticket).toMatchObject({ source: 'no_agent', team: 'claims', status: 'open', openedBy: 'system', channel: 'official-account', userId: 'u-none' });
    expect(h.toCustomer('u-none')).toEqual([`当前暂无人工客服在线，我们已为您登记工单（编号 ${ticket!._id}），工作时间内会尽快联系您。`]);
    expect(await readConversation('official-account:u-none')).toMatchObject({ state: 'bot' });
    const next = await h.customerSays('u-none', '怎么报案');
    expect(next.decision.action).toBe('answer');
  });

  it('turns a wait past the limit into a ticket', async () => {
    await h.onDuty('wangwu');
    await h.customerSays('u-served', '理赔 转人工');
    await h.agentSays('wangwu', '接入');
    await h.agentSays('wangwu', '您好，我来帮您看看'); // serving: the customer is not left unanswered
    await h.customerSays('u-waiting', '理赔 转人工');
    h.advance(31 * MINUTE);
    const report = await h.desk.sweep();
    const waiting = await h.session('u-waiting');
    expect(report.queueTimeouts).toEqual([waiting!._id]);
    expect(waiting).toMatchObject({ state: 'ended', endReason: 'queue_timeout' });
    expect(h.toCustomer('u-waiting').at(-1)).toContain(`编号 ${waiting!.ticketId}`);
    expect(await h.session('u-served')).toMatchObject({ state: 'active', agentId: 'wangwu' });
  });

  it('transfers a live session to a named agent or a team, with the card saying who passed it on', async () => {
    await h.onDuty('zhangsan', 'lisi');
    await h.customerSays('u-transfer', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    await h.agentSays('zhangsan', '/transfer 不存在的人');
    expect(h.textsTo('zhangsan').at(-1)).toContain('找不到');
    await h.agentSays('zhangsan', '转接 李四');
    const session = await h.session('u-transfer');
    expect(session).toMatchObject({ state: 'offered', offeredTo: 'lisi', transferredBy: 'zhangsan' });
    expect(h.textsTo('lisi')[0]).toContain('张三 转接');
    expect(h.textsTo('zhangsan').at(-1)).toContain('已转接给 李四');

    await h.agentSays('lisi', '接入');
    await h.agentSays('lisi', '/transfer 理赔组');
    expect(await h.session('u-transfer')).toMatchObject({ state: 'offered', offeredTo: 'zhangsan', targetTeam: 'claims' });
    expect(await readConversation('official-account:u-transfer')).toMatchObject({ state: 'human', agentId: 'lisi' });
  });

  it('hands a live session and an offer back to the queue when their agent goes off duty, instead of keeping them', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-leaving', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    await h.customerSays('u-offered', '想改手机号，转人工'); // offered to 张三 too: nobody else is at work
    await h.onDuty('wangwu', 'lisi');
    await h.agentSays('zhangsan', '下班');
    const live = await h.session('u-leaving');
    expect(live).toMatchObject({ state: 'offered', offeredTo: 'wangwu', transferredBy: 'zhangsan', passedBy: ['zhangsan'] });
    expect(await h.session('u-offered')).toMatchObject({ state: 'offered', offeredTo: 'lisi' });
    expect(h.textsTo('zhangsan').at(-1)).toContain(`#${live!._id}`);
    expect(h.textsTo('wangwu')[0]).toContain('张三 转接');
    expect(await AgentSeat.countDocuments({ agentId: 'zhangsan' })).toBe(0);
    await h.customerSays('u-leaving', '还在吗');
    expect(h.textsTo('wangwu').at(-1)).toContain('（待接入） 客户：还在吗');

    // Nobody left at work: a ticket and the bot again, not a session held by someone who went home.
    await h.agentSays('wangwu', '接入');
    await h.agentSays('lisi', '下班');
    await h.agentSays('wangwu', '下班');
    expect(await h.session('u-leaving')).toMatchObject({ state: 'ended', endReason: 'no_agent' });
    expect(await readConversation('official-account:u-leaving')).toMatchObject({ state: 'bot' });
  });

  it('hands back on the sweep the sessions of an agent set off elsewhere or dropped from agents.yaml', async () => {
    await h.onDuty('zhangsan', 'wangwu');
    await h.agentSays('wangwu', '忙碌');
    await h.customerSays('u-dropped', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    await h.agentSays('wangwu', '空闲');
    await Agent.updateOne({ _id: 'zhangsan' }, { $set: { status: 'off', capacity: 0 } }); // what sync does to someone removed
    await h.desk.sweep();
    expect(await h.session('u-dropped')).toMatchObject({ state: 'offered', offeredTo: 'wangwu', transferredBy: 'zhangsan' });
    expect(h.textsTo('zhangsan').at(-1)).toContain('已转回队列');
  });

  it('hands a customer left unanswered to another agent, and sets the silent one busy', async () => {
    await h.onDuty('zhangsan', 'wangwu');
    await h.agentSays('wangwu', '忙碌');
    await h.customerSays('u-silent', '理赔 转人工');
    await h.agentSays('zhangsan', '接入');
    await h.agentSays('zhangsan', '您好，请稍等');
    await h.agentSays('wangwu', '空闲');
    h.advance(9 * 60_000);
    await h.customerSays('u-silent', '还在吗');
    h.advance(9 * 60_000); // answered 18 minutes ago, the latest message 9 minutes unanswered: still theirs
    await h.desk.sweep();
    expect(await h.session('u-silent')).toMatchObject({ state: 'active', agentId: 'zhangsan' });
    h.advance(2 * 60_000);
    await h.desk.sweep();
    expect(await h.session('u-silent')).toMatchObject({ state: 'offered', offeredTo: 'wangwu', transferredBy: 'zhangsan' });
    expect(h.textsTo('zhangsan').at(-1)).toContain('未得到回复');
    expect((await Agent.findById('zhangsan').lean())?.status).toBe('busy');
  });

  it('shows on the card how the customer feels when it is offered, not how they felt before the wait', async () => {
    await h.onDuty('wangwu');
    await h.agentSays('wangwu', '忙碌');
    await h.customerSays('u-waited', '理赔 转人工');
    await h.customerSays('u-waited', '到底什么时候有人');
    await h.agentSays('wangwu', '空闲');
    const card = h.textsTo('wangwu').find((t) => t.startsWith('人工客服请求'))!;
    expect(card).toContain('情绪：愤怒 0.50');
  });

  it('opens one session however often the handoff event arrives', async () => {
    await h.onDuty('zhangsan');
    await h.customerSays('u-twice', '理赔 转人工');
    const first = await h.session('u-twice');
    await h.desk.desk.onHandedOff({
      conversationId: 'official-account:u-twice', channel: 'official-account', userId: 'u-twice', reasons: ['explicit_request'],
      scenarioId: 'claim-progress', vip: false, at: h.clock.now,
    });
    expect(await HumanSession.countDocuments({ userId: 'u-twice' })).toBe(1);
    expect(h.toAgent('zhangsan').filter((m) => m.msgtype === 'textcard')).toHaveLength(1);
    expect(first?.state).toBe('offered');
  });
});
