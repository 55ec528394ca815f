import { escalationCard, truncateUtf8, type EscalationBrief } from '../../src/agents/cards';
import { parseAgentCommand } from '../../src/agents/commands';
import { loadAgentDeskConfig, managersFor, parseAgentDeskConfig, serviceHoursOf, slaTargetsOf } from '../../src/agents/config';
import { chooseAgent, expectedWaitMinutes, queueOrder, skillScore, type RoutableAgent } from '../../src/agents/routing';
import { AgentDeskSettingsError, loadAgentDeskSettings } from '../../src/agents/settings';
import { TEST_DESK_CONFIG } from './desk-harness';

describe('agent commands', () => {
  it.each([
    ['/accept', { kind: 'accept' }],
    ['接入', { kind: 'accept' }],
    ['/accept #1024', { kind: 'accept', session: '1024' }],
    ['#1024 /end', { kind: 'end', session: '1024' }],
    ['结束', { kind: 'end' }],
    ['/transfer 张三', { kind: 'transfer', target: '张三' }],
    ['转接 理赔组', { kind: 'transfer', target: '理赔组' }],
    ['/ticket 客户要求回电 #1030', { kind: 'ticket', description: '客户要求回电', session: '1030' }],
    ['工单：客户要求回电', { kind: 'ticket', description: '客户要求回电' }],
    ['/kb 理赔 进度', { kind: 'kb', query: '理赔 进度' }],
    ['搜索 等待期', { kind: 'kb', query: '等待期' }],
    ['忙碌', { kind: 'set_status', status: 'busy' }],
    ['/free', { kind: 'set_status', status: 'on_duty' }],
    ['下班', { kind: 'set_status', status: 'off' }],
    ['/BUSY', { kind: 'set_status', status: 'busy' }],
    ['结束了吗？我再查一下', { kind: 'reply', text: '结束了吗？我再查一下' }],
    ['#1024 您好', { kind: 'reply', text: '您好', session: '1024' }],
    ['转接中请稍候', { kind: 'reply', text: '转接中请稍候' }],
  ])('reads %s', (text, expected) => {
    expect(parseAgentCommand(text)).toEqual(expected);
  });

  // These were replies: "接入 #1024" went to the customer in focus (and accepted another offer), "#1024，您好" too.
  it.each([
    ['接入 #1024', { kind: 'accept', session: '1024' }],
    ['结束#1024', { kind: 'end', session: '1024' }],
    ['/end#1024', { kind: 'end', session: '1024' }],
    ['#1024，您好', { kind: 'reply', text: '您好', session: '1024' }],
    ['#1024：您好', { kind: 'reply', text: '您好', session: '1024' }],
    ['＃1024 您好', { kind: 'reply', text: '您好', session: '1024' }],
    ['/accept ＃1024', { kind: 'accept', session: '1024' }],
    ['结束 #1024 了吗', { kind: 'reply', text: '结束 #1024 了吗' }],
  ])('reads %s with its session', (text, expected) => {
    expect(parseAgentCommand(text)).toEqual(expected);
  });

  // A slash with no command name threw (the WeCom callback answered 500 and WeCom retried it).
  it.each(['/', '／', '/ 您好'])('refuses %s as a command without a name', (text) => {
    expect(parseAgentCommand(text)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('/help') });
  });

  it('explains what is missing', () => {
    expect(parseAgentCommand('/transfer')).toMatchObject({ kind: 'invalid' });
    expect(parseAgentCommand('/whatever')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('/whatever') });
  });

  // Names every JavaScript object has must not be taken for commands (they made the WeCom callback answer 500).
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])('reads the bare word %s as a reply', (word) => {
    expect(parseAgentCommand(word)).toEqual({ kind: 'reply', text: word });
  });

  it.each(['/toString', '/constructor', '/__proto__'])('refuses %s as an unknown command', (text) => {
    expect(parseAgentCommand(text)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('未知指令') });
  });

  it('refuses a claim action named like an object property', () => {
    expect(parseAgentCommand('/claim AXC1 constructor')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('未知的理赔操作') });
  });
});

describe('routing rules', () => {
  const agent = (id: string, extra: Partial<RoutableAgent> = {}): RoutableAgent => ({
    id, team: 'claims', skills: ['claim-progress'], capacity: 2, status: 'on_duty', load: 0, idleSince: new Date('2026-01-01T00:00:00Z'), ...extra,
  });
  const request = { scenarioId: 'claim-progress', intentId: 'claim-progress/delay', reasons: ['complaint' as const], passedBy: [] };

  it('scores sub-intent over intent over scenario, plus matching handoff reasons', () => {
    expect(skillScore(['claim-progress'], request)).toBe(1);
    expect(skillScore(['claim-progress', 'claim-progress/delay'], request)).toBe(2);
    expect(skillScore(['claim-progress', 'reason:complaint'], request)).toBe(2);
    expect(skillScore(['policy-service'], request)).toBe(0);
  });

  it('waits for a busy specialist rather than giving it to an unskilled agent, unless overflow is allowed', () => {
    const agents = [agent('expert', { load: 2 }), agent('other', { skills: ['policy-service'], team: 'policy' })];
    expect(chooseAgent(request, agents, { overflowToUnskilled: false })).toBeUndefined();
    expect(chooseAgent(request, agents, { overflowToUnskilled: true })?.id).toBe('other');
  });

  it('gives a transfer to a team to its free member, not waiting for a busy specialist in it', () => {
    const care = [agent('specialist', { team: 'care', status: 'busy' }), agent('colleague', { team: 'care', skills: ['reason:complaint'] })];
    const transferred = { ...request, reasons: ['explicit_request' as const], targetTeam: 'care' };
    expect(chooseAgent(transferred, [...care, agent('elsewhere', { team: 'claims' })], { overflowToUnskilled: false })?.id).toBe('colleague');
  });

  it('routes a transfer whose target has left work to anyone free instead of holding it for them', () => {
    const agents = [agent('gone', { team: 'care', status: 'off' }), agent('here')];
    expect(chooseAgent({ ...request, targetTeam: 'care' }, agents, { overflowToUnskilled: false })?.id).toBe('here');
    expect(chooseAgent({ ...request, targetAgentId: 'gone' }, agents, { overflowToUnskilled: false })?.id).toBe('here');
    expect(chooseAgent({ ...request, targetAgentId: 'removed-from-yaml' }, agents, { overflowToUnskilled: false })?.id).toBe('here');
  });

  it('orders the queue VIP first, then by arrival', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
    const queue = [
      { _id: '1003', vip: false, queuedAt: at(1) },
      { _id: '1002', vip: true, queuedAt: at(3) },
      { _id: '1001', vip: false, queuedAt: at(0) },
    ].sort(queueOrder);
    expect(queue.map((q) => q._id)).toEqual(['1002', '1001', '1003']);
    expect(expectedWaitMinutes(3, 2, 5)).toBe(10);
  });
});

describe('configuration', () => {
  it('loads wechat-config/agents.yaml', () => {
    const config = loadAgentDeskConfig();
    expect(config.offer.timeoutSeconds).toBeGreaterThan(0);
    expect(slaTargetsOf(config).urgent.resolutionMinutes).toBe(config.sla.urgent.resolutionHours * 60);
    expect(managersFor(config, 'claims').length).toBeGreaterThan(0);
    // Staffed 09:00–21:00 Beijing time, as the knowledge base tells customers; urgent targets run around the clock.
    const hours = serviceHoursOf(config);
    expect(hours.add(new Date('2026-03-02T22:00:00+08:00'), 30 * 60_000)).toEqual(new Date('2026-03-03T09:30:00+08:00'));
    expect(slaTargetsOf(config).urgent.clock).toBe('calendar');
    expect(slaTargetsOf(config).high.clock).toBe('service');
  });

  it('refuses an unanswered-session limit that is no positive number of minutes, naming the field', () => {
    expect(parseAgentDeskConfig(TEST_DESK_CONFIG).session.unansweredMinutes).toBe(10); // the default
    expect(() => parseAgentDeskConfig({ ...TEST_DESK_CONFIG, session: { unansweredMinutes: 0 } })).toThrow(/session\.unansweredMinutes/);
  });

  it('refuses service hours it cannot use, naming the field', () => {
    const broken = { ...TEST_DESK_CONFIG, serviceHours: { timezone: 'Asia/Shanghai', weekly: { mon: ['9点-21点'] } } };
    expect(() => parseAgentDeskConfig(broken)).toThrow(
      'wechat-config/agents.yaml: serviceHours: weekly.mon[0]: "9点-21点" is not an opening window such as "09:00-21:00"',
    );
  });

  it('is off without WECOM_* variables and names every missing one when some are set', () => {
    expect(loadAgentDeskSettings({})).toBeUndefined();
    let error: unknown;
    try {
      loadAgentDeskSettings({ WECOM_CORP_ID: 'ww1436e0e65a779aee', WECOM_AES_KEY: 'short' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AgentDeskSettingsError);
    const problems = (error as AgentDeskSettingsError).problems.join('\n');
    for (const name of ['WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN']) expect(problems).toContain(`${name} is required`);
    expect(problems).toContain('WECOM_AES_KEY: must be the 43-character EncodingAESKey');
    expect(
      loadAgentDeskSettings({
        WECOM_CORP_ID: 'ww1436e0e65a779aee', WECOM_AGENT_ID: '1000002', WECOM_SECRET: 'secret-123456', WECOM_TOKEN: 'tok123',
        WECOM_AES_KEY: 'a'.repeat(43),
      }),
    ).toMatchObject({ agentId: 1000002, apiBase: 'https://qyapi.weixin.qq.com', maxClockSkewSeconds: 300 });
  });
});

describe('escalation card', () => {
  it('fits WeCom’s byte limits with whole <div>s', () => {
    const brief: EscalationBrief = {
      sessionId: '1001', channel: 'official-account', customer: 'oAb…1234', vip: true, reasons: ['complaint'],
      topic: '理赔'.repeat(200), turns: [{ who: 'user', text: '很长'.repeat(300) }], facts: [], suggestions: [], waitedSeconds: 120, at: new Date('2026-03-02T02:00:00Z'),
    };
    const card = escalationCard(brief, 'https://cs.example.com/s/{session}');
    expect(Buffer.byteLength(card.description)).toBeLessThanOrEqual(512);
    expect(card.description.endsWith('</div>')).toBe(true);
    expect(card.title).toBe('【VIP】人工客服请求 #1001');
    expect(card.url).toBe('https://cs.example.com/s/1001');
    expect(Buffer.byteLength(truncateUtf8('汉'.repeat(1000), 2048))).toBeLessThanOrEqual(2048);
  });
});
