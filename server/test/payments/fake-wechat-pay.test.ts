import { generateKeyPairSync } from 'node:crypto';
import {
  buildAuthorization,
  buildRequestPaymentParams,
  createNonceStr,
  decryptNotifyResource,
  loadPrivateKey,
  loadPublicKey,
  paySignMessage,
  verifyMessage,
  verifyWechatpaySignature,
  type NotifyResource,
} from '../../src/payments/wechatpay/crypto';
import { startLoopbackServer, type FakeRequest, type LoopbackServer } from '../fakes/loopback-server';
import { FAKE_APIV3_KEY, FAKE_MCHID, FakeWechatPay } from '../fakes/wechat-pay';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys } from '../fixtures/wechat';

const merchantKey = loadPrivateKey(keys.merchantPrivatePem);
const merchantPublic = loadPublicKey(keys.merchantPublicPem);
const platformKeys = new Map([[PLATFORM_SERIAL, loadPublicKey(keys.platformPublicPem)]]);
const MP_APPID = 'wx4f4bc4dec97d474b';
const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

let fake: FakeWechatPay;
let receiver: LoopbackServer;
/** What "our server" accepted, and what it should answer next. */
let accepted: Record<string, unknown>[];
let scriptedStatuses: number[];

/** A minimal notify handler in the order of §5.5: verify (401), decrypt (400), then acknowledge (204). */
async function handleNotify(request: FakeRequest) {
  const scripted = scriptedStatuses.shift();
  if (scripted !== undefined) return { status: scripted, body: '{"code":"FAIL","message":"失败"}' };
  const check = verifyWechatpaySignature({ headers: request.headers, body: request.body, publicKeys: platformKeys, nowSeconds: Math.floor(Date.now() / 1000) });
  if (!check.ok) return { status: 401, body: JSON.stringify({ code: 'FAIL', message: check.reason }) };
  try {
    const envelope = JSON.parse(request.body.toString('utf8')) as { event_type: string; resource: NotifyResource };
    const plaintext = JSON.parse(decryptNotifyResource(FAKE_APIV3_KEY, envelope.resource)) as Record<string, unknown>;
    accepted.push({ event_type: envelope.event_type, associated_data: envelope.resource.associated_data, ...plaintext });
    return { status: 204 };
  } catch {
    return { status: 400, body: '{"code":"FAIL","message":"失败"}' };
  }
}

beforeEach(async () => {
  fake = await FakeWechatPay.start();
  receiver = await startLoopbackServer(handleNotify);
  accepted = [];
  scriptedStatuses = [];
});
afterEach(async () => {
  await fake.stop();
  await receiver.stop();
});

interface PayResponse {
  status: number;
  json: Record<string, unknown> | undefined;
  signatureOk: boolean;
  requestId: string | null;
}

/** What our Pay client will do: sign the exact bytes, send, verify the response signature. */
async function payRequest(
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
  tweak: { privateKey?: typeof merchantKey; timestamp?: string; sendBody?: string; signedPath?: string } = {},
): Promise<PayResponse> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const timestamp = tweak.timestamp ?? String(Math.floor(Date.now() / 1000));
  const authorization = buildAuthorization(
    { mchid: FAKE_MCHID, serialNo: MERCHANT_SERIAL, privateKey: tweak.privateKey ?? merchantKey },
    { method, pathAndQuery: tweak.signedPath ?? pathAndQuery, timestamp, nonce: createNonceStr(), body: text },
  );
  const response = await fetch(fake.baseUrl + pathAndQuery, {
    method,
    headers: { Authorization: authorization, Accept: 'application/json', 'Content-Type': 'application/json', 'User-Agent': 'cs-test' },
    body: method === 'GET' ? undefined : (tweak.sendBody ?? text),
    signal: AbortSignal.timeout(5_000),
  });
  const raw = Buffer.from(await response.arrayBuffer());
  const signatureOk = verifyWechatpaySignature({ headers: response.headers, body: raw, publicKeys: platformKeys, nowSeconds: Math.floor(Date.now() / 1000) }).ok;
  return {
    status: response.status,
    json: raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : undefined,
    signatureOk,
    requestId: response.headers.get('request-id'),
  };
}

const prepayBody = (outTradeNo: string, total = 100) => ({
  appid: MP_APPID,
  mchid: FAKE_MCHID,
  description: '意外险-年度保障',
  out_trade_no: outTradeNo,
  notify_url: `${receiver.baseUrl}/wechat/pay/notify`,
  amount: { total, currency: 'CNY' },
  payer: { openid: OPENID },
});

describe('fake WeChat Pay: a purchase end to end', () => {
  it('prepay → paySign → notify → query → refund → refund notify', async () => {
    const outTradeNo = 'POLICY20240501000001';
    const prepay = await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody(outTradeNo));
    expect(prepay).toMatchObject({ status: 200, signatureOk: true });
    expect(prepay.requestId).toMatch(/^fake-/);
    const prepayId = String(prepay.json?.prepay_id);
    expect(prepayId).toMatch(/^wx/);

    const params = buildRequestPaymentParams({ privateKey: merchantKey, appId: MP_APPID, prepayId });
    expect(params.package).toBe(`prepay_id=${prepayId}`);
    expect(verifyMessage(merchantPublic, paySignMessage({ appId: MP_APPID, ...params }), params.paySign)).toBe(true);

    const before = await payRequest('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${FAKE_MCHID}`);
    expect(before.json).toMatchObject({ trade_state: 'NOTPAY', out_trade_no: outTradeNo });

    const notify = await fake.sendNotify(`${receiver.baseUrl}/wechat/pay/notify`, outTradeNo);
    expect(notify.status).toBe(204);
    expect(accepted[0]).toMatchObject({
      event_type: 'TRANSACTION.SUCCESS',
      associated_data: 'transaction',
      mchid: FAKE_MCHID,
      appid: MP_APPID,
      out_trade_no: outTradeNo,
      trade_state: 'SUCCESS',
      amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
      payer: { openid: OPENID },
    });

    const after = await payRequest('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${FAKE_MCHID}`);
    expect(after.json).toMatchObject({ trade_state: 'SUCCESS', transaction_id: accepted[0].transaction_id });
    expect(after.signatureOk).toBe(true);

    const refund = await payRequest('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: outTradeNo,
      out_refund_no: `R${outTradeNo}`,
      reason: '犹豫期退保',
      notify_url: `${receiver.baseUrl}/wechat/pay/refund-notify`,
      amount: { refund: 100, total: 100, currency: 'CNY' },
    });
    expect(refund).toMatchObject({ status: 200, signatureOk: true, json: { status: 'PROCESSING', amount: { refund: 100, total: 100 } } });
    const again = await payRequest('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: outTradeNo,
      out_refund_no: `R${outTradeNo}`,
      amount: { refund: 100, total: 100, currency: 'CNY' },
    });
    expect(again.json?.refund_id).toBe(refund.json?.refund_id); // out_refund_no refunds once

    const refundNotify = await fake.sendRefundNotify(`${receiver.baseUrl}/wechat/pay/refund-notify`, `R${outTradeNo}`);
    expect(refundNotify.status).toBe(204);
    expect(accepted[1]).toMatchObject({ event_type: 'REFUND.SUCCESS', associated_data: 'refund', refund_status: 'SUCCESS', out_refund_no: `R${outTradeNo}` });
    const refundQuery = await payRequest('GET', `/v3/refund/domestic/refunds/R${outTradeNo}`);
    expect(refundQuery.json).toMatchObject({ status: 'SUCCESS' });
  });
});

describe('fake WeChat Pay: notifies our server must refuse', () => {
  const outTradeNo = 'POLICY20240501000002';
  beforeEach(async () => {
    await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody(outTradeNo));
  });

  it('a body tampered after signing → 401, nothing accepted, order not marked paid', async () => {
    const result = await fake.sendNotify(`${receiver.baseUrl}/n`, outTradeNo, { tamper: true });
    expect(result.status).toBe(401);
    expect(result.body).toContain('bad_signature');
    expect(accepted).toHaveLength(0);
    expect(fake.orders.get(outTradeNo)?.tradeState).toBe('NOTPAY');
  });

  it('a replayed timestamp (10 minutes old, correctly signed) → 401', async () => {
    const result = await fake.sendNotify(`${receiver.baseUrl}/n`, outTradeNo, { replayTimestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(result.status).toBe(401);
    expect(result.body).toContain('timestamp_out_of_window');
  });

  it('a WECHATPAY/SIGNTEST/ probe → 401', async () => {
    const result = await fake.sendNotify(`${receiver.baseUrl}/n`, outTradeNo, { signTest: true });
    expect(result.status).toBe(401);
    expect(result.request.headers['Wechatpay-Signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(accepted).toHaveLength(0);
  });

  it('overrides let a test present a mismatching amount for the business checks', async () => {
    const result = await fake.sendNotify(`${receiver.baseUrl}/n`, outTradeNo, { transaction: { total: 1 } });
    expect(result.status).toBe(204); // signature and decryption are fine; the amount check is the handler's job
    expect(accepted[0]).toMatchObject({ amount: { total: 1 } });
  });

  it('retries until acknowledged, like the real schedule (compressed)', async () => {
    scriptedStatuses = [500, 503];
    expect(await fake.sendNotifyUntilAcknowledged(`${receiver.baseUrl}/n`, outTradeNo, [5, 5, 5])).toEqual([500, 503, 204]);
    expect(accepted).toHaveLength(1);
  });
});

describe('fake WeChat Pay: it checks our requests (§5.1, §8)', () => {
  const outTradeNo = 'POLICY20240501000003';

  it('signed with another key → 401 SIGN_ERROR, and the error response is still signed', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const result = await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody(outTradeNo), { privateKey });
    expect(result).toMatchObject({ status: 401, signatureOk: true, json: { code: 'SIGN_ERROR' } });
    expect(fake.requests.at(-1)).toMatchObject({ authorized: false });
  });

  it('a timestamp more than 300 s off → 401', async () => {
    const result = await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody(outTradeNo), {
      timestamp: String(Math.floor(Date.now() / 1000) - 301),
    });
    expect(result.status).toBe(401);
  });

  it('a body that differs from the signed one → 401', async () => {
    const body = prepayBody(outTradeNo);
    const result = await payRequest('POST', '/v3/pay/transactions/jsapi', body, { sendBody: JSON.stringify(body, null, 1) });
    expect(result.status).toBe(401);
  });

  it('a query string that differs from the signed one → 401', async () => {
    const result = await payRequest('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${FAKE_MCHID}`, undefined, {
      signedPath: `/v3/pay/transactions/out-trade-no/${outTradeNo}`,
    });
    expect(result.status).toBe(401);
  });

  it('no Authorization at all → 401', async () => {
    const response = await fetch(`${fake.baseUrl}/v3/pay/transactions/jsapi`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(401);
  });
});

describe('fake WeChat Pay: order rules', () => {
  it('same out_trade_no and parameters is idempotent; different parameters → OUT_TRADE_NO_USED', async () => {
    const first = await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000004'));
    const second = await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000004'));
    expect(second.json?.prepay_id).toBe(first.json?.prepay_id);
    const changed = await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000004', 200));
    expect(changed).toMatchObject({ status: 400, json: { code: 'OUT_TRADE_NO_USED' } });
  });

  it('a paid order cannot be prepaid again or closed → ORDERPAID', async () => {
    await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000005'));
    await fake.sendNotify(`${receiver.baseUrl}/n`, 'POLICY20240501000005');
    expect((await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000005'))).json).toMatchObject({ code: 'ORDERPAID' });
    expect((await payRequest('POST', '/v3/pay/transactions/out-trade-no/POLICY20240501000005/close', { mchid: FAKE_MCHID })).json).toMatchObject({
      code: 'ORDERPAID',
    });
  });

  it('close answers 204 with a signed empty body', async () => {
    await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000006'));
    const closed = await payRequest('POST', '/v3/pay/transactions/out-trade-no/POLICY20240501000006/close', { mchid: FAKE_MCHID });
    expect(closed).toMatchObject({ status: 204, json: undefined, signatureOk: true });
    const query = await payRequest('GET', `/v3/pay/transactions/out-trade-no/POLICY20240501000006?mchid=${FAKE_MCHID}`);
    expect(query.json).toMatchObject({ trade_state: 'CLOSED' });
  });

  it.each([
    ['a float amount', { amount: { total: 1.5, currency: 'CNY' } }],
    ['a zero amount', { amount: { total: 0 } }],
    ['a bad out_trade_no', { out_trade_no: 'x' }],
    ['a notify_url with a query', { notify_url: 'https://example.com/notify?x=1' }],
    ['a foreign mchid', { mchid: '1900000000' }],
    ['no payer', { payer: {} }],
  ])('refuses %s → 400 PARAM_ERROR', async (_label, override) => {
    const result = await payRequest('POST', '/v3/pay/transactions/jsapi', { ...prepayBody('POLICY20240501000007'), ...override });
    expect(result).toMatchObject({ status: 400, json: { code: 'PARAM_ERROR' } });
  });

  it('refund rules: unpaid order, over-refund', async () => {
    await payRequest('POST', '/v3/pay/transactions/jsapi', prepayBody('POLICY20240501000008'));
    const unpaid = await payRequest('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: 'POLICY20240501000008',
      out_refund_no: 'RPOLICY08A',
      amount: { refund: 100, total: 100, currency: 'CNY' },
    });
    expect(unpaid.json).toMatchObject({ code: 'INVALID_REQUEST' });
    await fake.sendNotify(`${receiver.baseUrl}/n`, 'POLICY20240501000008');
    await payRequest('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: 'POLICY20240501000008',
      out_refund_no: 'RPOLICY08B',
      amount: { refund: 60, total: 100, currency: 'CNY' },
    });
    const over = await payRequest('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: 'POLICY20240501000008',
      out_refund_no: 'RPOLICY08C',
      amount: { refund: 60, total: 100, currency: 'CNY' },
    });
    expect(over.json).toMatchObject({ code: 'NOT_ENOUGH' });
  });

  it('an unknown order → 404 ORDER_NOT_EXIST', async () => {
    const result = await payRequest('GET', `/v3/pay/transactions/out-trade-no/NOPE000000?mchid=${FAKE_MCHID}`);
    expect(result).toMatchObject({ status: 404, json: { code: 'ORDER_NOT_EXIST' } });
  });
});
