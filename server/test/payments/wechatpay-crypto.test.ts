import { createHash } from 'node:crypto';
import {
  WechatPayCryptoError,
  buildAuthorization,
  buildRequestPaymentParams,
  createNonceStr,
  createPaySign,
  decryptAeadAesGcm,
  decryptNotifyResource,
  encryptAeadAesGcm,
  encryptNotifyResource,
  isTimestampWithinWindow,
  loadPrivateKey,
  loadPublicKey,
  parseAuthorization,
  paySignMessage,
  requestSignatureMessage,
  responseSignatureMessage,
  signMessage,
  signWechatpayResponse,
  unixSecondsString,
  verifyMessage,
  verifyWechatpaySignature,
  type NotifyResource,
} from '../../src/payments/wechatpay/crypto';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys, pay, spec } from '../fixtures/wechat';
import { buildSignedNotify } from '../fakes/wechat-pay';

const merchantKey = loadPrivateKey(keys.merchantPrivatePem);
const merchantPublic = loadPublicKey(keys.merchantPublicPem);
const platformKey = loadPrivateKey(keys.platformPrivatePem);
const platformPublic = loadPublicKey(keys.platformPublicPem);
const platformKeys = new Map([[PLATFORM_SERIAL, platformPublic]]);
const merchant = { mchid: '1230000109', serialNo: MERCHANT_SERIAL, privateKey: merchantKey };
const TS = '1554208460';
const NONCE = '593BEC0C930BF1AFEB40B4A08C8FB242';
const NOTIFY_NOW = 1554209980;

describe('request signatures (§5.1)', () => {
  it('P0: the official wechatpay-go anchor sign(KM, "source")', () => {
    expect(signMessage(merchantKey, spec.P0.message)).toBe(spec.P0.signature);
    expect(verifyMessage(merchantPublic, spec.P0.message, spec.P0.signature)).toBe(true);
  });

  it('P1: GET /v3/certificates message ends with "\\n\\n" and signs to the vector', () => {
    const message = requestSignatureMessage({ method: 'GET', pathAndQuery: '/v3/certificates', timestamp: TS, nonce: NONCE });
    expect(message).toBe(pay.req_get_certificates.message);
    expect(signMessage(merchantKey, message)).toBe(pay.req_get_certificates.signature);
  });

  it('P2: JSAPI prepay POST, the exact body bytes, and the full Authorization header', () => {
    expect(Buffer.byteLength(pay.req_jsapi.body)).toBe(pay.req_jsapi.body_len);
    expect(createHash('sha256').update(pay.req_jsapi.body).digest('hex')).toBe(pay.req_jsapi.body_sha256);
    const request = { method: 'post', pathAndQuery: '/v3/pay/transactions/jsapi', timestamp: TS, nonce: NONCE, body: pay.req_jsapi.body };
    expect(requestSignatureMessage(request)).toBe(pay.req_jsapi.message);
    expect(signMessage(merchantKey, pay.req_jsapi.message)).toBe(pay.req_jsapi.signature);
    expect(buildAuthorization(merchant, request)).toBe(pay.req_jsapi.authorization);
  });

  it('P3: GET with a query string signs path and query exactly', () => {
    const message = requestSignatureMessage({
      method: 'GET',
      pathAndQuery: '/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109',
      timestamp: TS,
      nonce: NONCE,
    });
    expect(message).toBe(pay.req_query.message);
    expect(signMessage(merchantKey, message)).toBe(pay.req_query.signature);
  });

  it('parses an Authorization header back into its parts, in any order', () => {
    expect(parseAuthorization(pay.req_jsapi.authorization)).toEqual({
      mchid: '1230000109',
      nonceStr: NONCE,
      signature: pay.req_jsapi.signature,
      timestamp: TS,
      serialNo: MERCHANT_SERIAL,
    });
    const reordered = `WECHATPAY2-SHA256-RSA2048 serial_no="S",timestamp="1",signature="c2ln",nonce_str="N",mchid="M"`;
    expect(parseAuthorization(reordered)).toEqual({ mchid: 'M', nonceStr: 'N', signature: 'c2ln', timestamp: '1', serialNo: 'S' });
  });

  it.each([
    ['missing', undefined],
    ['another scheme', 'Bearer abc'],
    ['a missing parameter', 'WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="1"'],
    ['a repeated parameter', 'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="2",nonce_str="n",signature="s",timestamp="1",serial_no="x"'],
    ['trailing junk', `${pay.req_jsapi.authorization} junk`],
  ])('refuses an Authorization header that is %s', (_label, header) => {
    expect(parseAuthorization(header)).toBeUndefined();
  });

  it('nonce and timestamp helpers have the documented shapes', () => {
    expect(createNonceStr()).toMatch(/^[0-9A-F]{32}$/);
    expect(createNonceStr()).not.toBe(createNonceStr());
    expect(unixSecondsString(1554208460_999)).toBe('1554208460');
  });
});

describe('response and notify verification (§5.2)', () => {
  const p4Headers = {
    'Wechatpay-Timestamp': '1554209980',
    'Wechatpay-Nonce': 'c5ac7061fccab6bf3e254dcf98995b8c',
    'Wechatpay-Serial': PLATFORM_SERIAL,
    'Wechatpay-Signature': pay.resp_jsapi.signature,
  };

  it('P4: the prepay response signed by KP verifies at the vector time', () => {
    expect(responseSignatureMessage('1554209980', 'c5ac7061fccab6bf3e254dcf98995b8c', pay.resp_jsapi.body).toString('utf8')).toBe(
      pay.resp_jsapi.message,
    );
    expect(signMessage(platformKey, pay.resp_jsapi.message)).toBe(pay.resp_jsapi.signature);
    expect(verifyWechatpaySignature({ headers: p4Headers, body: pay.resp_jsapi.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW })).toEqual({
      ok: true,
      serial: PLATFORM_SERIAL,
    });
  });

  it('P6: the notify verifies with KP, reading lower-cased Node headers and a Buffer body', () => {
    const headers = Object.fromEntries(Object.entries(pay.notify.headers).map(([name, value]) => [name.toLowerCase(), value]));
    const result = verifyWechatpaySignature({ headers, body: Buffer.from(pay.notify.body, 'utf8'), publicKeys: platformKeys, nowSeconds: NOTIFY_NOW });
    expect(result.ok).toBe(true);
  });

  it('P6 accepts a fetch Headers object too', () => {
    const result = verifyWechatpaySignature({ headers: new Headers(pay.notify.headers), body: pay.notify.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW });
    expect(result.ok).toBe(true);
  });

  it('P6 verified with the merchant key (KM) instead of KP fails', () => {
    const wrongKeys = new Map([[PLATFORM_SERIAL, merchantPublic]]);
    expect(verifyWechatpaySignature({ headers: pay.notify.headers, body: pay.notify.body, publicKeys: wrongKeys, nowSeconds: NOTIFY_NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('a WECHATPAY/SIGNTEST/ probe fails verification like any forgery, with no special case', () => {
    const headers = { ...pay.notify.headers, 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/example' };
    expect(verifyWechatpaySignature({ headers, body: pay.notify.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const base64Probe = { ...pay.notify.headers, 'Wechatpay-Signature': `WECHATPAY/SIGNTEST/${Buffer.alloc(256, 1).toString('base64')}` };
    expect(verifyWechatpaySignature({ headers: base64Probe, body: pay.notify.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW }).ok).toBe(false);
  });

  it('a body changed by one byte fails', () => {
    const tampered = pay.notify.body.replace('"summary":"支付成功"', '"summary":"支付成功 "');
    expect(verifyWechatpaySignature({ headers: pay.notify.headers, body: tampered, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('a re-serialized body (JSON.stringify of the parse) is not what was signed when bytes differ', () => {
    const pretty = JSON.stringify(JSON.parse(pay.notify.body), null, 1);
    expect(verifyWechatpaySignature({ headers: pay.notify.headers, body: pretty, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW }).ok).toBe(false);
  });

  it.each([
    ['Wechatpay-Timestamp'],
    ['Wechatpay-Nonce'],
    ['Wechatpay-Serial'],
    ['Wechatpay-Signature'],
  ])('a missing %s header → missing_header', (name) => {
    const headers: Record<string, string> = { ...pay.notify.headers };
    delete headers[name];
    expect(verifyWechatpaySignature({ headers, body: pay.notify.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW })).toEqual({
      ok: false,
      reason: 'missing_header',
    });
  });

  it('a 2xx without any signature headers is treated as forged', () => {
    expect(verifyWechatpaySignature({ headers: {}, body: '', publicKeys: platformKeys, nowSeconds: NOTIFY_NOW }).ok).toBe(false);
  });

  it('a repeated signature header is refused rather than guessed', () => {
    const headers = { ...pay.notify.headers, 'Wechatpay-Signature': [pay.notify.headers['Wechatpay-Signature'], 'x'] };
    expect(verifyWechatpaySignature({ headers, body: pay.notify.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW }).ok).toBe(false);
  });

  it('an unknown serial → unknown_serial', () => {
    const headers = { ...pay.notify.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_UNKNOWN' };
    expect(verifyWechatpaySignature({ headers, body: pay.notify.body, publicKeys: platformKeys, nowSeconds: NOTIFY_NOW })).toEqual({
      ok: false,
      reason: 'unknown_serial',
    });
  });

  it('outside ±300 s → timestamp_out_of_window, checked before the signature', () => {
    for (const nowSeconds of [NOTIFY_NOW + 301, NOTIFY_NOW - 301, Math.floor(Date.now() / 1000)]) {
      expect(verifyWechatpaySignature({ headers: pay.notify.headers, body: pay.notify.body, publicKeys: platformKeys, nowSeconds })).toEqual({
        ok: false,
        reason: 'timestamp_out_of_window',
      });
    }
    for (const nowSeconds of [NOTIFY_NOW + 300, NOTIFY_NOW - 300]) {
      expect(verifyWechatpaySignature({ headers: pay.notify.headers, body: pay.notify.body, publicKeys: platformKeys, nowSeconds }).ok).toBe(true);
    }
  });

  it('isTimestampWithinWindow refuses non-numeric timestamps', () => {
    expect(isTimestampWithinWindow('1554209980', NOTIFY_NOW)).toBe(true);
    expect(isTimestampWithinWindow('1554209980.5', NOTIFY_NOW)).toBe(false);
    expect(isTimestampWithinWindow('-1', NOTIFY_NOW)).toBe(false);
    expect(isTimestampWithinWindow('', NOTIFY_NOW)).toBe(false);
    expect(isTimestampWithinWindow('1554209980', NOTIFY_NOW + 60, 30)).toBe(false);
  });

  it('an empty body (204) is signed as "ts\\nnonce\\n\\n"', () => {
    const headers = signWechatpayResponse({ privateKey: platformKey, serial: PLATFORM_SERIAL, timestamp: '1554209980', nonce: 'n', body: '' });
    expect(responseSignatureMessage('1554209980', 'n', '').toString()).toBe('1554209980\nn\n\n');
    expect(verifyWechatpaySignature({ headers, body: '', publicKeys: platformKeys, nowSeconds: NOTIFY_NOW }).ok).toBe(true);
  });
});

describe('AEAD_AES_256_GCM (§5.5)', () => {
  it('G1: official wechatpay-go vector (16-byte key, so AES-128-GCM)', () => {
    const { key, nonce, associatedData, ciphertext, plaintext } = spec.G1;
    expect(decryptAeadAesGcm({ key, nonce, associatedData, ciphertext })).toBe(plaintext);
  });

  it.each(spec.G2.cases.map((c) => [c.plaintext === '' ? 'empty' : c.plaintext, c] as const))(
    'G2 (%s): wechatpay-axios-plugin vector, 16-byte IV, both directions',
    (_label, c) => {
      const input = { key: spec.G2.key, nonce: spec.G2.nonce, associatedData: c.associatedData };
      expect(encryptAeadAesGcm({ ...input, plaintext: c.plaintext })).toBe(c.ciphertext);
      expect(decryptAeadAesGcm({ ...input, ciphertext: c.ciphertext })).toBe(c.plaintext);
    },
  );

  const resource = (): NotifyResource => (JSON.parse(pay.notify.body) as { resource: NotifyResource }).resource;

  it('P6: decrypts the notify resource to the §5.5 transaction JSON exactly', () => {
    expect(resource().ciphertext).toBe(pay.notify.ciphertext);
    expect(decryptNotifyResource(pay.notify.apiv3_key, resource())).toBe(pay.notify.plaintext);
    const transaction = JSON.parse(pay.notify.plaintext) as { amount: { total: number }; trade_state: string };
    expect(transaction.amount.total).toBe(100);
    expect(transaction.trade_state).toBe('SUCCESS');
  });

  it('P6: encrypting the plaintext with the same nonce reproduces the ciphertext', () => {
    expect(
      encryptNotifyResource(pay.notify.apiv3_key, pay.notify.plaintext, { nonce: pay.notify.nonce, associatedData: 'transaction', originalType: 'transaction' }),
    ).toEqual(resource());
  });

  const codeOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(WechatPayCryptoError);
      return (error as WechatPayCryptoError).code;
    }
    return 'no error';
  };

  it('refuses a wrong key, a changed AAD, a changed nonce, a flipped bit, a truncated tag', () => {
    const r = resource();
    expect(codeOf(() => decryptNotifyResource('0123456789abcdef0123456789abcdeX', r))).toBe('decrypt_failed');
    expect(codeOf(() => decryptNotifyResource(pay.notify.apiv3_key, { ...r, associated_data: 'refund' }))).toBe('decrypt_failed');
    expect(codeOf(() => decryptNotifyResource(pay.notify.apiv3_key, { ...r, nonce: 'fdasflkja485' }))).toBe('decrypt_failed');
    const bytes = Buffer.from(r.ciphertext, 'base64');
    bytes[0] ^= 1;
    expect(codeOf(() => decryptNotifyResource(pay.notify.apiv3_key, { ...r, ciphertext: bytes.toString('base64') }))).toBe('decrypt_failed');
    expect(codeOf(() => decryptNotifyResource(pay.notify.apiv3_key, { ...r, ciphertext: Buffer.alloc(8).toString('base64') }))).toBe('invalid_resource');
  });

  it('refuses an APIv3 key that is not 32 bytes, and an unknown algorithm', () => {
    expect(codeOf(() => decryptNotifyResource('short', resource()))).toBe('invalid_key');
    expect(codeOf(() => decryptNotifyResource(pay.notify.apiv3_key, { ...resource(), algorithm: 'AEAD_AES_128_GCM' }))).toBe('invalid_resource');
    expect(codeOf(() => decryptAeadAesGcm({ key: '12345', nonce: 'n', associatedData: '', ciphertext: pay.notify.ciphertext }))).toBe('invalid_key');
  });

  it('never puts key or plaintext into an error message', () => {
    try {
      decryptNotifyResource('0123456789abcdef0123456789abcdeX', resource());
    } catch (error) {
      expect((error as Error).message).toBe('WeChat Pay crypto: decrypt_failed');
    }
    expect.assertions(1);
  });
});

describe('paySign for wx.requestPayment (§5.4)', () => {
  const input = {
    appId: 'wxd678efh567hg6787',
    timeStamp: '1414561699',
    nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    package: 'prepay_id=wx201410272009395522657a690389285100',
  };

  it('P5: message and signature', () => {
    expect(paySignMessage(input)).toBe(pay.paysign.message);
    expect(createPaySign(merchantKey, input)).toBe(pay.paysign.paySign);
  });

  it('buildRequestPaymentParams gives exactly what the client needs (appId is signed but not passed)', () => {
    const params = buildRequestPaymentParams({
      privateKey: merchantKey,
      appId: input.appId,
      prepayId: 'wx201410272009395522657a690389285100',
      timeStamp: input.timeStamp,
      nonceStr: input.nonceStr,
    });
    expect(params).toEqual({ timeStamp: input.timeStamp, nonceStr: input.nonceStr, package: input.package, signType: 'RSA', paySign: pay.paysign.paySign });
  });

  it('defaults to a fresh nonce and the current time in seconds', () => {
    const params = buildRequestPaymentParams({ privateKey: merchantKey, appId: input.appId, prepayId: 'p' });
    expect(params.timeStamp).toMatch(/^\d{10}$/);
    expect(params.nonceStr).toMatch(/^[0-9A-F]{32}$/);
    expect(verifyMessage(merchantPublic, paySignMessage({ appId: input.appId, ...params }), params.paySign)).toBe(true);
  });
});

describe('keys', () => {
  it('refuses malformed PEM with a typed error', () => {
    expect(() => loadPrivateKey('not a key')).toThrow(WechatPayCryptoError);
    expect(() => loadPublicKey('not a key')).toThrow(WechatPayCryptoError);
  });
});

describe('the fake reproduces the P6 notify byte for byte', () => {
  it('buildSignedNotify with the vector inputs', () => {
    const notify = buildSignedNotify({
      apiV3Key: pay.notify.apiv3_key,
      platformPrivateKey: platformKey,
      platformSerial: PLATFORM_SERIAL,
      plaintext: pay.notify.plaintext,
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      id: 'EV-2018022511223320873',
      createTime: '2015-05-20T13:29:35+08:00',
      resourceNonce: pay.notify.nonce,
      timestamp: pay.notify.headers['Wechatpay-Timestamp'],
      nonce: pay.notify.headers['Wechatpay-Nonce'],
    });
    expect(notify.body).toBe(pay.notify.body);
    for (const [name, value] of Object.entries(pay.notify.headers)) expect(notify.headers[name]).toBe(value);
  });
});
