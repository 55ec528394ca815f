import type { KeyObject } from 'node:crypto';
import { buildRequestPaymentParams, type RequestPaymentParams } from './wechatpay/crypto';
import { WechatPayApiError, WechatPayClient } from './client';
import type { PaySettings } from './settings';
import type { RefundStatus, Transaction } from './types';

/**
 * What the insurance domain needs from a payment provider, without knowing WeChat Pay: take a payment for an order,
 * give the client what it needs to pay, close an unpaid order, refund. Tests and demos use WeChat Pay's local fake.
 */
export interface PaymentRequest {
  /** Our order number; WeChat Pay's out_trade_no. */
  outTradeNo: string;
  description: string;
  amountFen: number;
  /** The payer's openid under the app the payment is made in. */
  payerOpenId: string;
  /** The payment must be made before this. */
  payBy: Date;
}

export interface RefundOrder {
  outTradeNo: string;
  /** Refunds once per number, however often it is sent. */
  outRefundNo: string;
  amountFen: number;
  totalFen: number;
  reason: string;
}

export interface PaymentGateway {
  prepay(request: PaymentRequest): Promise<{ prepayId: string }>;
  /** Fresh parameters for wx.requestPayment each time (timeStamp, nonceStr, paySign). */
  requestPaymentParams(prepayId: string): RequestPaymentParams;
  /** 'already_paid' when the payment went through before the close. */
  closeOrder(outTradeNo: string): Promise<'closed' | 'already_paid'>;
  refund(request: RefundOrder): Promise<{ status: RefundStatus; refundId: string }>;
  queryPayment(outTradeNo: string): Promise<Transaction | undefined>;
}

/** RFC 3339 in China time, as WeChat Pay writes times: 2018-06-08T10:34:56+08:00. */
export function chinaRfc3339(instant: Date): string {
  return `${new Date(instant.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

export interface WechatPayGatewayOptions {
  client: WechatPayClient;
  /** The app the user pays in: the mini-program AppID (JSAPI payer openids are per app). */
  appId: string;
  merchantPrivateKey: KeyObject;
  notifyUrl: string;
  refundNotifyUrl?: string;
  now?: () => number;
}

export class WechatPayGateway implements PaymentGateway {
  constructor(private readonly options: WechatPayGatewayOptions) {}

  async prepay(request: PaymentRequest): Promise<{ prepayId: string }> {
    return this.options.client.jsapiPrepay({
      appid: this.options.appId,
      description: request.description.slice(0, 127),
      outTradeNo: request.outTradeNo,
      notifyUrl: this.options.notifyUrl,
      totalFen: request.amountFen,
      payerOpenId: request.payerOpenId,
      // Fixed per order, so a repeated prepay carries identical parameters and WeChat Pay treats it as the same one.
      timeExpire: chinaRfc3339(request.payBy),
    });
  }

  requestPaymentParams(prepayId: string): RequestPaymentParams {
    const now = this.options.now?.() ?? Date.now();
    return buildRequestPaymentParams({
      privateKey: this.options.merchantPrivateKey,
      appId: this.options.appId,
      prepayId,
      timeStamp: String(Math.floor(now / 1000)),
    });
  }

  async closeOrder(outTradeNo: string): Promise<'closed' | 'already_paid'> {
    try {
      await this.options.client.closeOrder(outTradeNo);
      return 'closed';
    } catch (error) {
      if (error instanceof WechatPayApiError && error.code === 'ORDERPAID') return 'already_paid';
      // Never prepaid: nothing at WeChat Pay to close.
      if (error instanceof WechatPayApiError && error.code === 'ORDER_NOT_EXIST') return 'closed';
      throw error;
    }
  }

  async refund(request: RefundOrder): Promise<{ status: RefundStatus; refundId: string }> {
    const refund = await this.options.client.refund({
      outTradeNo: request.outTradeNo,
      outRefundNo: request.outRefundNo,
      reason: request.reason,
      notifyUrl: this.options.refundNotifyUrl,
      refundFen: request.amountFen,
      totalFen: request.totalFen,
    });
    return { status: refund.status, refundId: refund.refund_id };
  }

  async queryPayment(outTradeNo: string): Promise<Transaction | undefined> {
    try {
      return await this.options.client.queryOrder(outTradeNo);
    } catch (error) {
      if (error instanceof WechatPayApiError && error.code === 'ORDER_NOT_EXIST') return undefined;
      throw error;
    }
  }
}

/** The gateway for the configured merchant, paying in the given app (the mini-program). */
export function wechatPayGateway(settings: PaySettings, appId: string, options: { fetch?: typeof fetch; now?: () => number } = {}): WechatPayGateway {
  const client = new WechatPayClient({
    baseUrl: settings.apiBase,
    mchid: settings.mchid,
    merchantSerialNo: settings.merchantSerialNo,
    merchantPrivateKey: settings.merchantPrivateKey,
    platformPublicKeys: settings.platformPublicKeys,
    timeoutMs: settings.timeoutMs,
    fetch: options.fetch,
    now: options.now,
  });
  return new WechatPayGateway({
    client,
    appId,
    merchantPrivateKey: settings.merchantPrivateKey,
    notifyUrl: settings.notifyUrl,
    refundNotifyUrl: settings.refundNotifyUrl,
    now: options.now,
  });
}
