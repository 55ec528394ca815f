import { randomBytes } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import { isDuplicateKey } from '../db/duplicate-key';
import { chinaRfc3339, type PaymentGateway, type PaymentRequest, type RefundOrder } from './gateway';
import type { RefundStatus, Transaction } from './types';
import type { RequestPaymentParams } from './wechatpay/crypto';

const DEMO_MERCHANT = { mchid: 'demo-merchant', appId: 'wxdemominiprogram' } as const;

/**
 * What became of one demo payment: paid or closed, decided once. Keyed by the order number, so the settle timer
 * and a close (on any server instance) both insert the same `_id` and the first insert wins, as WeChat Pay
 * answers ORDERPAID to a close after payment and refuses a payment after a close.
 */
interface DemoPaymentRecord {
  _id: string;
  outcome: 'paid' | 'closed';
  /** What was paid: set with outcome paid. */
  amountFen?: number;
  payerOpenId?: string;
  decidedAt: Date;
}

const demoPaymentSchema = new Schema<DemoPaymentRecord>({
  _id: { type: String, required: true },
  outcome: { type: String, enum: ['paid', 'closed'], required: true },
  amountFen: Number,
  payerOpenId: String,
  decidedAt: { type: Date, required: true },
});

export const DemoPayment = mongoose.model<DemoPaymentRecord>('DemoPayment', demoPaymentSchema, 'demo_payments');

export interface DemoPaymentOptions {
  /** Told of each payment, as WeChat Pay's notify would tell the purchases service. */
  onPaid: (transaction: Transaction) => Promise<unknown>;
  /** How long after prepay the payment "goes through" (the client has asked for its parameters by then). */
  settleAfterMs?: number;
  onError?: (err: unknown, outTradeNo: string) => void;
  now?: () => number;
}

/**
 * The demo mini-program's payments (outside production, with no WECHAT_MP_* settings): every payment not closed
 * first succeeds shortly after prepay, and refunds at once, so a purchase can be tried end to end in the h5
 * preview. No money moves; the parameters it hands the client are not signed (wx.requestPayment in a real WeChat
 * refuses them).
 */
export class DemoPaymentGateway implements PaymentGateway {
  /** This instance's settle timers; only an optimisation, since the decision itself is in the database. */
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: DemoPaymentOptions) {}

  async prepay(request: PaymentRequest): Promise<{ prepayId: string }> {
    const { settleAfterMs = 1_000 } = this.options;
    if (!this.timers.has(request.outTradeNo)) {
      const timer = setTimeout(() => {
        this.timers.delete(request.outTradeNo);
        this.settle(request).catch((err: unknown) => this.options.onError?.(err, request.outTradeNo));
      }, settleAfterMs);
      timer.unref();
      this.timers.set(request.outTradeNo, timer);
    }
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

  async closeOrder(outTradeNo: string): Promise<'closed' | 'already_paid'> {
    clearTimeout(this.timers.get(outTradeNo));
    this.timers.delete(outTradeNo);
    const decided = await this.decide({ _id: outTradeNo, outcome: 'closed' });
    return decided.outcome === 'paid' ? 'already_paid' : 'closed';
  }

  async refund(request: RefundOrder): Promise<{ status: RefundStatus; refundId: string }> {
    return { status: 'SUCCESS', refundId: `demo_refund_${request.outRefundNo}` };
  }

  /** A payment decided paid (its process may have died before telling the order); undefined when never made. */
  async queryPayment(outTradeNo: string): Promise<Transaction | undefined> {
    const record = await DemoPayment.findById(outTradeNo).lean<DemoPaymentRecord>();
    return record?.outcome === 'paid' ? this.transactionOf(record) : undefined;
  }

  /** The timer fired: the payment goes through unless the order was closed first (here or on another instance). */
  private async settle(request: PaymentRequest): Promise<void> {
    const decided = await this.decide({ _id: request.outTradeNo, outcome: 'paid', amountFen: request.amountFen, payerOpenId: request.payerOpenId });
    if (decided.outcome !== 'paid') return;
    await this.options.onPaid(this.transactionOf(decided));
  }

  /** Records the outcome unless one is recorded already; returns the one that stands. */
  private async decide(wanted: Omit<DemoPaymentRecord, 'decidedAt'>): Promise<DemoPaymentRecord> {
    const record: DemoPaymentRecord = { ...wanted, decidedAt: new Date((this.options.now ?? Date.now)()) };
    try {
      await DemoPayment.create(record);
      return record;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const first = await DemoPayment.findById(wanted._id).lean<DemoPaymentRecord>();
      if (!first) throw err;
      return first;
    }
  }

  private transactionOf(record: DemoPaymentRecord): Transaction {
    return {
      mchid: DEMO_MERCHANT.mchid,
      appid: DEMO_MERCHANT.appId,
      out_trade_no: record._id,
      transaction_id: `demo_${record._id}`,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      success_time: chinaRfc3339(new Date(record.decidedAt)),
      payer: { openid: record.payerOpenId },
      amount: { total: record.amountFen ?? 0, payer_total: record.amountFen, currency: 'CNY' },
    };
  }
}
