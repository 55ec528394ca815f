import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { buildAuthorization, createNonceStr, unixSecondsString, verifyWechatpaySignature } from './wechatpay/crypto';
import { refundSchema, transactionSchema, type Refund, type Transaction } from './types';

/**
 * WeChat Pay API v3 over HTTP (spec §5.1–§5.6): every request signed over the exact bytes sent, every answer's
 * signature checked against the raw body before it is believed, a timeout on each call. Each call here is safe to
 * repeat (prepay with the same parameters, refund with the same out_refund_no, queries, close), so a timeout,
 * network failure or 5xx is retried once.
 */

export interface WechatPayClientOptions {
  baseUrl: string;
  mchid: string;
  merchantSerialNo: string;
  merchantPrivateKey: KeyObject;
  platformPublicKeys: ReadonlyMap<string, KeyObject>;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Milliseconds; the response-signature window is checked against it. */
  now?: () => number;
}

/** WeChat Pay answered with an error status and `{code, message}`. */
export class WechatPayApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly endpoint: string,
    readonly requestId?: string,
  ) {
    super(`WeChat Pay ${endpoint} failed: HTTP ${status} ${code}`);
    this.name = 'WechatPayApiError';
  }
}

export type WechatPayTransportErrorCode = 'timeout' | 'network' | 'bad_signature' | 'invalid_response';

/** No trustworthy answer: timeout, connection failure, unsigned or forged response, or a body we cannot read. */
export class WechatPayTransportError extends Error {
  constructor(
    readonly code: WechatPayTransportErrorCode,
    readonly endpoint: string,
  ) {
    super(`WeChat Pay ${endpoint}: ${code}`);
    this.name = 'WechatPayTransportError';
  }
}

export interface JsapiPrepayRequest {
  appid: string;
  description: string;
  outTradeNo: string;
  notifyUrl: string;
  totalFen: number;
  payerOpenId: string;
  /** RFC 3339, e.g. 2024-05-01T10:00:00+08:00. */
  timeExpire?: string;
  attach?: string;
}

export interface RefundRequest {
  outTradeNo: string;
  outRefundNo: string;
  reason: string;
  notifyUrl?: string;
  refundFen: number;
  totalFen: number;
}

const JSON_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json', 'User-Agent': 'anxinbao-cs/1.0' };

export class WechatPayClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: WechatPayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  get mchid(): string {
    return this.options.mchid;
  }

  /** POST /v3/pay/transactions/jsapi → prepay_id (valid about 2 h). */
  async jsapiPrepay(request: JsapiPrepayRequest): Promise<{ prepayId: string }> {
    const body = {
      appid: request.appid,
      mchid: this.options.mchid,
      description: request.description,
      out_trade_no: request.outTradeNo,
      ...(request.timeExpire !== undefined && { time_expire: request.timeExpire }),
      ...(request.attach !== undefined && { attach: request.attach }),
      notify_url: request.notifyUrl,
      amount: { total: request.totalFen, currency: 'CNY' },
      payer: { openid: request.payerOpenId },
    };
    const response = await this.call('POST', '/v3/pay/transactions/jsapi', body);
    const prepayId = (response as { prepay_id?: unknown } | undefined)?.prepay_id;
    if (typeof prepayId !== 'string' || !prepayId) throw new WechatPayTransportError('invalid_response', '/v3/pay/transactions/jsapi');
    return { prepayId };
  }

  async queryOrder(outTradeNo: string): Promise<Transaction> {
    const path = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}?mchid=${encodeURIComponent(this.options.mchid)}`;
    return this.parse(transactionSchema, await this.call('GET', path), '/v3/pay/transactions/out-trade-no');
  }

  /** 204 on success; an order already paid answers ORDERPAID (a WechatPayApiError). */
  async closeOrder(outTradeNo: string): Promise<void> {
    await this.call('POST', `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}/close`, { mchid: this.options.mchid });
  }

  /** The same out_refund_no refunds once, however often it is sent. */
  async refund(request: RefundRequest): Promise<Refund> {
    const body = {
      out_trade_no: request.outTradeNo,
      out_refund_no: request.outRefundNo,
      reason: request.reason,
      ...(request.notifyUrl !== undefined && { notify_url: request.notifyUrl }),
      amount: { refund: request.refundFen, total: request.totalFen, currency: 'CNY' },
    };
    return this.parse(refundSchema, await this.call('POST', '/v3/refund/domestic/refunds', body), '/v3/refund/domestic/refunds');
  }

  async queryRefund(outRefundNo: string): Promise<Refund> {
    const path = `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}`;
    return this.parse(refundSchema, await this.call('GET', path), '/v3/refund/domestic/refunds');
  }

  private parse<T>(schema: z.ZodType<T>, value: unknown, endpoint: string): T {
    const result = schema.safeParse(value);
    if (!result.success) throw new WechatPayTransportError('invalid_response', endpoint);
    return result.data;
  }

  private async call(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<unknown> {
    try {
      return await this.once(method, pathAndQuery, body);
    } catch (error) {
      const retryable =
        (error instanceof WechatPayTransportError && (error.code === 'timeout' || error.code === 'network')) ||
        (error instanceof WechatPayApiError && error.status >= 500);
      if (!retryable) throw error;
      return this.once(method, pathAndQuery, body);
    }
  }

  private async once(method: 'GET' | 'POST', pathAndQuery: string, body?: unknown): Promise<unknown> {
    const endpoint = pathAndQuery.split('?')[0];
    // Serialised once: the signature is over exactly these bytes.
    const text = body === undefined ? '' : JSON.stringify(body);
    const authorization = buildAuthorization(
      { mchid: this.options.mchid, serialNo: this.options.merchantSerialNo, privateKey: this.options.merchantPrivateKey },
      { method, pathAndQuery, timestamp: unixSecondsString(this.now()), nonce: createNonceStr(), body: text },
    );
    let response: Response;
    let raw: Buffer;
    try {
      response = await this.fetchImpl(this.baseUrl + pathAndQuery, {
        method,
        headers: { ...JSON_HEADERS, Authorization: authorization },
        ...(method === 'POST' && { body: text }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      raw = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new WechatPayTransportError(timedOut ? 'timeout' : 'network', endpoint);
    }
    const requestId = response.headers.get('request-id') ?? undefined;
    if (response.ok) {
      // A 2xx without a valid signature is treated as forged (§5.2 #4).
      const check = verifyWechatpaySignature({
        headers: response.headers,
        body: raw,
        publicKeys: this.options.platformPublicKeys,
        nowSeconds: Math.floor(this.now() / 1000),
      });
      if (!check.ok) throw new WechatPayTransportError('bad_signature', endpoint);
      if (raw.length === 0) return undefined;
      try {
        return JSON.parse(raw.toString('utf8')) as unknown;
      } catch {
        throw new WechatPayTransportError('invalid_response', endpoint);
      }
    }
    let code = 'HTTP_ERROR';
    let message = '';
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as { code?: unknown; message?: unknown };
      if (typeof parsed.code === 'string') code = parsed.code;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // an unreadable error body keeps the generic code
    }
    throw new WechatPayApiError(response.status, code, message, endpoint, requestId);
  }
}
