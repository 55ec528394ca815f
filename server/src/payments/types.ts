import { z } from 'zod';

/** The transaction WeChat Pay reports (notify plaintext §5.5, or query order). */
export const transactionSchema = z.object({
  mchid: z.string(),
  appid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().optional(),
  trade_type: z.string().optional(),
  trade_state: z.enum(['SUCCESS', 'REFUND', 'NOTPAY', 'CLOSED', 'REVOKED', 'USERPAYING', 'PAYERROR']),
  trade_state_desc: z.string().optional(),
  success_time: z.string().optional(),
  payer: z.object({ openid: z.string() }).partial().optional(),
  amount: z.object({ total: z.number().int(), payer_total: z.number().int().optional(), currency: z.string().optional() }),
});
export type Transaction = z.infer<typeof transactionSchema>;

export const REFUND_STATUSES = ['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** A refund as the refund API answers (§5.6). */
export const refundSchema = z.object({
  refund_id: z.string(),
  out_refund_no: z.string(),
  out_trade_no: z.string().optional(),
  transaction_id: z.string().optional(),
  status: z.enum(REFUND_STATUSES),
  amount: z.object({ total: z.number().int(), refund: z.number().int() }).passthrough(),
});
export type Refund = z.infer<typeof refundSchema>;

/** The refund notify plaintext (§5.6): same facts, `refund_status` instead of `status`. */
export const refundNoticeSchema = z.object({
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.string().optional(),
  out_refund_no: z.string(),
  refund_id: z.string(),
  refund_status: z.enum(REFUND_STATUSES),
  success_time: z.string().optional(),
  amount: z.object({ total: z.number().int(), refund: z.number().int() }).passthrough(),
});
export type RefundNotice = z.infer<typeof refundNoticeSchema>;
