/**
 * The order's life, as the only place that says which moves are allowed. Every write moves the order with a
 * conditional update on the current status, so two notifies or a notify and a cancel can never both win.
 * closed → paid is for money WeChat Pay took before its close took effect (a late notify, or the expiry job's
 * query); a close the payment provider accepted means no payment follows (the demo gateway records which came first).
 *
 *   created ──prepay──▶ paying ──notify──▶ paid ──policy──▶ issued ──surrender──▶ refunding ──▶ refunded
 *      │                  │  ▲ (new prepay)                                          │  ▲
 *      └──cancel/expire───┴──▶ closed ──late notify (money arrived anyway)──▶ paid   ▼  │ retry
 *                                                                               refund_failed
 */
export const ORDER_STATUSES = ['created', 'paying', 'paid', 'issued', 'refunding', 'refunded', 'refund_failed', 'closed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  created: ['paying', 'paid', 'closed'],
  paying: ['paying', 'paid', 'closed'],
  paid: ['issued'],
  issued: ['refunding'],
  refunding: ['refunded', 'refund_failed'],
  refund_failed: ['refunding'],
  refunded: [],
  closed: ['paid'],
};

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  created: '待支付',
  paying: '支付中',
  paid: '已支付，出单中',
  issued: '已出单',
  refunding: '退保退款中',
  refunded: '已退保退款',
  refund_failed: '退款失败，处理中',
  closed: '已关闭',
};

export function canMoveOrder(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** Every status from which `to` may be reached: the filter of the conditional update. */
export function orderStatusesBefore(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => canMoveOrder(from, to));
}

/** A payment can still be taken for the order. */
export const isAwaitingPayment = (status: OrderStatus) => status === 'created' || status === 'paying';
