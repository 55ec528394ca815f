import { InsuranceOrder, Policy } from '../../src/insurance/models';
import { useTestDatabase } from '../support/database';
import { FATHER, idCardFor, MOTHER } from '../insurance/support/people';
import { quoteFrom, World } from '../insurance/support/world';

useTestDatabase(__filename);

let world: World;

/** 重疾险 for the person themself; MOTHER is 34, so at most 50万 in all (maxByAge ≤ 40). */
const criticalIllness = (person: { name: string; idCard: string; phone: string }, sumInsuredFen: number, planId = 'basic') => ({
  productId: 'critical-illness',
  planId,
  termId: 'to-70',
  sumInsuredFen,
  policyholder: person,
  insured: { relation: 'self' },
  beneficiary: { type: 'legal' },
  healthAnswers: { 'hospitalized-2y': false, 'serious-illness': false, 'abnormal-checkup': false },
});

async function priced(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const quoted = await world.api('POST', '/api/mp/quotes', { body: quoteFrom(body) });
  expect(quoted.status).toBe(200);
  return { ...body, quotedPremiumFen: quoted.body.premiumFen };
}

const ordersOf = (customerId: string) => InsuranceOrder.find({ customerId }).lean();

beforeAll(async () => {
  world = await World.start();
});
afterAll(async () => {
  await world.stop();
});

describe('ordering the same thing twice', () => {
  it('a second identical order while the first is unpaid is that first order (a double tap pays once)', async () => {
    const { token, customerId } = await world.login();
    const body = await priced(criticalIllness(MOTHER, 50_000_000));
    const first = await world.api('POST', '/api/mp/orders', { token, body });
    const second = await world.api('POST', '/api/mp/orders', { token, body });
    expect(first.status).toBe(201);
    expect(second.body.orderNumber).toBe(first.body.orderNumber);
    expect(await ordersOf(customerId)).toHaveLength(1);

    // Paying "both" pays the one order: one policy.
    await world.api('POST', `/api/mp/orders/${first.body.orderNumber}/payment`, { token });
    expect((await world.pay.sendNotify(`${world.baseUrl}/wechat/pay/notify`, first.body.orderNumber)).status).toBe(204);
    expect(await Policy.countDocuments({ customerId })).toBe(1);
  });

  it('two identical orders at the same moment make one order', async () => {
    const { token, customerId } = await world.login();
    const body = await priced(criticalIllness(FATHER, 30_000_000));
    const both = await Promise.all([1, 2].map(() => world.api('POST', '/api/mp/orders', { token, body })));
    expect(both.map((r) => r.status)).toEqual([201, 201]);
    expect(both[1].body.orderNumber).toBe(both[0].body.orderNumber);
    expect(await ordersOf(customerId)).toHaveLength(1);
  });

  it('after a cancel the same order can be placed again, as a new order', async () => {
    const person = { name: '赵重来', idCard: idCardFor('1991-07-07', '157'), phone: '13600136000' };
    const { token } = await world.login();
    const body = await priced(criticalIllness(person, 10_000_000));
    const first = await world.api('POST', '/api/mp/orders', { token, body });
    expect((await world.api('POST', `/api/mp/orders/${first.body.orderNumber}/cancel`, { token })).body.status).toBe('closed');
    const again = await world.api('POST', '/api/mp/orders', { token, body });
    expect(again.status).toBe(201);
    expect(again.body.orderNumber).not.toBe(first.body.orderNumber);
  });
});

describe('the sum-insured cap by age holds per insured person, across policies and orders', () => {
  it('refuses a second 50万 for a 34-year-old who already has a 50万 policy of the product', async () => {
    const { token } = await world.login();
    // MOTHER's policy from the first test (50万) is in force.
    const again = await world.api('POST', '/api/mp/orders', { token, body: await priced(criticalIllness(MOTHER, 50_000_000)) });
    expect(again.status).toBe(422);
    expect(again.body.error).toMatchObject({
      code: 'sum_insured_cap_exceeded',
      details: { fields: ['sumInsuredFen'], capFen: 50_000_000, existingFen: 50_000_000, remainingFen: 0 },
    });
    expect(again.body.error.message).toContain('sumInsuredFen');
  });

  it('counts unpaid orders of other plans and other buyers for the same insured, and lets the rest be bought', async () => {
    const insuredPerson = { name: '钱保额', idCard: idCardFor('1992-02-02', '171'), phone: '13500135000' };
    const self = await world.login();
    const spouse = await world.login();
    const basic = await world.api('POST', '/api/mp/orders', { token: self.token, body: await priced(criticalIllness(insuredPerson, 30_000_000)) });
    expect(basic.status).toBe(201);
    // The spouse buys for the same person: 30万 more would make 60万.
    const bySpouse = await priced({
      ...criticalIllness(FATHER, 30_000_000, 'multi'),
      insured: { relation: 'spouse', name: insuredPerson.name, idCard: insuredPerson.idCard },
    });
    const refused = await world.api('POST', '/api/mp/orders', { token: spouse.token, body: bySpouse });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'sum_insured_cap_exceeded', details: { existingFen: 30_000_000, remainingFen: 20_000_000 } });
    const withinCap = await world.api('POST', '/api/mp/orders', { token: spouse.token, body: await priced({ ...bySpouse, sumInsuredFen: 20_000_000 }) });
    expect(withinCap.status).toBe(201);
  });

  it('two different orders at the same moment cannot both fit under the cap', async () => {
    const insuredPerson = { name: '孙并发', idCard: idCardFor('1993-03-03', '193'), phone: '13300133000' };
    const { token } = await world.login();
    const bodies = [await priced(criticalIllness(insuredPerson, 30_000_000, 'basic')), await priced(criticalIllness(insuredPerson, 30_000_000, 'multi'))];
    const answers = await Promise.all(bodies.map((body) => world.api('POST', '/api/mp/orders', { token, body })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 422]);
  });
});

describe('startDate and tripDays belong to trip products only', () => {
  const accident = {
    productId: 'accident',
    planId: 'basic',
    termId: 'one-year',
    sumInsuredFen: 10_000_000,
    policyholder: { name: '周意外', idCard: idCardFor('1985-08-08', '211'), phone: '13200132000' },
    insured: { relation: 'self' },
    beneficiary: { type: 'legal' },
    healthAnswers: { 'high-risk-occupation': false, disability: false },
  };

  it('a quote for an accident policy with a start date is a 400 naming startDate, not cover from tomorrow', async () => {
    const quoted = await world.api('POST', '/api/mp/quotes', { body: { ...quoteFrom(accident), startDate: '9999-12-31' } });
    expect(quoted.status).toBe(400);
    expect(quoted.body.error).toMatchObject({ code: 'field_not_applicable', details: { fields: ['startDate'] } });
    expect(quoted.body.error.message).toMatch(/^startDate: does not apply/);
    const days = await world.api('POST', '/api/mp/quotes', { body: { ...quoteFrom(accident), tripDays: 7 } });
    expect(days.body.error).toMatchObject({ code: 'field_not_applicable', details: { fields: ['tripDays'] } });
  });

  it('so is an order with one', async () => {
    const { token } = await world.login();
    const body = await priced(accident);
    const refused = await world.api('POST', '/api/mp/orders', { token, body: { ...body, startDate: '2025-06-01' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'field_not_applicable', details: { fields: ['startDate'] } });
    expect((await world.api('POST', '/api/mp/orders', { token, body })).status).toBe(201);
  });

  it('a trip product still takes both', async () => {
    const trip = { productId: 'travel', planId: 'asia', termId: 'trip', startDate: '2025-04-01', tripDays: 5, insured: { birthDate: '1985-01-01' } };
    const quoted = await world.api('POST', '/api/mp/quotes', { body: trip });
    expect(quoted.status).toBe(200);
    expect(quoted.body.cover).toEqual({ startsOn: '2025-04-01', endsOn: '2025-04-05' });
  });
});
