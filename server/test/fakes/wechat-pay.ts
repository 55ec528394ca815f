import { randomBytes, type KeyObject } from 'node:crypto';
import {
  createNonceStr,
  encryptNotifyResource,
  isTimestampWithinWindow,
  loadPrivateKey,
  loadPublicKey,
  parseAuthorization,
  requestSignatureMessage,
  signWechatpayResponse,
  verifyMessage,
} from '../../src/payments/wechatpay/crypto';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys, pay } from '../fixtures/wechat';
import { startLoopbackServer, type FakeRequest, type FakeResponse, type LoopbackServer } from './loopback-server';

/**
 * A local stand-in for api.mch.weixin.qq.com (spec §5, §8). It checks our Authorization with the merchant PUBLIC key,
 * signs every response (204s too) with the platform TEST key, and can POST signed, encrypted notifies to our server,
 * so a purchase can be walked end to end: prepay → paySign → notify → query → refund.
 */

export const FAKE_MCHID = '1230000109';
export const FAKE_APIV3_KEY = pay.notify.apiv3_key;

export interface FakeWechatPayOptions {
  mchid?: string;
  merchantSerialNo?: string;
  merchantPublicKey?: KeyObject;
  platformPrivateKey?: KeyObject;
  platformSerial?: string;
  apiV3Key?: string;
  /** Milliseconds; defaults to real time. */
  startTime?: number;
}

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND' | 'PAYERROR';

export interface FakeOrder {
  request: JsapiOrderRequest;
  prepayId: string;
  tradeState: TradeState;
  transactionId?: string;
  successTime?: string;
  refunded: number;
}

interface JsapiOrderRequest {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  notify_url: string;
  amount: { total: number; currency?: string };
  payer: { openid: string };
  attach?: string;
  time_expire?: string;
}

export interface FakeRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: 'ORIGINAL';
  user_received_account: string;
  create_time: string;
  success_time?: string;
  status: 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';
  funds_account: 'AVAILABLE';
  amount: { total: number; refund: number; payer_total: number; payer_refund: number; currency: 'CNY' };
}

export interface NotifyOptions {
  /** Change the body after signing, as an attacker in the middle would. */
  tamper?: boolean;
  /** Sign with this Wechatpay-Timestamp (seconds), e.g. an old one replayed from 10 minutes ago. */
  replayTimestamp?: number;
  /** A WECHATPAY/SIGNTEST/ probe, which must be refused (§5.2). */
  signTest?: boolean;
  /** Override transaction fields, e.g. a different amount or appid, to test our checks. */
  transaction?: Partial<Record<'mchid' | 'appid' | 'trade_state' | 'out_trade_no', string>> & { total?: number };
}

export interface SignedNotify {
  headers: Record<string, string>;
  body: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A WeChat-style RFC 3339 time with +08:00. */
function beijingTime(ms: number): string {
  return `${new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

/**
 * The exact request WeChat Pay POSTs to notify_url (§5.5): resource encrypted with the APIv3 key, body signed with
 * the platform key. Deterministic given its inputs, so it reproduces vector P6 byte for byte.
 */
export function buildSignedNotify(params: {
  apiV3Key: string;
  platformPrivateKey: KeyObject;
  platformSerial: string;
  plaintext: string;
  eventType: string;
  summary: string;
  originalType: 'transaction' | 'refund';
  id: string;
  createTime: string;
  resourceNonce: string;
  timestamp: string;
  nonce: string;
}): SignedNotify {
  const resource = encryptNotifyResource(params.apiV3Key, params.plaintext, {
    nonce: params.resourceNonce,
    associatedData: params.originalType,
    originalType: params.originalType,
  });
  const body = JSON.stringify({
    id: params.id,
    create_time: params.createTime,
    resource_type: 'encrypt-resource',
    event_type: params.eventType,
    summary: params.summary,
    resource: {
      original_type: resource.original_type,
      algorithm: resource.algorithm,
      ciphertext: resource.ciphertext,
      associated_data: resource.associated_data,
      nonce: resource.nonce,
    },
  });
  const headers = signWechatpayResponse({
    privateKey: params.platformPrivateKey,
    serial: params.platformSerial,
    timestamp: params.timestamp,
    nonce: params.nonce,
    body,
  });
  return { headers: { ...headers, 'Content-Type': 'application/json' }, body };
}

const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
/** Real WeChat Pay demands https; the fake also accepts loopback http so tests can receive notifies. */
const NOTIFY_URL = /^(https:\/\/[^?#\s]+|http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/[^?#\s]*)$/;

export class FakeWechatPay {
  readonly orders = new Map<string, FakeOrder>();
  readonly refunds = new Map<string, FakeRefund>();
  /** Every request and whether its signature passed. */
  readonly requests: { method: string; path: string; authorized: boolean }[] = [];
  /** Every notify sent, and how our server answered. */
  readonly notifies: { url: string; status: number; request: SignedNotify }[] = [];

  readonly mchid: string;
  readonly apiV3Key: string;
  readonly platformSerial: string;
  private readonly merchantSerialNo: string;
  private readonly merchantPublicKey: KeyObject;
  private readonly platformPrivateKey: KeyObject;
  private clock: number | undefined;
  private server: LoopbackServer | undefined;
  private counter = 0;

  private constructor(options: FakeWechatPayOptions) {
    this.mchid = options.mchid ?? FAKE_MCHID;
    this.merchantSerialNo = options.merchantSerialNo ?? MERCHANT_SERIAL;
    this.merchantPublicKey = options.merchantPublicKey ?? loadPublicKey(keys.merchantPublicPem);
    this.platformPrivateKey = options.platformPrivateKey ?? loadPrivateKey(keys.platformPrivatePem);
    this.platformSerial = options.platformSerial ?? PLATFORM_SERIAL;
    this.apiV3Key = options.apiV3Key ?? FAKE_APIV3_KEY;
    this.clock = options.startTime;
  }

  static async start(options: FakeWechatPayOptions = {}): Promise<FakeWechatPay> {
    const fake = new FakeWechatPay(options);
    fake.server = await startLoopbackServer((request) => fake.handle(request));
    return fake;
  }

  get baseUrl(): string {
    if (!this.server) throw new Error('fake not started');
    return this.server.baseUrl;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }

  now(): number {
    return this.clock ?? Date.now();
  }

  setClock(ms: number): void {
    this.clock = ms;
  }

  // ---- Notifies ----

  /**
   * Marks the order paid (unless overridden) and POSTs a TRANSACTION.SUCCESS notify to `url`. Returns our server's
   * answer; nothing is retried here (see sendNotifyUntilAcknowledged).
   */
  async sendNotify(url: string, outTradeNo: string, options: NotifyOptions = {}): Promise<{ status: number; body: string; request: SignedNotify }> {
    const order = this.orders.get(outTradeNo);
    if (!order && !options.transaction) throw new Error(`fake has no order ${outTradeNo}`);
    if (order && order.tradeState === 'NOTPAY' && !options.tamper && !options.signTest) {
      order.tradeState = 'SUCCESS';
      order.transactionId = this.nextId('42000000000000000000000000');
      order.successTime = beijingTime(this.now());
    }
    const transaction = this.transactionJson(outTradeNo, order, options.transaction);
    const request = buildSignedNotify({
      apiV3Key: this.apiV3Key,
      platformPrivateKey: this.platformPrivateKey,
      platformSerial: this.platformSerial,
      plaintext: JSON.stringify(transaction),
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      id: `EV-${this.nextId('2018022511223320')}`,
      createTime: beijingTime(this.now()),
      resourceNonce: randomBytes(9).toString('base64url').slice(0, 12),
      timestamp: String(options.replayTimestamp ?? Math.floor(this.now() / 1000)),
      nonce: createNonceStr(),
    });
    return this.post(url, this.adjust(request, options));
  }

  /** A REFUND.SUCCESS (or other status) notify for a refund created through the API. */
  async sendRefundNotify(url: string, outRefundNo: string, options: NotifyOptions & { status?: FakeRefund['status'] } = {}) {
    const refund = this.refunds.get(outRefundNo);
    if (!refund) throw new Error(`fake has no refund ${outRefundNo}`);
    const status = options.status ?? 'SUCCESS';
    refund.status = status;
    if (status === 'SUCCESS') refund.success_time = beijingTime(this.now());
    const plaintext = JSON.stringify({
      mchid: this.mchid,
      out_trade_no: refund.out_trade_no,
      transaction_id: refund.transaction_id,
      out_refund_no: refund.out_refund_no,
      refund_id: refund.refund_id,
      refund_status: status,
      success_time: refund.success_time,
      user_received_account: refund.user_received_account,
      amount: { total: refund.amount.total, refund: refund.amount.refund, payer_total: refund.amount.payer_total, payer_refund: refund.amount.payer_refund },
    });
    const request = buildSignedNotify({
      apiV3Key: this.apiV3Key,
      platformPrivateKey: this.platformPrivateKey,
      platformSerial: this.platformSerial,
      plaintext,
      eventType: `REFUND.${status}`,
      summary: '退款状态变更',
      originalType: 'refund',
      id: `EV-${this.nextId('2018022511223321')}`,
      createTime: beijingTime(this.now()),
      resourceNonce: randomBytes(9).toString('base64url').slice(0, 12),
      timestamp: String(options.replayTimestamp ?? Math.floor(this.now() / 1000)),
      nonce: createNonceStr(),
    });
    return this.post(url, this.adjust(request, options));
  }

  /**
   * Resends until our server answers 2xx, like WeChat Pay's schedule (15 s, 15 s, 30 s, 3 min …) compressed into
   * `delaysMs`. Returns every status seen.
   */
  async sendNotifyUntilAcknowledged(url: string, outTradeNo: string, delaysMs: number[] = [10, 10, 20]): Promise<number[]> {
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= delaysMs.length; attempt += 1) {
      const { status } = await this.sendNotify(url, outTradeNo);
      statuses.push(status);
      if (status >= 200 && status < 300) break;
      if (attempt < delaysMs.length) await new Promise((resolve) => setTimeout(resolve, delaysMs[attempt]));
    }
    return statuses;
  }

  private adjust(request: SignedNotify, options: NotifyOptions): SignedNotify {
    let { body } = request;
    const headers = { ...request.headers };
    if (options.tamper) body = body.replace('"summary":"支付成功"', '"summary":"支付成功 "');
    if (options.signTest) headers['Wechatpay-Signature'] = `WECHATPAY/SIGNTEST/${randomBytes(24).toString('base64')}`;
    return { headers, body };
  }

  private async post(url: string, request: SignedNotify): Promise<{ status: number; body: string; request: SignedNotify }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(5_000), // WeChat Pay waits 5 s for an answer
    });
    const body = await response.text();
    this.notifies.push({ url, status: response.status, request });
    return { status: response.status, body, request };
  }

  private transactionJson(outTradeNo: string, order: FakeOrder | undefined, overrides: NotifyOptions['transaction'] = {}): Json {
    const total = overrides.total ?? order?.request.amount.total ?? 0;
    // Key order as in the §5.5 sample.
    return {
      mchid: overrides.mchid ?? this.mchid,
      appid: overrides.appid ?? order?.request.appid ?? '',
      out_trade_no: overrides.out_trade_no ?? outTradeNo,
      transaction_id: order?.transactionId ?? this.nextId('42000000000000000000000000'),
      trade_type: 'JSAPI',
      trade_state: overrides.trade_state ?? order?.tradeState ?? 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: order?.request.attach ?? '',
      success_time: order?.successTime ?? beijingTime(this.now()),
      payer: { openid: order?.request.payer.openid ?? '' },
      amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}${String(this.counter).padStart(6, '0')}`;
  }

  // ---- API ----

  private respond(status: number, value?: unknown): FakeResponse {
    const body = value === undefined ? '' : JSON.stringify(value);
    // Every response is signed, including 204s (§8); a 2xx without signature headers would count as forged.
    const headers = signWechatpayResponse({
      privateKey: this.platformPrivateKey,
      serial: this.platformSerial,
      timestamp: String(Math.floor(this.now() / 1000)),
      nonce: createNonceStr(),
      body,
    });
    return {
      status,
      headers: { ...headers, 'Request-ID': `fake-${randomBytes(8).toString('hex')}`, ...(body && { 'Content-Type': 'application/json' }) },
      body,
    };
  }

  private error(status: number, code: string, message: string): FakeResponse {
    return this.respond(status, { code, message });
  }

  /** Our request must carry a valid WECHATPAY2-SHA256-RSA2048 Authorization over the exact bytes sent (§5.1). */
  private authorized(request: FakeRequest): boolean {
    const header = request.headers.authorization;
    const auth = parseAuthorization(typeof header === 'string' ? header : undefined);
    if (!auth || auth.mchid !== this.mchid || auth.serialNo !== this.merchantSerialNo) return false;
    if (!isTimestampWithinWindow(auth.timestamp, Math.floor(this.now() / 1000))) return false;
    const message = requestSignatureMessage({
      method: request.method,
      pathAndQuery: request.rawUrl,
      timestamp: auth.timestamp,
      nonce: auth.nonceStr,
      body: request.body.toString('utf8'),
    });
    return verifyMessage(this.merchantPublicKey, message, auth.signature);
  }

  private async handle(request: FakeRequest): Promise<FakeResponse> {
    const authorized = this.authorized(request);
    this.requests.push({ method: request.method, path: request.path, authorized });
    if (!authorized) return this.error(401, 'SIGN_ERROR', '签名错误');

    let json: Json = {};
    if (request.body.length > 0) {
      try {
        const parsed: unknown = JSON.parse(request.body.toString('utf8'));
        if (!isObject(parsed)) return this.error(400, 'PARAM_ERROR', '请求体不是JSON对象');
        json = parsed;
      } catch {
        return this.error(400, 'PARAM_ERROR', '请求体不是合法JSON');
      }
    }

    const { method, path } = request;
    if (method === 'POST' && path === '/v3/pay/transactions/jsapi') return this.jsapi(json);
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') return this.refund(json);
    let match = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/.exec(path);
    if (method === 'GET' && match) return this.queryOrder(decodeURIComponent(match[1]), request.query.get('mchid'));
    match = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/.exec(path);
    if (method === 'POST' && match) return this.close(decodeURIComponent(match[1]), json);
    match = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path);
    if (method === 'GET' && match) {
      const refund = this.refunds.get(decodeURIComponent(match[1]));
      return refund ? this.respond(200, refund) : this.error(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    }
    return this.error(404, 'NOT_FOUND', `fake has no ${method} ${path}`);
  }

  private jsapi(json: Json): FakeResponse {
    const amount = json.amount;
    const payer = json.payer;
    const valid =
      typeof json.appid === 'string' &&
      json.mchid === this.mchid &&
      typeof json.description === 'string' &&
      json.description.length >= 1 &&
      json.description.length <= 127 &&
      typeof json.out_trade_no === 'string' &&
      OUT_TRADE_NO.test(json.out_trade_no) &&
      typeof json.notify_url === 'string' &&
      NOTIFY_URL.test(json.notify_url) &&
      isObject(amount) &&
      Number.isInteger(amount.total) &&
      (amount.total as number) > 0 &&
      (amount.currency === undefined || amount.currency === 'CNY') &&
      isObject(payer) &&
      typeof payer.openid === 'string' &&
      payer.openid.length > 0;
    if (!valid) return this.error(400, 'PARAM_ERROR', '参数错误');
    const order = json as unknown as JsapiOrderRequest;
    const existing = this.orders.get(order.out_trade_no);
    if (existing) {
      if (existing.tradeState === 'SUCCESS' || existing.tradeState === 'REFUND') return this.error(400, 'ORDERPAID', '该订单已支付');
      if (existing.tradeState === 'CLOSED') return this.error(400, 'ORDER_CLOSED', '订单已关闭');
      // Same out_trade_no with the same parameters is idempotent; different parameters are refused.
      if (JSON.stringify(existing.request) !== JSON.stringify(order)) return this.error(400, 'OUT_TRADE_NO_USED', '商户订单号重复');
      return this.respond(200, { prepay_id: existing.prepayId });
    }
    const prepayId = `wx${randomBytes(16).toString('hex').slice(0, 30)}0000`;
    this.orders.set(order.out_trade_no, { request: order, prepayId, tradeState: 'NOTPAY', refunded: 0 });
    return this.respond(200, { prepay_id: prepayId });
  }

  private queryOrder(outTradeNo: string, mchid: string | null): FakeResponse {
    if (mchid !== this.mchid) return this.error(400, 'PARAM_ERROR', 'mchid 不匹配');
    const order = this.orders.get(outTradeNo);
    if (!order) return this.error(404, 'ORDER_NOT_EXIST', '订单不存在');
    const transaction: Json = {
      appid: order.request.appid,
      mchid: this.mchid,
      out_trade_no: outTradeNo,
      trade_state: order.tradeState,
      trade_state_desc: order.tradeState,
      amount: { total: order.request.amount.total, currency: 'CNY' },
      payer: { openid: order.request.payer.openid },
    };
    if (order.transactionId) {
      Object.assign(transaction, {
        transaction_id: order.transactionId,
        trade_type: 'JSAPI',
        bank_type: 'OTHERS',
        success_time: order.successTime,
        amount: { total: order.request.amount.total, payer_total: order.request.amount.total, currency: 'CNY', payer_currency: 'CNY' },
      });
    }
    return this.respond(200, transaction);
  }

  private close(outTradeNo: string, json: Json): FakeResponse {
    if (json.mchid !== this.mchid) return this.error(400, 'PARAM_ERROR', 'mchid 不匹配');
    const order = this.orders.get(outTradeNo);
    if (!order) return this.error(404, 'ORDER_NOT_EXIST', '订单不存在');
    if (order.tradeState === 'SUCCESS' || order.tradeState === 'REFUND') return this.error(400, 'ORDERPAID', '该订单已支付');
    order.tradeState = 'CLOSED';
    return this.respond(204);
  }

  private refund(json: Json): FakeResponse {
    const amount = json.amount;
    if (
      typeof json.out_refund_no !== 'string' ||
      !OUT_TRADE_NO.test(json.out_refund_no) ||
      !isObject(amount) ||
      !Number.isInteger(amount.refund) ||
      !Number.isInteger(amount.total) ||
      (amount.refund as number) <= 0 ||
      (json.notify_url !== undefined && (typeof json.notify_url !== 'string' || !NOTIFY_URL.test(json.notify_url)))
    ) {
      return this.error(400, 'PARAM_ERROR', '参数错误');
    }
    const existing = this.refunds.get(json.out_refund_no);
    if (existing) return this.respond(200, existing); // out_refund_no is idempotent: refunds once
    const order =
      typeof json.out_trade_no === 'string'
        ? this.orders.get(json.out_trade_no)
        : [...this.orders.values()].find((candidate) => candidate.transactionId === json.transaction_id);
    if (!order) return this.error(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    if (order.tradeState !== 'SUCCESS' && order.tradeState !== 'REFUND') return this.error(400, 'INVALID_REQUEST', '订单未支付');
    const total = order.request.amount.total;
    const refundAmount = amount.refund as number;
    if (amount.total !== total) return this.error(400, 'PARAM_ERROR', '订单金额不符');
    if (order.refunded + refundAmount > total) return this.error(400, 'NOT_ENOUGH', '可退金额不足');
    order.refunded += refundAmount;
    order.tradeState = 'REFUND';
    const refund: FakeRefund = {
      refund_id: this.nextId('500000003820190527097326'),
      out_refund_no: json.out_refund_no,
      transaction_id: order.transactionId ?? '',
      out_trade_no: order.request.out_trade_no,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      create_time: beijingTime(this.now()),
      status: 'PROCESSING',
      funds_account: 'AVAILABLE',
      amount: { total, refund: refundAmount, payer_total: total, payer_refund: refundAmount, currency: 'CNY' },
    };
    this.refunds.set(refund.out_refund_no, refund);
    return this.respond(200, refund);
  }
}
