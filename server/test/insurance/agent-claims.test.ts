import { parseAgentCommand } from '../../src/agents/commands';
import { chinaDate } from '../../src/insurance/dates';
import { agentClaimHandling } from '../../src/insurance/agent-claims';
import { startDeskHarness, type DeskHarness } from '../agents/desk-harness';
import { useTestDatabase } from '../support/database';
import { medicalOrderFor, MOTHER } from './support/people';
import { TEMPLATES, World } from './support/world';

useTestDatabase(__filename);
jest.setTimeout(60_000);

const DAY = 86_400_000;

/** An agent moves a real claim through its states by typing /claim in WeCom; the customer is told each time. */
describe('claims handled by WeCom command', () => {
  let world: World;
  let desk: DeskHarness;
  let claimNumber: string;
  let token: string;
  let policyNumber: string;
  const lastToAgent = () => desk.textsTo('zhangsan').at(-1) ?? '';

  beforeAll(async () => {
    world = await World.start();
    desk = await startDeskHarness({ claims: agentClaimHandling(world.insurance.claims) });
    await desk.reset();
    const mother = await world.login();
    token = mother.token;
    ({ policyNumber } = await world.buy(token, medicalOrderFor(MOTHER)));
    world.advance(40 * DAY); // past the waiting period (the mini-program session has lapsed: log in again)
    ({ token } = await world.login({ openId: mother.openId }));
    const reported = await world.api('POST', '/api/mp/claims', {
      token, body: { policyId: policyNumber, incident: { kind: 'accident', occurredOn: chinaDate(world.now), description: '骑车摔倒，手臂骨折住院' }, contactPhone: MOTHER.phone },
    });
    expect(reported.status).toBe(201);
    claimNumber = reported.body.claimNumber;
  });
  afterAll(async () => {
    await desk?.stop();
    await world?.stop();
  });

  it('parses the command in English and Chinese, amounts in 元 and 万', () => {
    expect(parseAgentCommand('/claim CLM1 通过 1.2万')).toEqual({ kind: 'claim', claimId: 'CLM1', change: { to: 'approved', approvedAmountFen: 1_200_000 } });
    expect(parseAgentCommand('/理赔 CLM1 approve 12,000元')).toEqual({ kind: 'claim', claimId: 'CLM1', change: { to: 'approved', approvedAmountFen: 1_200_000 } });
    expect(parseAgentCommand('/claim CLM1 补材料 费用清单、出院小结 诊断证明')).toEqual({
      kind: 'claim', claimId: 'CLM1', change: { to: 'documents_needed', neededDocuments: ['费用清单', '出院小结', '诊断证明'] },
    });
    expect(parseAgentCommand('/claim CLM1 通过 很多')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('核定金额') });
    expect(parseAgentCommand('/claim CLM1 飞')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('未知的理赔操作') });
    expect(parseAgentCommand('/claim')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('/claim <报案号>') });
  });

  it('shows a claim, asks for documents, reviews, approves and pays it; the customer sees each step', async () => {
    await desk.agentSays('zhangsan', `/claim ${claimNumber}`);
    expect(lastToAgent()).toContain(`案件 ${claimNumber}`);
    expect(lastToAgent()).toContain('已报案');

    await desk.agentSays('zhangsan', `/claim ${claimNumber} 补材料 费用清单 出院小结`);
    expect(lastToAgent()).toContain('待客户补充：费用清单、出院小结');
    let mine = await world.api('GET', `/api/mp/claims/${claimNumber}`, { token });
    expect(mine.body).toMatchObject({ status: 'documents_needed', neededDocuments: ['费用清单', '出院小结'] });

    await desk.agentSays('zhangsan', `/claim ${claimNumber} 审核`);
    await desk.agentSays('zhangsan', `/理赔 ${claimNumber} 通过 1.5万`);
    expect(lastToAgent()).toContain('核定金额 15,000元');
    await desk.agentSays('zhangsan', `/claim ${claimNumber} 赔付 BANK-20250420-001`);
    mine = await world.api('GET', `/api/mp/claims/${claimNumber}`, { token });
    expect(mine.body).toMatchObject({ status: 'paid', paidAmountFen: 1_500_000 });
    expect(mine.body.timeline.map((t: { status: string }) => t.status)).toEqual(['reported', 'documents_needed', 'under_review', 'approved', 'paid']);
    await world.insurance.notices.settled();
    expect(world.subscriptionMessages(TEMPLATES.claimProgress).length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a second claim paid with the same payment reference, or approved above what the policy has left', async () => {
    const second = await world.api('POST', '/api/mp/claims', {
      token, body: { policyId: policyNumber, incident: { kind: 'accident', occurredOn: chinaDate(new Date(world.now.getTime() - DAY)), description: '打球扭伤脚踝，门诊治疗' }, contactPhone: MOTHER.phone },
    });
    expect(second.status).toBe(201);
    const number = second.body.claimNumber;
    await desk.agentSays('zhangsan', `/claim ${number} 审核`);
    await desk.agentSays('zhangsan', `/claim ${number} 通过 600万`);
    expect(lastToAgent()).toContain(`无法处理案件 ${number}`);
    expect(lastToAgent()).toContain('可赔付的上限');
    await desk.agentSays('zhangsan', `/claim ${number} 通过 2000`);
    await desk.agentSays('zhangsan', `/claim ${number} 赔付 BANK-20250420-001`);
    expect(lastToAgent()).toContain(`无法处理案件 ${number}`);
    expect(lastToAgent()).toContain(`付款流水号 BANK-20250420-001 已用于案件 ${claimNumber}`);
    expect((await world.api('GET', `/api/mp/claims/${number}`, { token })).body.status).toBe('approved');
  });

  it('tells the agent why a move is refused, and changes nothing', async () => {
    await desk.agentSays('zhangsan', `/claim ${claimNumber} 审核`);
    expect(lastToAgent()).toContain(`无法处理案件 ${claimNumber}`);
    await desk.agentSays('zhangsan', '/claim CLM-NOPE 审核');
    expect(lastToAgent()).toContain('无法处理案件 CLM-NOPE');
    expect((await world.api('GET', `/api/mp/claims/${claimNumber}`, { token })).body.status).toBe('paid');
  });
});
