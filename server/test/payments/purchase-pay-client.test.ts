import { generateKeyPairSync } from 'node:crypto';
import { WechatPayApiError, WechatPayClient, WechatPayTransportError } from '../../src/payments/client';
import { chinaRfc3339 } from '../../src/payments/gateway';
import { loadPrivateKey, loadPublicKey } from '../../src/payments/wechatpay/crypto';
import { FakeWechatPay } from '../fakes/wechat-pay';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys } from '../fixtures/wechat';

const merchantPrivateKey = loadPrivateKey(keys.merchantPrivatePem);
const platformPublicKeys = new Map([[PLATFORM_SERIAL, loadPublicKey(keys.platformPublicPem)]]);
const PREPAY = {
  appid: 'wx4f4bc4dec97d474b',
  description: '安心保·百万医疗险 标准版',
  outTradeNo: 'AXO20250310100000A1B2C3D4',
  notifyUrl: 'https://cs.example.com/wechat/pay/notify',
  totalFen: 24_000,
  payerOpenId: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  timeExpire: '2025-03-10T12:00:00+08:00',
};

let fake: FakeWechatPay;
const client = (overrides: Partial<ConstructorParameters<typeof WechatPayClient>[0]> = {}) =>
  new WechatPayClient({ baseUrl: fake.baseUrl, mchid: fake.mchid, merchantSerialNo: MERCHANT_SERIAL, merchantPrivateKey, platformPublicKeys, ...overrides });

beforeAll(async () => {
  fake = await FakeWechatPay.start();
});
afterAll(async () => {
  await fake.stop();
});

describe('WeChat Pay v3 client against the fake', () => {
  it('signs requests the fake accepts, and prepays idempotently per order number', async () => {
    const first = await client().jsapiPrepay(PREPAY);
    expect(first.prepayId).toMatch(/^wx/);
    expect(await client().jsapiPrepay(PREPAY)).toEqual(first);
    expect(fake.requests.every((r) => r.authorized)).toBe(true);
    await expect(client().jsapiPrepay({ ...PREPAY, totalFen: 1 })).rejects.toMatchObject({ code: 'OUT_TRADE_NO_USED', status: 400 });
    expect(await client().queryOrder(PREPAY.outTradeNo)).toMatchObject({ trade_state: 'NOTPAY', amount: { total: 24_000 } });
  });

  it('believes no answer it cannot verify with the platform key', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    await expect(client({ platformPublicKeys: new Map([[PLATFORM_SERIAL, otherKey]]) }).queryOrder(PREPAY.outTradeNo)).rejects.toMatchObject({
      code: 'bad_signature',
    });
    await expect(client({ platformPublicKeys: new Map() }).queryOrder(PREPAY.outTradeNo)).rejects.toBeInstanceOf(WechatPayTransportError);
  });

  it('reports a refused signature as an API error, and an unreachable host as transport', async () => {
    const otherMerchant = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const refused = client({ merchantPrivateKey: otherMerchant }).queryOrder(PREPAY.outTradeNo);
    await expect(refused).rejects.toBeInstanceOf(WechatPayApiError);
    await expect(refused).rejects.toMatchObject({ status: 401, code: 'SIGN_ERROR' });
    await expect(client({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 500 }).queryOrder('x')).rejects.toMatchObject({ code: 'network' });
  });

  it('writes time_expire in China time', () => {
    expect(chinaRfc3339(new Date('2025-03-10T02:00:00Z'))).toBe('2025-03-10T10:00:00+08:00');
  });
});
