import { Agent } from '../../src/agents/models';
import { issueStaffToken } from '../../src/agents/auth';
import { agentClaimHandling } from '../../src/insurance/agent-claims';
import { addDays, chinaDate } from '../../src/insurance/dates';
import { Policy } from '../../src/insurance/models';
import { readIdCard } from '../../src/insurance/validation';
import { useTestDatabase } from '../support/database';
import { idCardFor, MOTHER, medicalOrderFor } from './support/people';
import { World } from './support/world';

useTestDatabase(__filename);
jest.setTimeout(60_000);

/**
 * What the claims audit found: payouts without limit, the same incident reported twice, claims paid on a policy
 * surrendered with a full refund, absurd amounts, control characters for agents to read, and unborn insured people.
 */

const DAY = 86_400_000;
const SUM_INSURED_FEN = 10_000_000; // ¥100,000
const accidentOrder = {
  productId: 'accident',
  planId: 'basic',
  termId: 'one-year',
  sumInsuredFen: SUM_INSURED_FEN,
  policyholder: MOTHER,
  insured: { relation: 'self' },
  healthAnswers: { 'high-risk-occupation': false, disability: false },
};
const criticalIllnessOrder = {
  productId: 'critical-illness',
  planId: 'basic',
  termId: 'to-70',
  sumInsuredFen: SUM_INSURED_FEN,
  policyholder: MOTHER,
  insured: { relation: 'self' },
  healthAnswers: { 'hospitalized-2y': false, 'serious-illness': false, 'abnormal-checkup': false },
};

let world: World;
let openId: string;
let token: string;
let staffToken: string;
const policies = { medical: '', accident: '', criticalIllness: '' };

const today = () => chinaDate(world.now);
const staff = (claimNumber: string, body: unknown) => world.api('POST', `/api/staff/claims/${claimNumber}/transitions`, { token: staffToken, body });
const reportBody = (policyId: string, incident: Record<string, unknown> = {}) => ({
  policyId,
  incident: { kind: 'accident', occurredOn: addDays(today(), -1), description: '下楼梯摔倒，右腿骨折', ...incident },
  contactPhone: MOTHER.phone,
});
const report = (body: unknown) => world.api('POST', '/api/mp/claims', { token, body });

/** A new claim on the policy, moved to under_review. */
async function claimUnderReview(policyId: string, occurredDaysAgo: number, kind = 'accident'): Promise<string> {
  const reported = await report(reportBody(policyId, { kind, occurredOn: addDays(today(), -occurredDaysAgo) }));
  expect(reported.status).toBe(201);
  const number: string = reported.body.claimNumber;
  expect((await staff(number, { to: 'under_review' })).status).toBe(200);
  return number;
}

async function approvedClaim(policyId: string, occurredDaysAgo: number, approvedAmountFen: number): Promise<string> {
  const number = await claimUnderReview(policyId, occurredDaysAgo);
  const approved = await staff(number, { to: 'approved', approvedAmountFen });
  expect(approved.status).toBe(200);
  return number;
}

beforeAll(async () => {
  world = await World.start();
  const mother = await world.login();
  openId = mother.openId;
  token = mother.token;
  policies.medical = (await world.buy(token, medicalOrderFor(MOTHER))).policyNumber;
  policies.accident = (await world.buy(token, accidentOrder)).policyNumber;
  policies.criticalIllness = (await world.buy(token, criticalIllnessOrder)).policyNumber;
  await Agent.create({ _id: 'safeguards-li', name: '李理赔', role: 'agent' });
  staffToken = await issueStaffToken('safeguards-li');
});
afterAll(async () => {
  await world?.stop();
});

describe('a policy surrendered in its cooling-off period (full refund) pays nothing', () => {
  let claimBeforeSurrender: string;

  it('refuses to approve or report a claim once the contract is void', async () => {
    world.advance(3 * DAY); // cover started, still inside the 15-day 犹豫期
    ({ token } = await world.login({ openId }));
    claimBeforeSurrender = await claimUnderReview(policies.criticalIllness, 1);

    const surrendered = await world.api('POST', `/api/mp/policies/${policies.criticalIllness}/surrender`, { token, body: {} });
    expect(surrendered.status).toBe(200);
    expect(surrendered.body.policy.status).toBe('surrendered');

    const approve = await staff(claimBeforeSurrender, { to: 'approved', approvedAmountFen: 1_000_000 });
    expect(approve).toMatchObject({ status: 409, body: { error: { code: 'policy_void' } } });
    const again = await report(reportBody(policies.criticalIllness, { occurredOn: addDays(today(), -2), description: '退保前一天摔伤' }));
    expect(again).toMatchObject({ status: 422, body: { error: { code: 'policy_void', details: { fields: ['policyId'] } } } });
  });

  it('still rejects such a claim with a reason', async () => {
    const rejected = await staff(claimBeforeSurrender, { to: 'rejected', rejectionReason: '保单已在犹豫期内退保，合同未生效' });
    expect(rejected.body.status).toBe('rejected');
  });

  it('keeps paying for incidents before an ordinary surrender (after the cooling-off period)', async () => {
    // No API surrenders after the 犹豫期 today; a policy surrendered that way (by the back office) ends its cover then.
    world.advance(40 * DAY);
    ({ token } = await world.login({ openId }));
    const medical = await Policy.findById(policies.medical).lean();
    expect(medical?.coolingOffEndsAt).toBeUndefined();
    await Policy.updateOne({ _id: policies.medical }, { $set: { status: 'surrendered', surrenderedAt: new Date(world.now.getTime() - 2 * DAY) } });
    try {
      const number = await claimUnderReview(policies.medical, 3, 'hospitalization');
      expect((await staff(number, { to: 'approved', approvedAmountFen: 500_000 })).status).toBe(200);
      expect((await staff(number, { to: 'paid', paymentReference: 'BANK-ORDINARY-1' })).status).toBe(200);
      const after = await report(reportBody(policies.medical, { occurredOn: addDays(today(), -1), description: '退保后才摔伤' }));
      expect(after).toMatchObject({ status: 422, body: { error: { code: 'not_covered' } } });
    } finally {
      await Policy.updateOne({ _id: policies.medical }, { $set: { status: 'in_force' }, $unset: { surrenderedAt: 1 } });
    }
  });
});

describe('payouts are limited', () => {
  it('never pays more than approved, nor an absurd amount', async () => {
    const number = await approvedClaim(policies.accident, 2, SUM_INSURED_FEN);
    const absurd = await staff(number, { to: 'paid', paymentReference: 'PAY1', paidAmountFen: 999_999_999_999 });
    expect(absurd.status).toBe(400);
    expect(absurd.body.error.details.fields).toEqual(['paidAmountFen']);
    const above = await staff(number, { to: 'paid', paymentReference: 'PAY1', paidAmountFen: SUM_INSURED_FEN + 1 });
    expect(above).toMatchObject({ status: 422, body: { error: { code: 'paid_above_approved', details: { fields: ['paidAmountFen'] } } } });
    expect((await staff(number, { to: 'paid', paymentReference: 'PAY1' })).body).toMatchObject({ status: 'paid', paidAmountFen: SUM_INSURED_FEN });
  });

  it('never approves more, over all claims of a policy, than its plan pays in total', async () => {
    // The accident policy has paid its whole ¥100,000 above.
    const number = await claimUnderReview(policies.accident, 5);
    const more = await staff(number, { to: 'approved', approvedAmountFen: 1 });
    expect(more).toMatchObject({ status: 422, body: { error: { code: 'sum_insured_exceeded', details: { fields: ['approvedAmountFen'] } } } });

    // A medical policy: sum insured ¥3,000,000, and its plan pays ¥6,000,000 in all (重大疾病医疗), whatever the
    // number of claims.
    const medicalLimit = 600_000_000;
    await approvedClaim(policies.medical, 6, 200_000_000);
    const second = await claimUnderReview(policies.medical, 7);
    expect((await staff(second, { to: 'approved', approvedAmountFen: medicalLimit - 200_000_000 - 500_000 + 1 })).body.error.code).toBe('sum_insured_exceeded');
    expect((await staff(second, { to: 'approved', approvedAmountFen: 50_000_000 })).status).toBe(200);
  });

  it('holds the limit when approvals arrive at once', async () => {
    const claims = [];
    for (const daysAgo of [8, 9, 14, 15]) claims.push(await claimUnderReview(policies.medical, daysAgo));
    // ¥5,000 + ¥2,000,000 + ¥500,000 paid or approved so far: ¥3,495,000 left, and four ask ¥1,500,000 each.
    const results = await Promise.all(claims.map((n) => staff(n, { to: 'approved', approvedAmountFen: 150_000_000 })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 422, 422]);
  });

  it('refuses a payment reference already used by another claim, also when both pay at once', async () => {
    const number = await approvedClaim(policies.medical, 10, 100_000);
    const reused = await staff(number, { to: 'paid', paymentReference: 'PAY1' });
    expect(reused).toMatchObject({ status: 409, body: { error: { code: 'payment_reference_in_use', details: { fields: ['paymentReference'] } } } });

    const other = await approvedClaim(policies.medical, 11, 100_000);
    const results = await Promise.all([number, other].map((n) => staff(n, { to: 'paid', paymentReference: 'BANK-TWICE' })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
  });

  it('applies the same checks to the WeCom /claim command, with a message the agent can act on', async () => {
    const desk = agentClaimHandling(world.insurance.claims);
    const agent = { id: 'zhangsan', name: '张三' };
    const number = await approvedClaim(policies.medical, 12, 100_000);
    await expect(desk.move(agent, number, { to: 'paid', paymentReference: 'PAY1' })).rejects.toMatchObject({
      status: 409,
      code: 'payment_reference_in_use',
      message: expect.stringContaining('PAY1'),
    });
    const fresh = await claimUnderReview(policies.accident, 13);
    await expect(desk.move(agent, fresh, { to: 'approved', approvedAmountFen: 100 })).rejects.toMatchObject({
      status: 422,
      code: 'sum_insured_exceeded',
      message: expect.stringContaining('保额'),
    });
    expect(await desk.move(agent, number, { to: 'paid', paymentReference: 'BANK-DESK-1' })).toContain('已赔付');
  });
});

describe('the same incident reported twice', () => {
  it('points the second report to the open claim', async () => {
    const body = reportBody(policies.accident, { occurredOn: addDays(today(), -20), description: '骑车摔倒，手腕骨折' });
    const first = await report(body);
    expect(first.status).toBe(201);
    const second = await report(body);
    expect(second).toMatchObject({
      status: 409,
      body: { error: { code: 'claim_already_reported', details: { claimNumber: first.body.claimNumber } } },
    });
    // Another kind of incident on the same day is another claim.
    expect((await report({ ...body, incident: { ...body.incident, kind: 'outpatient' } })).status).toBe(201);

    // Once that claim is finished (here: rejected), the incident may be reported again.
    await staff(first.body.claimNumber, { to: 'rejected', rejectionReason: '材料不全，请补齐后重新报案' });
    const anew = await report(body);
    expect(anew.status).toBe(201);
    expect(anew.body.claimNumber).not.toBe(first.body.claimNumber);
  });

  it('creates one claim when the same report arrives several times at once', async () => {
    const body = reportBody(policies.accident, { occurredOn: addDays(today(), -21), description: '滑雪摔伤膝盖' });
    const results = await Promise.all(Array.from({ length: 5 }, () => report(body)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    const created = results.find((r) => r.status === 201)!.body.claimNumber;
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.details.claimNumber === created)).toBe(true);
    const mine = await world.api('GET', '/api/mp/claims', { token });
    expect(mine.body.items.filter((c: { incident: { occurredOn: string } }) => c.incident.occurredOn === body.incident.occurredOn)).toHaveLength(1);
  });
});

describe('report input', () => {
  it('bounds money amounts, naming the field', async () => {
    const huge = await report(reportBody(policies.accident, { occurredOn: addDays(today(), -22), estimatedAmountFen: 9_007_199_254_740_991 }));
    expect(huge).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', details: { fields: ['incident.estimatedAmountFen'] } } } });
  });

  it('refuses control and bidi-override characters, but keeps newlines and tabs', async () => {
    for (const description of ['摔倒\u0000骨折了', '摔倒骨折了\u202Egnp.exe', '摔倒\u001b[31m骨折']) {
      const refused = await report(reportBody(policies.accident, { occurredOn: addDays(today(), -23), description }));
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', details: { fields: ['incident.description'] } } } });
    }
    const place = await report(reportBody(policies.accident, { occurredOn: addDays(today(), -23), place: '北京\u202E市' }));
    expect(place.body.error.details.fields).toEqual(['incident.place']);
    const note = await staff('AXC-ANY', { to: 'rejected', rejectionReason: '不\u0007符合' });
    expect(note.body.error.details.fields).toEqual(['rejectionReason']);

    const multiline = await report(reportBody(policies.accident, { occurredOn: addDays(today(), -23), description: '下班路上摔倒：\n\t右手骨折\r\n已就医' }));
    expect(multiline.status).toBe(201);
    expect(multiline.body.incident.description).toContain('\n\t右手骨折');
  });
});

describe('quotes', () => {
  it('refuses a birth date in the future as a 400 naming the field', async () => {
    const quoted = await world.api('POST', '/api/mp/quotes', {
      body: { productId: 'critical-illness', planId: 'basic', termId: 'to-70', sumInsuredFen: SUM_INSURED_FEN, insured: { birthDate: '2090-01-01' } },
    });
    expect(quoted).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', details: { fields: ['insured.birthDate'] } } } });
    expect(quoted.body.error.message).toContain('in the future');

    // Read from an ID number, the date is the number's fault.
    const fromId = await world.api('POST', '/api/mp/quotes', {
      body: { productId: 'critical-illness', planId: 'basic', termId: 'to-70', sumInsuredFen: SUM_INSURED_FEN, insured: { idCard: idCardFor('2090-01-01') } },
    });
    expect(fromId).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', details: { fields: ['insured.idCard'] } } } });
    expect(readIdCard(idCardFor('2025-03-11'), '2025-03-10')).toMatchObject({ ok: false, problem: 'birth_date_in_future' });
    expect(readIdCard(idCardFor('2025-03-10'), '2025-03-10').ok).toBe(true);
  });
});

describe('a plan whose benefits add up to more than the sum insured', () => {
  it('pays 轻症 and then 重疾 on one 重疾险 policy, up to its payout limit (180% of the sum insured)', async () => {
    const policy = (await world.buy(token, criticalIllnessOrder)).policyNumber;
    world.advance(5 * DAY); // cover starts the day after payment
    ({ token } = await world.login({ openId }));
    const mild = await approvedClaim(policy, 1, SUM_INSURED_FEN * 0.3);
    expect((await staff(mild, { to: 'paid', paymentReference: 'CI-MILD-1' })).status).toBe(200);
    const critical = await claimUnderReview(policy, 2);
    expect((await staff(critical, { to: 'approved', approvedAmountFen: SUM_INSURED_FEN })).status).toBe(200);
    const third = await claimUnderReview(policy, 3);
    const over = await staff(third, { to: 'approved', approvedAmountFen: SUM_INSURED_FEN * 0.6 });
    expect(over).toMatchObject({ status: 422, body: { error: { code: 'sum_insured_exceeded', details: { payoutLimitFen: SUM_INSURED_FEN * 1.8 } } } });
  });
});
