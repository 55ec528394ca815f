import { InsuranceOrder, Policy } from '../../src/insurance/models';
import { FAKE_MINI_PROGRAM } from '../fakes/wechat-api';
import { useTestDatabase } from '../support/database';
import { idCardFor, medicalOrderFor, MOTHER } from '../insurance/support/people';
import { NOTIFY_URL, paySignVerifies, quoteFrom, TEMPLATES, World } from '../insurance/support/world';

useTestDatabase(__filename);

const DAY = 86_400_000;
const NEWBORN = { name: '王小安', idCard: idCardFor('2025-01-09', '136') };
/** A mother insures her two-month-old: 少儿重疾, 30万, 20 years, 15-day cooling-off period. */
const CHILD_ORDER = {
  productId: 'children',
  planId: 'basic',
  termId: '20-years',
  sumInsuredFen: 30_000_000,
  policyholder: MOTHER,
  insured: { relation: 'child', ...NEWBORN },
  beneficiary: { type: 'legal' },
  healthAnswers: { 'premature-birth': false, 'hospitalized-2y': false, congenital: false },
};
const MEDICAL_ORDER = medicalOrderFor(MOTHER);

let world: World;
let mother: { token: string; openId: string };
const notifyUrl = () => `${world.baseUrl}/wechat/pay/notify`;

/** An order prepaid at the fake, not yet notified. */
async function prepaidOrder(body: Record<string, unknown> = CHILD_ORDER): Promise<string> {
  const quoted = await world.api('POST', '/api/mp/quotes', { body: quoteFrom(body) });
  const created = await world.api('POST', '/api/mp/orders', { token: mother.token, body: { ...body, quotedPremiumFen: quoted.body.premiumFen } });
  expect(created.status).toBe(201);
  const paying = await world.api('POST', `/api/mp/orders/${created.body.orderNumber}/payment`, { token: mother.token });
  expect(paying.status).toBe(200);
  return created.body.orderNumber;
}

beforeAll(async () => {
  world = await World.start();
  mother = await world.login();
});
afterAll(async () => {
  await world.stop();
});

describe('purchase through WeChat Pay (fake): quote → order → prepay → notify → policy', () => {
  let orderNumber: string;
  let policyNumber: string;

  it('walks the whole purchase and issues the policy once paid', async () => {
    const quoted = await world.api('POST', '/api/mp/quotes', { body: quoteFrom(CHILD_ORDER) });
    expect(quoted.status).toBe(200);
    expect(quoted.body).toMatchObject({ eligible: true, premiumFen: 84_000, currency: 'CNY', coolingOffDays: 15 });

    const created = await world.api('POST', '/api/mp/orders', { token: mother.token, body: { ...CHILD_ORDER, quotedPremiumFen: 84_000 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'created', premiumFen: 84_000, insured: { name: '王小安', relation: 'child' } });
    expect(created.body.policyholder.idCard).toMatch(/^1101\*{10}\d{3}[\dX]$/);
    orderNumber = created.body.orderNumber;
    expect(orderNumber).toMatch(/^AXO\d{14}[0-9A-F]{8}$/);

    const paying = await world.api('POST', `/api/mp/orders/${orderNumber}/payment`, { token: mother.token });
    expect(paying.status).toBe(200);
    const params = paying.body.requestPayment;
    expect(params).toMatchObject({ signType: 'RSA', timeStamp: String(Math.floor(world.now.getTime() / 1000)) });
    expect(params.package).toMatch(/^prepay_id=wx/);
    expect(paySignVerifies(params)).toBe(true);
    expect(paying.body.order.status).toBe('paying');

    // What WeChat Pay received: signed (the fake verified it), our MP appid, the session's openid, the premium.
    const atPay = world.pay.orders.get(orderNumber);
    expect(atPay?.request).toMatchObject({
      appid: FAKE_MINI_PROGRAM.appId,
      amount: { total: 84_000, currency: 'CNY' },
      payer: { openid: mother.openId },
      notify_url: NOTIFY_URL,
    });
    expect(world.pay.requests.every((r) => r.authorized)).toBe(true);

    // Asking again reuses the prepay: no second order at WeChat Pay.
    const again = await world.api('POST', `/api/mp/orders/${orderNumber}/payment`, { token: mother.token });
    expect(again.body.requestPayment.package).toBe(params.package);
    expect(world.pay.requests.filter((r) => r.path === '/v3/pay/transactions/jsapi')).toHaveLength(1);

    const notified = await world.pay.sendNotify(notifyUrl(), orderNumber);
    expect(notified.status).toBe(204);

    const order = await world.api('GET', `/api/mp/orders/${orderNumber}`, { token: mother.token });
    expect(order.body).toMatchObject({ status: 'issued', statusLabel: '已出单' });
    policyNumber = order.body.policyNumber;
    expect(policyNumber).toBe(`AXP${orderNumber.slice(3)}`);

    const policies = await world.api('GET', '/api/mp/policies', { token: mother.token });
    expect(policies.body.items).toEqual([
      expect.objectContaining({ policyNumber, productId: 'children', insuredName: '王小安', status: 'pending', startsOn: '2025-03-11', endsOn: '2045-03-10' }),
    ]);
    const detail = await world.api('GET', `/api/mp/policies/${policyNumber}`, { token: mother.token });
    expect(detail.body).toMatchObject({
      sumInsuredFen: 30_000_000,
      premiumFen: 84_000,
      insured: { name: '王小安', relationLabel: '子女' },
      coolingOff: { canSurrender: true, endsAt: '2025-03-25T16:00:00.000Z' },
      waitingPeriodDays: 90,
    });
    expect(detail.body.insured.idCard).not.toContain('20250109');

    await world.insurance.notices.settled();
    const notices = world.subscriptionMessages(TEMPLATES.policyIssued);
    expect(notices).toHaveLength(1);
    expect(notices[0].body).toMatchObject({ touser: mother.openId, data: { character_string2: { value: policyNumber }, amount4: { value: '¥840.00' } } });
  });

  it('issues nothing twice when WeChat Pay resends the notify', async () => {
    for (let i = 0; i < 2; i += 1) expect((await world.pay.sendNotify(notifyUrl(), orderNumber)).status).toBe(204);
    expect(await Policy.countDocuments({ orderId: orderNumber })).toBe(1);
    const order = await InsuranceOrder.findById(orderNumber).lean();
    expect(order?.history.map((h) => h.to)).toEqual(['created', 'paying', 'paid', 'issued']);
    await world.insurance.notices.settled();
    expect(world.subscriptionMessages(TEMPLATES.policyIssued)).toHaveLength(1);
  });

  it('refunds in full on surrender inside the cooling-off period', async () => {
    world.advance(3 * DAY);
    const surrendered = await world.api('POST', `/api/mp/policies/${policyNumber}/surrender`, { token: mother.token, body: { reason: '家里已有保障' } });
    expect(surrendered.status).toBe(200);
    expect(surrendered.body.policy).toMatchObject({ status: 'surrendered', statusLabel: '已退保' });
    expect(surrendered.body.order).toMatchObject({ status: 'refunding', refund: { status: 'PROCESSING', amountFen: 84_000 } });
    const refund = world.pay.refunds.get(`R${orderNumber}`);
    expect(refund).toMatchObject({ out_trade_no: orderNumber, amount: { refund: 84_000, total: 84_000 } });

    const refundNotified = await world.pay.sendRefundNotify(`${world.baseUrl}/wechat/pay/refund-notify`, `R${orderNumber}`);
    expect(refundNotified.status).toBe(204);
    const order = await world.api('GET', `/api/mp/orders/${orderNumber}`, { token: mother.token });
    expect(order.body).toMatchObject({ status: 'refunded', refund: { status: 'SUCCESS' } });

    // Again: nothing more to refund; a resent refund notify changes nothing.
    expect((await world.api('POST', `/api/mp/policies/${policyNumber}/surrender`, { token: mother.token })).body.error.code).toBe('already_surrendered');
    expect((await world.pay.sendRefundNotify(`${world.baseUrl}/wechat/pay/refund-notify`, `R${orderNumber}`)).status).toBe(204);
    expect(world.pay.refunds.size).toBe(1);
  });
});

describe('notifies that must be refused', () => {
  let orderNumber: string;
  beforeAll(async () => {
    orderNumber = await prepaidOrder();
  });

  it('refuses a tampered body, a SIGNTEST probe and a notify outside ±300 s, and changes nothing', async () => {
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber, { tamper: true })).status).toBe(401);
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber, { signTest: true })).status).toBe(401);
    const nowSeconds = Math.floor(world.now.getTime() / 1000);
    const stale = await world.pay.sendNotify(notifyUrl(), orderNumber, { replayTimestamp: nowSeconds - 301 });
    expect(stale).toMatchObject({ status: 401, body: '{"code":"FAIL","message":"失败"}' });
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber, { replayTimestamp: nowSeconds + 400 })).status).toBe(401);
    expect((await InsuranceOrder.findById(orderNumber).lean())?.status).toBe('paying');
    expect(await Policy.countDocuments({ orderId: orderNumber })).toBe(0);
  });

  it('refuses a wrong amount, an unknown order and another app, and changes nothing', async () => {
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber, { transaction: { total: 1 } })).status).toBe(400);
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber, { transaction: { out_trade_no: 'AXO20250310100000DEADBEEF' } })).status).toBe(400);
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber, { transaction: { appid: 'wx0000000000000000' } })).status).toBe(400);
    expect((await InsuranceOrder.findById(orderNumber).lean())?.status).toBe('paying');
    expect(await Policy.countDocuments({ orderId: orderNumber })).toBe(0);
  });

  it('refuses a captured genuine notify replayed ten minutes later', async () => {
    const genuine = await world.pay.sendNotify(notifyUrl(), orderNumber);
    expect(genuine.status).toBe(204);
    expect(await Policy.countDocuments({ orderId: orderNumber })).toBe(1);
    world.advance(10 * 60_000);
    const replayed = await fetch(notifyUrl(), { method: 'POST', headers: genuine.request.headers, body: genuine.request.body });
    expect(replayed.status).toBe(401);
    expect(await Policy.countDocuments({ orderId: orderNumber })).toBe(1);
  });
});

describe('surrender outside a cooling-off period', () => {
  it('has no full refund after the 犹豫期 or for products without one', async () => {
    const late = await world.buy(mother.token, CHILD_ORDER);
    const medical = await world.buy(mother.token, MEDICAL_ORDER);
    world.advance(17 * DAY);
    mother = await world.login({ openId: mother.openId }); // a week idle ends the session
    const afterPeriod = await world.api('POST', `/api/mp/policies/${late.policyNumber}/surrender`, { token: mother.token });
    expect(afterPeriod.status).toBe(409);
    expect(afterPeriod.body.error.code).toBe('cooling_off_period_over');
    const none = await world.api('POST', `/api/mp/policies/${medical.policyNumber}/surrender`, { token: mother.token });
    expect(none.body.error.code).toBe('no_cooling_off_period');
    expect((await world.api('GET', `/api/mp/policies/${late.policyNumber}`, { token: mother.token })).body.status).toBe('in_force');
    expect(world.pay.refunds.has(`R${late.orderNumber}`)).toBe(false);
  });
});

describe('unpaid orders', () => {
  it('cancels at WeChat Pay first, then cannot be paid', async () => {
    const orderNumber = await prepaidOrder(MEDICAL_ORDER);
    const cancelled = await world.api('POST', `/api/mp/orders/${orderNumber}/cancel`, { token: mother.token });
    expect(cancelled.body.status).toBe('closed');
    expect(world.pay.orders.get(orderNumber)?.tradeState).toBe('CLOSED');
    const pay = await world.api('POST', `/api/mp/orders/${orderNumber}/payment`, { token: mother.token });
    expect(pay).toMatchObject({ status: 409, body: { error: { code: 'order_not_payable' } } });
  });

  it('still issues the policy when WeChat Pay reports a payment made before its close took effect (late notify)', async () => {
    const orderNumber = await prepaidOrder(MEDICAL_ORDER);
    expect((await world.api('POST', `/api/mp/orders/${orderNumber}/cancel`, { token: mother.token })).body.status).toBe('closed');
    const atPay = world.pay.orders.get(orderNumber);
    if (!atPay) throw new Error('fake lost the order');
    atPay.tradeState = 'NOTPAY'; // the money was taken all the same: the notify says SUCCESS
    expect((await world.pay.sendNotify(notifyUrl(), orderNumber)).status).toBe(204);
    const order = await InsuranceOrder.findById(orderNumber).lean();
    expect(order?.status).toBe('issued');
    expect(order?.history.map((h) => h.to)).toEqual(['created', 'paying', 'closed', 'paid', 'issued']);
    expect(await Policy.countDocuments({ orderId: orderNumber })).toBe(1);
  });

  it('closes orders left unpaid, and issues the ones WeChat Pay says were paid (lost notify)', async () => {
    const unpaid = await prepaidOrder(MEDICAL_ORDER);
    // Another purchase (an identical one would be the same order).
    const paidSilently = await prepaidOrder({ ...MEDICAL_ORDER, options: { socialInsurance: 'no' } });
    const atPay = world.pay.orders.get(paidSilently);
    if (!atPay) throw new Error('fake lost the order');
    Object.assign(atPay, { tradeState: 'SUCCESS', transactionId: '4200000000000000000000000999', successTime: '2025-04-01T10:00:00+08:00' });
    world.advance(3 * 3_600_000);
    const result = await world.insurance.purchases.closeExpiredOrders();
    expect(result).toEqual({ closed: 1, paidLate: 1 });
    expect((await InsuranceOrder.findById(unpaid).lean())?.status).toBe('closed');
    expect((await InsuranceOrder.findById(paidSilently).lean())?.status).toBe('issued');
  });
});
