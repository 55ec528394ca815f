import { randomBytes } from 'node:crypto';
import { chinaRfc3339, type PaymentGateway, type PaymentRequest, type RefundOrder } from './gateway';
import type { RefundStatus, Transaction } from './types';
import type { RequestPaymentParams } from './wechatpay/crypto';

const DEMO_MERCHANT = { mchid: 'demo-merchant', appId: 'wxdemominiprogram' } as const;

export interface DemoPaymentOptions {
  /** Told of each payment, as WeChat Pay's notify would tell the purchases service. */
  onPaid: (transaction: Transaction) => Promise<unknown>;
  /** How long after prepay the payment "goes through" (the client has asked for its parameters by then). */
  settleAfterMs?: number;
  onError?: (err: unknown, outTradeNo: string) => void;
  now?: () => number;
}

/**
 * The demo mini-program's payments (outside production, with no WECHAT_MP_* settings): every payment succeeds shortly after prepay, and refunds at once,
 * so a purchase can be tried end to end in the h5 preview. No money moves; the parameters it hands the client are
 * not signed (wx.requestPayment in a real WeChat refuses them).
 */
export class DemoPaymentGateway implements PaymentGateway {
  constructor(private readonly options: DemoPaymentOptions) {}

  async prepay(request: PaymentRequest): Promise<{ prepayId: string }> {
    const { onPaid, onError, settleAfterMs = 1_000, now = Date.now } = this.options;
    const settle = setTimeout(() => {
      const transaction: Transaction = {
        mchid: DEMO_MERCHANT.mchid,
        appid: DEMO_MERCHANT.appId,
        out_trade_no: request.outTradeNo,
        transaction_id: `demo_${request.outTradeNo}`,
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        success_time: chinaRfc3339(new Date(now())),
        payer: { openid: request.payerOpenId },
        amount: { total: request.amountFen, payer_total: request.amountFen, currency: 'CNY' },
      };
      onPaid(transaction).catch((err: unknown) => onError?.(err, request.outTradeNo));
    }, settleAfterMs);
    settle.unref();
    return { prepayId: `demo_prepay_${request.outTradeNo}` };
  }

  requestPaymentParams(prepayId: string): RequestPaymentParams {
    return {
      timeStamp: String(Math.floor((this.options.now ?? Date.now)() / 1000)),
      nonceStr: randomBytes(16).toString('hex'),
      package: `prepay_id=${prepayId}`,
      signType: 'RSA',
      paySign: 'demo-unsigned',
    };
  }

  async closeOrder(): Promise<'closed' | 'already_paid'> {
    return 'closed';
  }

  async refund(request: RefundOrder): Promise<{ status: RefundStatus; refundId: string }> {
    return { status: 'SUCCESS', refundId: `demo_refund_${request.outRefundNo}` };
  }

  /** A demo payment lives only in its timer: one lost with its process was never made. */
  async queryPayment(): Promise<Transaction | undefined> {
    return undefined;
  }
}
