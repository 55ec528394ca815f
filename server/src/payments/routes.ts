import Router from '@koa/router';
import type { Context } from 'koa';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { decryptNotifyResource, verifyWechatpaySignature } from './wechatpay/crypto';
import { refundNoticeSchema, transactionSchema, type RefundNotice, type Transaction } from './types';

/**
 * WeChat Pay's callbacks (spec §5.5, §5.6), in the order the spec gives: signature with the platform key and the
 * ±300 s window (401), decrypt AEAD_AES_256_GCM (400), merchant and app checked, then the domain decides (amount,
 * order) and must be idempotent: WeChat Pay resends until it gets a 2xx, and a replay inside the window is just a
 * duplicate. SIGNTEST probes fail the signature like any forgery.
 */

/** What the domain says about a verified, decrypted event. */
export type NotifyDecision = { accept: true } | { accept: false; reason: string };

export interface PaymentNotifyHandler {
  /** trade_state SUCCESS only; called again for every resend. */
  onPaymentSucceeded(transaction: Transaction): Promise<NotifyDecision>;
  onRefundChanged(notice: RefundNotice): Promise<NotifyDecision>;
}

export interface PayNotifyDeps {
  mchid: string;
  apiV3Key: string;
  platformPublicKeys: ReadonlyMap<string, KeyObject>;
  /** Apps payments are taken in (the mini-program AppID). */
  appIds: readonly string[];
  handler: PaymentNotifyHandler;
  clock?: () => Date;
}

const envelopeSchema = z.object({
  id: z.string(),
  event_type: z.string(),
  resource: z.object({
    original_type: z.string().optional(),
    algorithm: z.string(),
    ciphertext: z.string(),
    associated_data: z.string().optional(),
    nonce: z.string(),
  }),
});

const FAIL = { code: 'FAIL', message: '失败' };

function refuse(ctx: Context, status: number, reason: string, extra: Record<string, unknown> = {}): void {
  ctx.log.warn({ reason, ...extra }, 'WeChat Pay notify refused');
  ctx.status = status;
  ctx.body = FAIL;
}

type Opened = { ok: true; eventId: string; eventType: string; plaintext: unknown } | { ok: false };

/** Verify, then decrypt. Answers the refusal itself when either fails. */
function open(ctx: Context, deps: PayNotifyDeps): Opened {
  const raw = ctx.request.rawBody ?? '';
  const now = (deps.clock?.() ?? new Date()).getTime();
  const check = verifyWechatpaySignature({
    headers: ctx.headers,
    body: raw,
    publicKeys: deps.platformPublicKeys,
    nowSeconds: Math.floor(now / 1000),
  });
  if (!check.ok) {
    refuse(ctx, 401, check.reason);
    return { ok: false };
  }
  let envelope: z.infer<typeof envelopeSchema>;
  let plaintext: unknown;
  try {
    envelope = envelopeSchema.parse(JSON.parse(raw));
    plaintext = JSON.parse(decryptNotifyResource(deps.apiV3Key, envelope.resource));
  } catch {
    refuse(ctx, 400, 'undecryptable');
    return { ok: false };
  }
  return { ok: true, eventId: envelope.id, eventType: envelope.event_type, plaintext };
}

function answer(ctx: Context, decision: NotifyDecision, facts: Record<string, unknown>): void {
  if (decision.accept) {
    ctx.status = 204;
    return;
  }
  refuse(ctx, 400, decision.reason, facts);
}

/** POST /wechat/pay/notify (payments) and /wechat/pay/refund-notify (refunds). No session: WeChat Pay's signature is the auth. */
export function payNotifyRoutes(deps: PayNotifyDeps): Router {
  const router = new Router({ prefix: '/wechat/pay' });

  router.post('/notify', async (ctx) => {
    const opened = open(ctx, deps);
    if (!opened.ok) return;
    if (!opened.eventType.startsWith('TRANSACTION.')) return refuse(ctx, 400, 'unexpected_event', { eventType: opened.eventType });
    const parsed = transactionSchema.safeParse(opened.plaintext);
    if (!parsed.success) return refuse(ctx, 400, 'unreadable_transaction');
    const transaction = parsed.data;
    if (transaction.mchid !== deps.mchid || !deps.appIds.includes(transaction.appid)) {
      return refuse(ctx, 400, 'not_our_merchant_or_app', { outTradeNo: transaction.out_trade_no });
    }
    // Only success moves an order; other states are acknowledged so WeChat Pay stops resending them.
    if (transaction.trade_state !== 'SUCCESS') {
      ctx.status = 204;
      return;
    }
    const decision = await deps.handler.onPaymentSucceeded(transaction);
    answer(ctx, decision, { eventId: opened.eventId, outTradeNo: transaction.out_trade_no });
  });

  router.post('/refund-notify', async (ctx) => {
    const opened = open(ctx, deps);
    if (!opened.ok) return;
    if (!opened.eventType.startsWith('REFUND.')) return refuse(ctx, 400, 'unexpected_event', { eventType: opened.eventType });
    const parsed = refundNoticeSchema.safeParse(opened.plaintext);
    if (!parsed.success) return refuse(ctx, 400, 'unreadable_refund');
    if (parsed.data.mchid !== deps.mchid) return refuse(ctx, 400, 'not_our_merchant');
    const decision = await deps.handler.onRefundChanged(parsed.data);
    answer(ctx, decision, { eventId: opened.eventId, outRefundNo: parsed.data.out_refund_no });
  });

  return router;
}
