import { InsuranceOrder } from '../../src/insurance/models';
import { useTestDatabase } from '../support/database';
import { FATHER, idCardFor, medicalOrderFor, MOTHER, withWrongCheckChar } from '../insurance/support/people';
import { World, type ApiResponse } from '../insurance/support/world';

useTestDatabase(__filename);

let world: World;
let token: string;

const CI_ORDER = {
  productId: 'critical-illness',
  planId: 'basic',
  termId: 'to-70',
  sumInsuredFen: 20_000_000,
  policyholder: MOTHER,
  insured: { relation: 'self' },
  healthAnswers: { 'hospitalized-2y': false, 'serious-illness': false, 'abnormal-checkup': false },
  // MOTHER is 34: band ≤35 is 950 fen per 1,000 yuan → 200 × 950.
  quotedPremiumFen: 190_000,
};

function expectFieldError(response: ApiResponse, status: number, field: string, code?: string): void {
  expect({ status: response.status, fields: response.body?.error?.details?.fields }).toEqual({ status, fields: expect.arrayContaining([field]) });
  expect(response.body.error.message).toContain(field);
  if (code) expect(response.body.error.code).toBe(code);
}

const order = (body: Record<string, unknown>) => world.api('POST', '/api/mp/orders', { token, body });

beforeAll(async () => {
  world = await World.start();
  ({ token } = await world.login());
});
afterAll(async () => {
  await world.stop();
});

describe('an order with bad input gets a 4xx naming the field', () => {
  it('accepts the well-formed order these cases vary', async () => {
    const ok = await order(CI_ORDER);
    expect(ok.status).toBe(201);
  });

  it('invalid ID card numbers and phone numbers', async () => {
    const badHolder = await order({ ...CI_ORDER, policyholder: { ...MOTHER, idCard: withWrongCheckChar(MOTHER.idCard) } });
    expectFieldError(badHolder, 400, 'policyholder.idCard', 'invalid_input');
    expect(badHolder.body.error.message).toContain('check character');
    expectFieldError(await order({ ...CI_ORDER, insured: { relation: 'spouse', name: '王守护', idCard: '11010519880230123X' } }), 400, 'insured.idCard');
    expectFieldError(await order({ ...CI_ORDER, policyholder: { ...MOTHER, phone: '1380013800' } }), 400, 'policyholder.phone');
    expectFieldError(await order({ ...CI_ORDER, insured: { relation: 'spouse', name: '王守护' } }), 400, 'insured.idCard');
  });

  it('an underage policyholder, an overage or too young insured', async () => {
    const teen = { name: '张小年', idCard: idCardFor('2008-06-01', '241'), phone: '13700137000' };
    expectFieldError(await order({ ...CI_ORDER, policyholder: teen, quotedPremiumFen: 70_000 }), 422, 'policyholder.idCard', 'policyholder_too_young');

    const grandfather = { relation: 'parent', name: '李长寿', idCard: idCardFor('1960-02-02', '151') };
    const old = await order({ ...CI_ORDER, insured: grandfather });
    expectFieldError(old, 422, 'insured', 'not_eligible');
    expect(old.body.error.details.reasons).toEqual([expect.objectContaining({ code: 'insured_too_old' })]);

    const tooYoung = await order({
      productId: 'children',
      planId: 'basic',
      termId: '20-years',
      sumInsuredFen: 10_000_000,
      policyholder: MOTHER,
      insured: { relation: 'child', name: '王小宝', idCard: idCardFor('2025-03-01', '146') },
      healthAnswers: { 'premature-birth': false, 'hospitalized-2y': false, congenital: false },
      quotedPremiumFen: 28_000,
    });
    expectFieldError(tooYoung, 422, 'insured', 'not_eligible');
    expect(tooYoung.body.error.details.reasons[0].code).toBe('insured_too_young');
  });

  it('missing or disqualifying health answers', async () => {
    const missing = await order({ ...CI_ORDER, healthAnswers: { 'hospitalized-2y': false } });
    expectFieldError(missing, 400, 'healthAnswers.serious-illness', 'health_answers_missing');
    expect(missing.body.error.details.fields).toEqual(['healthAnswers.serious-illness', 'healthAnswers.abnormal-checkup']);
    expectFieldError(await order({ ...CI_ORDER, healthAnswers: { ...CI_ORDER.healthAnswers, 'abnormal-checkup': 'no' } }), 400, 'healthAnswers.abnormal-checkup');
    expectFieldError(await order({ ...CI_ORDER, healthAnswers: { ...CI_ORDER.healthAnswers, 'serious-illness': true } }), 422, 'healthAnswers.serious-illness', 'not_eligible');
    expectFieldError(await order({ ...CI_ORDER, healthAnswers: { ...CI_ORDER.healthAnswers, smoker: false } }), 400, 'healthAnswers.smoker');
  });

  it('a premium that is not the quoted one, or not money in fen', async () => {
    const wrong = await order({ ...CI_ORDER, quotedPremiumFen: 100 });
    expectFieldError(wrong, 409, 'quotedPremiumFen', 'premium_changed');
    expect(wrong.body.error.details.premiumFen).toBe(190_000);
    expectFieldError(await order({ ...CI_ORDER, quotedPremiumFen: 1900.5 }), 400, 'quotedPremiumFen');
    expectFieldError(await order({ ...CI_ORDER, sumInsuredFen: 12_345_678 }), 400, 'sumInsuredFen');
  });

  it('an unknown product, plan or field', async () => {
    expectFieldError(await order({ ...CI_ORDER, productId: 'car' }), 400, 'productId', 'unknown_product');
    expectFieldError(await world.api('POST', '/api/mp/quotes', { body: { productId: 'car', planId: 'a', termId: 'b', insured: { birthDate: '1990-01-01' } } }), 400, 'productId');
    expectFieldError(await order({ ...CI_ORDER, planId: 'platinum' }), 400, 'planId');
    expect((await world.api('GET', '/api/mp/products/car')).status).toBe(404);
    const extra = await order({ ...CI_ORDER, discountFen: 100 });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toContain('discountFen');
  });

  it('relations and beneficiaries the product does not allow', async () => {
    const childProductForSelf = {
      productId: 'children',
      planId: 'basic',
      termId: '20-years',
      sumInsuredFen: 10_000_000,
      policyholder: MOTHER,
      insured: { relation: 'self' },
      healthAnswers: { 'premature-birth': false, 'hospitalized-2y': false, congenital: false },
      quotedPremiumFen: 28_000,
    };
    expectFieldError(await order(childProductForSelf), 422, 'insured.relation', 'relation_not_allowed');
    expectFieldError(await order({ ...CI_ORDER, insured: { relation: 'child', name: '王守护', idCard: FATHER.idCard } }), 422, 'insured.relation', 'relation_implausible');
    const spouse = { name: '王守护', idCard: FATHER.idCard, relation: 'spouse', sharePercent: 90 };
    expectFieldError(await order({ ...CI_ORDER, beneficiary: { type: 'designated', people: [spouse] } }), 400, 'beneficiary.people');
    const medical = {
      ...medicalOrderFor(MOTHER),
      quotedPremiumFen: 33_000,
      beneficiary: { type: 'designated', people: [{ ...spouse, sharePercent: 100 }] },
    };
    expectFieldError(await order(medical), 400, 'beneficiary.type');
  });

  it('a body that is not JSON, a quote without the insured, an order without a session', async () => {
    const notJson = await fetch(`${world.baseUrl}/api/mp/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"productId":',
    });
    expect(notJson.status).toBe(400);
    expectFieldError(await world.api('POST', '/api/mp/quotes', { body: { productId: 'medical', planId: 'standard', termId: 'one-year', insured: {} } }), 400, 'insured.birthDate');
    expect((await world.api('POST', '/api/mp/orders', { body: CI_ORDER })).status).toBe(401);
    expectFieldError(await world.api('POST', '/api/mp/session', { body: {} }), 400, 'code');
    expectFieldError(await world.api('POST', '/api/mp/session', { body: { code: 'never-issued' } }), 401, 'code', 'invalid_login_code');
  });

  it('stored only the one good order', async () => {
    expect(await InsuranceOrder.countDocuments({})).toBe(1);
  });
});
