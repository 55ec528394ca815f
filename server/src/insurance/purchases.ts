import { createHash } from 'node:crypto';
import { LeaseBusyError, withLease } from '../db/lease';
import { conflict, HttpError, notFound } from '../http/errors';
import type { Logger } from '../logging/logger';
import type { PaymentGateway } from '../payments/gateway';
import { WechatPayApiError, WechatPayTransportError } from '../payments/client';
import type { NotifyDecision, PaymentNotifyHandler } from '../payments/routes';
import type { RequestPaymentParams } from '../payments/wechatpay/crypto';
import type { RefundNotice, Transaction } from '../payments/types';
import type { CustomerRef } from './customers';
import { ageOn, chinaDate, daysBetween, type CalendarDate } from './dates';
import { fieldError, notEligible, unavailable } from './errors';
import { businessNumber, refundNumberFor } from './ids';
import {
  InsuranceOrder,
  Policy,
  type BeneficiaryRecord,
  type InsuredRecord,
  type OrderRecord,
  type PersonRecord,
  type PolicyRecord,
} from './models';
import type { NoticeQueue } from './notices';
import { canMoveOrder, isAwaitingPayment, type OrderStatus } from './order-state';
import { issuePolicy, policyOf } from './policies';
import type { Product, ProductCatalog } from './products';
import { quote, QuoteInputError, type Quote } from './quote';
import type { OrderRequestBody, QuoteRequestBody } from './requests';
import { readIdCard, RELATION_LABELS, type IdCardInfo } from './validation';

/** How long an unpaid order (and its prepay) stays payable. */
const PAY_WINDOW_MS = 2 * 3_600_000;
const MIN_PARENT_CHILD_GAP_YEARS = 16;
const MIN_SPOUSE_AGE = 20;
const YUAN = 100;
/** Unpaid or paid-but-not-issued: an order that may still become a policy. */
const PENDING_ORDER_STATUSES: OrderStatus[] = ['created', 'paying', 'paid'];

function productFor(catalog: ProductCatalog, productId: string): Product {
  const product = catalog.get(productId);
  if (!product) {
    throw fieldError(400, 'unknown_product', 'productId', `no product "${productId}" (one of: ${catalog.list().map((p) => p.id).join(', ')})`);
  }
  return product;
}

function quoteOrThrow(product: Product, request: Parameters<typeof quote>[1], today: CalendarDate): Quote {
  try {
    return quote(product, request, today);
  } catch (err) {
    if (err instanceof QuoteInputError) throw fieldError(400, 'invalid_input', err.field, err.message.slice(err.field.length + 2));
    throw err;
  }
}

/**
 * Cover of products without trips starts at 00:00 the day after payment (policies.ts, "次日零时生效") and is priced
 * on the insured's age today; only trip terms take a start date and a number of days. Refused rather than ignored,
 * so a buyer never believes in a start date the policy will not have.
 */
function refuseTripFieldsOutsideTrips(product: Product, body: Pick<QuoteRequestBody, 'termId' | 'startDate' | 'tripDays'>): void {
  const term = product.terms.find((t) => t.id === body.termId);
  if (!term || 'tripDays' in term.coverage) return;
  for (const field of ['startDate', 'tripDays'] as const) {
    if (body[field] !== undefined) {
      throw fieldError(400, 'field_not_applicable', field, `does not apply to ${product.name}: its cover starts at 00:00 the day after payment; only trip products take startDate and tripDays`);
    }
  }
}

/** The parts of an order that make it the same purchase: a second one with equal content is a double submit. */
function purchaseContentOf(order: OrderRecord): string {
  const person = (p: PersonRecord) => [p.name, p.idCard, p.phone ?? null];
  return JSON.stringify([
    order.productId,
    order.planId,
    order.termId,
    Object.keys(order.options ?? {}).sort().map((key) => [key, order.options[key]]),
    order.sumInsuredFen,
    order.premiumFen,
    order.startDate ?? null,
    order.tripDays ?? null,
    person(order.policyholder),
    [...person(order.insured), order.insured.relation],
    order.beneficiary.type,
    order.beneficiary.people.map((b) => [b.name, b.idCard, b.relation, b.sharePercent]),
    order.healthAnswers.map((a) => [a.questionId, a.answer]),
  ]);
}

/** The lease serialising orders of one product for one insured person (the ID number hashed: lease names show in errors). */
const orderLeaseName = (productId: string, insuredIdCard: string) =>
  `order:${productId}:${createHash('sha256').update(insuredIdCard).digest('hex').slice(0, 24)}`;

const idInfo = (idCard: string): IdCardInfo => {
  const read = readIdCard(idCard);
  // The request schema already refused malformed numbers; this is the typed read of a valid one.
  if (!read.ok) throw fieldError(400, 'invalid_input', 'idCard', read.message);
  return read.info;
};

/** POST /quotes: price and eligibility; a refusal is a quote with reasons, not an error. */
export function priceQuote(catalog: ProductCatalog, body: QuoteRequestBody, now: Date): Quote {
  const product = productFor(catalog, body.productId);
  refuseTripFieldsOutsideTrips(product, body);
  let birthDate = body.insured.birthDate;
  if (body.insured.idCard) {
    const fromId = idInfo(body.insured.idCard).birthDate;
    if (birthDate && birthDate !== fromId) throw fieldError(400, 'invalid_input', 'insured.birthDate', 'does not match the birth date in insured.idCard');
    birthDate = fromId;
  }
  return quoteOrThrow(product, { ...body, insuredBirthDate: birthDate as CalendarDate }, chinaDate(now));
}

export interface PurchasesDeps {
  catalog: ProductCatalog;
  /** Absent when WeChat Pay is not configured: orders can be made, not paid. */
  payments?: PaymentGateway;
  notices: NoticeQueue;
  clock: () => Date;
  logger?: Logger;
}

/** What a surrender returns: the policy (surrendered) and its order (refunding or refunded). */
export interface SurrenderResult {
  policy: PolicyRecord;
  order: OrderRecord;
}

/**
 * Orders from creation to policy, and back to a refund: the payment-notify handler for WeChat Pay is this object.
 * Every status change goes through `move`, a conditional update on the status read, so a change is made once.
 */
export class Purchases implements PaymentNotifyHandler {
  constructor(private readonly deps: PurchasesDeps) {}

  private now(): Date {
    return this.deps.clock();
  }

  // ---- Buying ----

  async createOrder(customer: CustomerRef, body: OrderRequestBody): Promise<OrderRecord> {
    const now = this.now();
    const today = chinaDate(now);
    const product = productFor(this.deps.catalog, body.productId);
    refuseTripFieldsOutsideTrips(product, body);

    const holderId = idInfo(body.policyholder.idCard);
    const policyholder: PersonRecord = {
      name: body.policyholder.name,
      idCard: holderId.number,
      birthDate: holderId.birthDate,
      gender: holderId.gender,
      phone: body.policyholder.phone,
    };
    if (ageOn(holderId.birthDate, today).years < product.policyholderMinAge) {
      throw fieldError(422, 'policyholder_too_young', 'policyholder.idCard', `投保人须年满${product.policyholderMinAge}周岁`);
    }
    const insured = this.insuredOf(body, policyholder, product, today);
    const beneficiary = this.beneficiaryOf(body, product, insured);

    const missing = product.healthQuestions.filter((q) => typeof body.healthAnswers[q.id] !== 'boolean').map((q) => `healthAnswers.${q.id}`);
    if (missing.length) {
      throw new HttpError(400, 'health_answers_missing', `${missing.join(', ')}: every health question must be answered (true or false)`, { fields: missing });
    }
    const priced = quoteOrThrow(product, { ...body, insuredBirthDate: insured.birthDate }, today);
    if (!priced.eligible) throw notEligible(priced.reasons);
    if (priced.premiumFen === null) throw fieldError(422, 'not_eligible', 'insured', '被保险人年龄不在承保范围内');
    if (body.quotedPremiumFen !== priced.premiumFen) {
      throw fieldError(409, 'premium_changed', 'quotedPremiumFen', `the premium is ${priced.premiumFen}, not ${body.quotedPremiumFen}; quote again`, {
        premiumFen: priced.premiumFen,
      });
    }

    const term = product.terms.find((t) => t.id === priced.termId);
    const plan = product.plans.find((p) => p.id === priced.planId);
    if (!term || !plan) throw new Error('quote returned an unknown term or plan');
    const order: OrderRecord = {
      _id: businessNumber('AXO', now),
      customerId: customer.id,
      payerOpenId: customer.mpOpenId,
      productId: product.id,
      productName: product.name,
      category: product.category,
      planId: plan.id,
      planName: plan.name,
      termId: term.id,
      termLabel: term.label,
      terms: {
        coverage: term.coverage,
        coolingOffDays: product.coolingOffDays,
        waitingPeriodDays: product.waitingPeriodDays,
        renewable: product.renewable,
        benefits: plan.benefits,
        claimDocuments: product.claimDocuments,
        ...(plan.payoutLimit && {
          payoutLimitFen: Math.round((priced.sumInsuredFen * plan.payoutLimit.percentOfSumInsured) / 100) + (plan.payoutLimit.plusYuan ?? 0) * 100,
        }),
      },
      options: priced.options,
      sumInsuredFen: priced.sumInsuredFen,
      premiumFen: priced.premiumFen,
      ...(priced.tripDays !== undefined && { startDate: body.startDate, tripDays: priced.tripDays }),
      policyholder,
      insured,
      beneficiary,
      healthAnswers: product.healthQuestions.map((q) => ({ questionId: q.id, question: q.text, answer: body.healthAnswers[q.id] })),
      status: 'created',
      history: [{ at: now, to: 'created' }],
      payBy: new Date(now.getTime() + PAY_WINDOW_MS),
      createdAt: now,
      updatedAt: now,
    };
    // One decision at a time per insured person and product, on every instance: two requests at once would both
    // see no earlier order and both insert.
    try {
      return await withLease(
        orderLeaseName(product.id, insured.idCard),
        async () => {
          const twin = await this.unpaidTwinOf(order, now);
          if (twin) return twin;
          await this.refuseAboveSumInsuredCap(product, order, priced.insuredAge.years, now);
          await InsuranceOrder.create(order);
          return order;
        },
        { waitMs: 10_000 },
      );
    } catch (err) {
      if (err instanceof LeaseBusyError) throw unavailable('order_busy', 'another order for this insured person is being placed; please try again');
      throw err;
    }
  }

  /**
   * The same customer's unpaid order with the same content, still payable. It is returned instead of a second
   * order: a double tap or a resubmit after a lost answer then leads to the one order to pay (the mini-program goes
   * on to its pay page), and never to two policies for one purchase.
   */
  private async unpaidTwinOf(order: OrderRecord, now: Date): Promise<OrderRecord | undefined> {
    const unpaid = await InsuranceOrder.find({ customerId: order.customerId, productId: order.productId, status: { $in: ['created', 'paying'] } })
      .sort({ createdAt: -1 })
      .lean<OrderRecord[]>();
    const content = purchaseContentOf(order);
    return unpaid.find((o) => o.payBy > now && o.insured.idCard === order.insured.idCard && purchaseContentOf(o) === content);
  }

  /**
   * The product's sum-insured cap for the insured's age (maxByAge) holds per person, not per order: their policies
   * in force plus orders that may still become policies (whoever bought them) plus this one must stay within it.
   */
  private async refuseAboveSumInsuredCap(product: Product, order: OrderRecord, insuredAgeYears: number, now: Date): Promise<void> {
    const plan = product.plans.find((p) => p.id === order.planId);
    const cap = product.sumInsured?.maxByAge.find((c) => c.maxAge >= insuredAgeYears);
    // Fixed-sum plans are not under the chosen-sum cap (as in the quote).
    if (!cap || plan?.sumInsuredYuan !== undefined) return;
    const capFen = cap.maxYuan * YUAN;
    const sameInsured = { productId: product.id, 'insured.idCard': order.insured.idCard };
    const policies = await Policy.find({ ...sameInsured, status: 'in_force', endsAt: { $gt: now } }).lean<PolicyRecord[]>();
    const pending = await InsuranceOrder.find({ ...sameInsured, status: { $in: PENDING_ORDER_STATUSES } }).lean<OrderRecord[]>();
    const counted = new Set(policies.map((p) => p.orderId));
    // An unpaid order past its pay window can no longer be paid (its prepay expired with it).
    const stillPending = pending.filter((o) => !counted.has(o._id) && (o.status === 'paid' || o.payBy > now));
    const existingFen = [...policies, ...stillPending].reduce((sum, r) => sum + r.sumInsuredFen, 0);
    if (existingFen + order.sumInsuredFen <= capFen) return;
    const wan = (fen: number) => `${fen / YUAN / 10_000}万元`;
    throw fieldError(
      422,
      'sum_insured_cap_exceeded',
      'sumInsuredFen',
      `被保险人${insuredAgeYears}周岁，本产品累计最高可投保额${wan(capFen)}；已有有效保单及未完成订单合计${wan(existingFen)}，` +
        `本单最多还可投保${wan(Math.max(capFen - existingFen, 0))}（未支付的订单可取消后重新下单）`,
      { capFen, existingFen, remainingFen: Math.max(capFen - existingFen, 0) },
    );
  }

  private insuredOf(body: OrderRequestBody, holder: PersonRecord, product: Product, today: CalendarDate): InsuredRecord {
    const relation = body.insured.relation;
    let insured: InsuredRecord;
    if (relation === 'self') {
      if (body.insured.idCard && body.insured.idCard !== holder.idCard) {
        throw fieldError(400, 'invalid_input', 'insured.idCard', 'must be the policyholder\'s ID number when insured.relation is self');
      }
      insured = { ...holder, phone: body.insured.phone ?? holder.phone, relation };
    } else {
      const info = idInfo(body.insured.idCard ?? '');
      if (info.number === holder.idCard) {
        throw fieldError(400, 'invalid_input', 'insured.idCard', 'is the policyholder\'s own ID number; use insured.relation self');
      }
      insured = { name: body.insured.name ?? '', idCard: info.number, birthDate: info.birthDate, gender: info.gender, phone: body.insured.phone, relation };
    }
    if (!product.insuredRelations.includes(relation)) {
      const allowed = product.insuredRelations.map((r) => RELATION_LABELS[r]).join('、');
      throw fieldError(422, 'relation_not_allowed', 'insured.relation', `本产品的被保险人须为投保人的${allowed}`);
    }
    const gap = ageOn(holder.birthDate, insured.birthDate).years; // how much older the policyholder is
    if (relation === 'child' && gap < MIN_PARENT_CHILD_GAP_YEARS) {
      throw fieldError(422, 'relation_implausible', 'insured.relation', '被保险人与投保人的年龄不符合子女关系，请核对证件号码');
    }
    if (relation === 'parent' && -gap < MIN_PARENT_CHILD_GAP_YEARS) {
      throw fieldError(422, 'relation_implausible', 'insured.relation', '被保险人与投保人的年龄不符合父母关系，请核对证件号码');
    }
    if (relation === 'spouse' && ageOn(insured.birthDate, today).years < MIN_SPOUSE_AGE) {
      throw fieldError(422, 'relation_implausible', 'insured.relation', '被保险人年龄不符合配偶关系，请核对证件号码');
    }
    return insured;
  }

  private beneficiaryOf(body: OrderRequestBody, product: Product, insured: InsuredRecord): BeneficiaryRecord {
    if (body.beneficiary.type === 'legal') return { type: 'legal', people: [] };
    if (product.beneficiary !== 'designatable') {
      throw fieldError(400, 'invalid_input', 'beneficiary.type', 'this product pays the insured; only legal (法定) beneficiaries');
    }
    const people = body.beneficiary.people;
    const total = people.reduce((sum, p) => sum + p.sharePercent, 0);
    if (total !== 100) throw fieldError(400, 'invalid_input', 'beneficiary.people', `shares must add up to 100 (they add up to ${total})`);
    const seen = new Set<string>();
    people.forEach((person, i) => {
      const info = idInfo(person.idCard);
      if (info.number === insured.idCard) {
        throw fieldError(400, 'invalid_input', `beneficiary.people.${i}.idCard`, 'is the insured; the insured cannot be the death-benefit beneficiary');
      }
      if (seen.has(info.number)) throw fieldError(400, 'invalid_input', `beneficiary.people.${i}.idCard`, 'appears twice');
      seen.add(info.number);
    });
    return { type: 'designated', people: people.map((p) => ({ ...p, idCard: idInfo(p.idCard).number })) };
  }

  async ordersOf(customer: CustomerRef): Promise<OrderRecord[]> {
    return InsuranceOrder.find({ customerId: customer.id }).sort({ createdAt: -1 }).limit(100).lean<OrderRecord[]>();
  }

  async orderOf(customer: CustomerRef, orderId: string): Promise<OrderRecord> {
    const order = await InsuranceOrder.findById(orderId).lean<OrderRecord>();
    if (!order || order.customerId !== customer.id) throw notFound('order_not_found', `no order ${orderId}`);
    return order;
  }

  /** Prepays once per order and returns fresh wx.requestPayment parameters each time it is asked. */
  async startPayment(customer: CustomerRef, orderId: string): Promise<{ order: OrderRecord; payment: RequestPaymentParams }> {
    const payments = this.requirePayments();
    const now = this.now();
    let order = await this.orderOf(customer, orderId);
    if (!isAwaitingPayment(order.status)) {
      throw conflict('order_not_payable', `order ${order._id} is ${order.status}; it cannot be paid`);
    }
    if (now >= order.payBy) {
      await this.closeUnpaid(order, 'pay window passed');
      throw conflict('order_expired', `order ${order._id} was not paid in time; please order again`);
    }
    if (order.startDate && daysBetween(chinaDate(now), order.startDate) < 1) {
      throw fieldError(409, 'start_date_passed', 'startDate', '起保日期已到，请重新选择出行日期下单');
    }
    let prepayId = order.prepay?.prepayId;
    if (!prepayId) {
      ({ prepayId } = await this.callPayments(() =>
        payments.prepay({
          outTradeNo: order._id,
          description: `${order.productName} ${order.planName}`,
          amountFen: order.premiumFen,
          payerOpenId: order.payerOpenId,
          payBy: order.payBy,
        }),
      ));
      const moved = await this.move(order, 'paying', { prepay: { prepayId, requestedAt: now } }, 'prepay');
      order = moved.order;
    }
    return { order, payment: payments.requestPaymentParams(prepayId) };
  }

  async cancelOrder(customer: CustomerRef, orderId: string): Promise<OrderRecord> {
    const order = await this.orderOf(customer, orderId);
    if (!isAwaitingPayment(order.status)) throw conflict('order_not_cancellable', `order ${order._id} is ${order.status}`);
    return this.closeUnpaid(order, 'cancelled by the customer');
  }

  /** Closes at WeChat Pay first, so the order can no longer be paid, then here. */
  private async closeUnpaid(order: OrderRecord, note: string): Promise<OrderRecord> {
    if (order.prepay && this.deps.payments) {
      const payments = this.deps.payments;
      const closed = await this.callPayments(() => payments.closeOrder(order._id));
      if (closed === 'already_paid') throw conflict('order_already_paid', `order ${order._id} has just been paid; the policy is being issued`);
    }
    const moved = await this.move(order, 'closed', {}, note);
    if (!moved.moved && moved.order.status !== 'closed') throw conflict('order_not_cancellable', `order ${order._id} is ${moved.order.status}`);
    return moved.order;
  }

  // ---- WeChat Pay says ----

  /** Payment notify (and the query fallback): amount checked, order paid, policy issued once, customer told once. */
  async onPaymentSucceeded(transaction: Transaction): Promise<NotifyDecision> {
    const now = this.now();
    const order = await InsuranceOrder.findById(transaction.out_trade_no).lean<OrderRecord>();
    if (!order) return { accept: false, reason: 'unknown_order' };
    if (transaction.amount.total !== order.premiumFen) {
      this.deps.logger?.error({ orderId: order._id, paid: transaction.amount.total, due: order.premiumFen }, 'paid amount differs from the premium');
      return { accept: false, reason: 'amount_mismatch' };
    }
    if (transaction.payer?.openid && transaction.payer.openid !== order.payerOpenId) {
      this.deps.logger?.warn({ orderId: order._id }, 'payer differs from the ordering customer');
    }
    let current = order;
    if (current.status === 'closed') {
      // WeChat Pay refuses a payment after a successful close, so money on a closed order was paid before the close
      // took effect: the customer paid, and gets the policy (with its cooling-off period to surrender).
      this.deps.logger?.warn({ orderId: order._id }, 'payment arrived for a closed order; issuing the policy');
    }
    if (canMoveOrder(current.status, 'paid')) {
      const paidAt = transaction.success_time ? new Date(transaction.success_time) : now;
      const payment = {
        transactionId: transaction.transaction_id ?? '',
        paidAt: Number.isNaN(paidAt.getTime()) ? now : paidAt,
        amountFen: transaction.amount.total,
        payerOpenId: transaction.payer?.openid,
      };
      current = (await this.move(current, 'paid', { payment }, 'WeChat Pay: SUCCESS')).order;
    }
    if (current.status === 'paid') {
      const { policy, created } = await issuePolicy(current, current.payment?.paidAt ?? now);
      await this.move(current, 'issued', { policyId: policy._id }, `policy ${policy._id}`);
      if (created) {
        this.deps.notices.enqueue(current.customerId, {
          kind: 'policy_issued',
          policyId: policy._id,
          productName: policy.productName,
          startsOn: policy.startsOn,
          premiumFen: policy.premiumFen,
        });
      }
    }
    return { accept: true };
  }

  async onRefundChanged(notice: RefundNotice): Promise<NotifyDecision> {
    const order = await InsuranceOrder.findById(notice.out_trade_no).lean<OrderRecord>();
    if (!order?.refund || order.refund.outRefundNo !== notice.out_refund_no) return { accept: false, reason: 'unknown_refund' };
    await this.applyRefundStatus(order, notice.refund_status, notice.refund_id);
    return { accept: true };
  }

  private async applyRefundStatus(order: OrderRecord, status: string, refundId: string | undefined): Promise<OrderRecord> {
    const now = this.now();
    const refund = { ...order.refund!, status, ...(refundId && { refundId }) };
    if (status === 'SUCCESS') return (await this.move(order, 'refunded', { refund: { ...refund, completedAt: now } }, 'refund succeeded')).order;
    if (status === 'CLOSED' || status === 'ABNORMAL') {
      this.deps.logger?.error({ orderId: order._id, status }, 'refund did not go through');
      return (await this.move(order, 'refund_failed', { refund }, `refund ${status}`)).order;
    }
    await InsuranceOrder.updateOne({ _id: order._id, status: order.status }, { $set: { refund, updatedAt: now } });
    return { ...order, refund };
  }

  // ---- Surrender (退保) in the cooling-off period ----

  async surrender(customer: CustomerRef, policyId: string, reason = '犹豫期内退保'): Promise<SurrenderResult> {
    const payments = this.requirePayments();
    const now = this.now();
    const policy = await policyOf(customer.id, policyId);
    let order = await InsuranceOrder.findById(policy.orderId).lean<OrderRecord>();
    if (!order) throw new Error(`policy ${policy._id} has no order`);

    if (policy.status === 'in_force') {
      if (!policy.coolingOffEndsAt) {
        throw conflict('no_cooling_off_period', '本产品没有犹豫期，如需退保请联系人工客服办理');
      }
      if (now >= policy.coolingOffEndsAt) {
        throw conflict('cooling_off_period_over', '已过犹豫期，无法全额退保；如需退保请联系人工客服办理');
      }
      if (order.status === 'issued') {
        const refund = { outRefundNo: refundNumberFor(order._id), status: 'REQUESTED', amountFen: order.premiumFen, reason, requestedAt: now };
        order = (await this.move(order, 'refunding', { refund }, reason)).order;
      }
      // Anything else than a refund under way means the order is not one that can be surrendered here.
      if (order.status !== 'refunding' && order.status !== 'refund_failed') {
        throw conflict('not_surrenderable', `order ${order._id} is ${order.status}`);
      }
      // Cover ends now; the refund follows (and is retried by asking again if WeChat Pay is unreachable).
      await Policy.updateOne({ _id: policy._id, status: 'in_force' }, { $set: { status: 'surrendered', surrenderedAt: now } });
    } else if (order.status !== 'refunding' && order.status !== 'refund_failed') {
      throw conflict('already_surrendered', `policy ${policy._id} is already surrendered`);
    }

    if (order.status === 'refund_failed') order = (await this.move(order, 'refunding', {}, 'refund retried')).order;
    const refund = order.refund!;
    try {
      const result = await payments.refund({
        outTradeNo: order._id,
        outRefundNo: refund.outRefundNo,
        amountFen: refund.amountFen,
        totalFen: order.premiumFen,
        reason: refund.reason,
      });
      order = await this.applyRefundStatus(order, result.status, result.refundId);
    } catch (err) {
      // The surrender stands; the refund is asked again with the same number (it refunds once).
      this.deps.logger?.error({ err, orderId: order._id }, 'refund request failed');
    }
    const surrendered = await Policy.findById(policy._id).lean<PolicyRecord>();
    return { policy: surrendered ?? policy, order };
  }

  // ---- Housekeeping ----

  /**
   * Unpaid orders past their pay window: ask WeChat Pay first (a notify may have been lost — the spec's query
   * fallback), then close. Run by the scheduled job.
   */
  async closeExpiredOrders(): Promise<{ closed: number; paidLate: number }> {
    const now = this.now();
    const stale = await InsuranceOrder.find({ status: { $in: ['created', 'paying'] }, payBy: { $lt: now } }).limit(200).lean<OrderRecord[]>();
    let closed = 0;
    let paidLate = 0;
    for (const order of stale) {
      try {
        if (order.prepay && this.deps.payments) {
          const transaction = await this.deps.payments.queryPayment(order._id);
          if (transaction?.trade_state === 'SUCCESS') {
            await this.onPaymentSucceeded(transaction);
            paidLate += 1;
            continue;
          }
          if ((await this.deps.payments.closeOrder(order._id)) === 'already_paid') continue;
        }
        if ((await this.move(order, 'closed', {}, 'pay window passed')).moved) closed += 1;
      } catch (err) {
        this.deps.logger?.warn({ err, orderId: order._id }, 'could not settle an unpaid order');
      }
    }
    return { closed, paidLate };
  }

  // ---- Internals ----

  private requirePayments(): PaymentGateway {
    if (!this.deps.payments) throw unavailable('payments_unavailable', 'online payment is not configured on this server');
    return this.deps.payments;
  }

  private async callPayments<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.deps.logger?.error({ err }, 'WeChat Pay call failed');
      if (err instanceof WechatPayApiError) throw new HttpError(502, 'payment_provider_error', `WeChat Pay refused the request (${err.code})`);
      if (err instanceof WechatPayTransportError) throw new HttpError(503, 'payment_provider_unavailable', 'WeChat Pay did not answer; please try again');
      throw err;
    }
  }

  /**
   * Moves the order from the status it was read in; if someone else moved it meanwhile, re-reads and tries again
   * while the move is still allowed. Returns the order as it now is, and whether this call moved it.
   */
  private async move(order: OrderRecord, to: OrderStatus, set: Partial<OrderRecord>, note?: string): Promise<{ moved: boolean; order: OrderRecord }> {
    let current = order;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (!canMoveOrder(current.status, to)) return { moved: false, order: current };
      const at = this.now();
      const updated = await InsuranceOrder.findOneAndUpdate(
        { _id: current._id, status: current.status },
        { $set: { ...set, status: to, updatedAt: at }, $push: { history: { at, from: current.status, to, ...(note && { note }) } } },
        { returnDocument: 'after' },
      ).lean<OrderRecord>();
      if (updated) return { moved: true, order: updated };
      const fresh = await InsuranceOrder.findById(current._id).lean<OrderRecord>();
      if (!fresh) throw new Error(`order ${current._id} disappeared`);
      current = fresh;
    }
    return { moved: false, order: current };
  }
}
