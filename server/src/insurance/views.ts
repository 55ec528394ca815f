import { CLAIM_STATUS_LABELS } from './claim-state';
import { maskIdCard, maskPhone } from '../nlu/masking';
import type { ClaimDocumentRecord, ClaimRecord, OrderRecord, PolicyRecord } from './models';
import { ORDER_STATUS_LABELS } from './order-state';
import type { Product } from './products';
import { RELATION_LABELS } from './validation';

/**
 * What the API returns: numbers in the insurer's words, ID numbers and phones masked (the customer typed them; they
 * need to recognise them, not read them back), money in integer 分, dates as China calendar dates.
 */

export type PolicyState = 'pending' | 'in_force' | 'expired' | 'surrendered';
export const POLICY_STATE_LABELS: Record<PolicyState, string> = {
  pending: '待生效',
  in_force: '保障中',
  expired: '已到期',
  surrendered: '已退保',
};

export function policyState(policy: Pick<PolicyRecord, 'status' | 'startsAt' | 'endsAt'>, now: Date): PolicyState {
  if (policy.status === 'surrendered') return 'surrendered';
  if (now < policy.startsAt) return 'pending';
  return now < policy.endsAt ? 'in_force' : 'expired';
}

const personView = (p: { name: string; idCard: string; phone?: string }) => ({
  name: p.name,
  idCard: maskIdCard(p.idCard),
  ...(p.phone && { phone: maskPhone(p.phone) }),
});

export function orderView(order: OrderRecord) {
  return {
    orderNumber: order._id,
    status: order.status,
    statusLabel: ORDER_STATUS_LABELS[order.status],
    productId: order.productId,
    productName: order.productName,
    category: order.category,
    planId: order.planId,
    planName: order.planName,
    termId: order.termId,
    termLabel: order.termLabel,
    options: order.options,
    sumInsuredFen: order.sumInsuredFen,
    premiumFen: order.premiumFen,
    ...(order.startDate && { startDate: order.startDate, tripDays: order.tripDays }),
    policyholder: personView(order.policyholder),
    insured: { ...personView(order.insured), relation: order.insured.relation, relationLabel: RELATION_LABELS[order.insured.relation] },
    payBy: order.payBy,
    createdAt: order.createdAt,
    ...(order.payment && { paidAt: order.payment.paidAt }),
    ...(order.policyId && { policyNumber: order.policyId }),
    ...(order.refund && { refund: { status: order.refund.status, amountFen: order.refund.amountFen, requestedAt: order.refund.requestedAt, completedAt: order.refund.completedAt } }),
  };
}

export function policySummary(policy: PolicyRecord, now: Date) {
  const state = policyState(policy, now);
  return {
    policyNumber: policy._id,
    productId: policy.productId,
    productName: policy.productName,
    category: policy.category,
    planName: policy.planName,
    insuredName: policy.insured.name,
    sumInsuredFen: policy.sumInsuredFen,
    premiumFen: policy.premiumFen,
    startsOn: policy.startsOn,
    endsOn: policy.endsOn,
    status: state,
    statusLabel: POLICY_STATE_LABELS[state],
  };
}

export function policyView(policy: PolicyRecord, now: Date) {
  const canSurrender = policy.status === 'in_force' && policy.coolingOffEndsAt !== undefined && now < policy.coolingOffEndsAt;
  return {
    ...policySummary(policy, now),
    orderNumber: policy.orderId,
    termLabel: policy.termLabel,
    benefits: policy.benefits,
    policyholder: personView(policy.policyholder),
    insured: { ...personView(policy.insured), relation: policy.insured.relation, relationLabel: RELATION_LABELS[policy.insured.relation] },
    beneficiary:
      policy.beneficiary.type === 'legal'
        ? { type: 'legal' as const, label: '法定受益人' }
        : { type: 'designated' as const, people: policy.beneficiary.people.map((p) => ({ name: p.name, relation: p.relation, sharePercent: p.sharePercent })) },
    issuedAt: policy.issuedAt,
    waitingPeriodDays: policy.waitingPeriodDays,
    coolingOff: policy.coolingOffEndsAt ? { endsAt: policy.coolingOffEndsAt, canSurrender } : null,
    renewable: policy.renewable,
    ...(policy.surrenderedAt && { surrenderedAt: policy.surrenderedAt }),
    claimDocuments: policy.claimDocuments,
  };
}

export function documentView(claimId: string, doc: ClaimDocumentRecord, base: string) {
  return {
    id: doc._id,
    kind: doc.kind,
    fileName: doc.fileName,
    contentType: doc.contentType,
    bytes: doc.bytes,
    uploadedAt: doc.uploadedAt,
    url: `${base}/${claimId}/documents/${doc._id}`,
  };
}

/** A customer's own claim. Staff see who acted; customers see "安心保理赔" for staff. */
export function claimView(claim: ClaimRecord, audience: 'customer' | 'staff' = 'customer') {
  const base = audience === 'customer' ? '/api/mp/claims' : '/api/staff/claims';
  return {
    claimNumber: claim._id,
    policyNumber: claim.policyId,
    productName: claim.productName,
    insuredName: claim.insuredName,
    incident: claim.incident,
    contactPhone: audience === 'customer' ? maskPhone(claim.contactPhone) : claim.contactPhone,
    status: claim.status,
    statusLabel: CLAIM_STATUS_LABELS[claim.status],
    neededDocuments: claim.neededDocuments,
    documents: claim.documents.map((d) => documentView(claim._id, d, base)),
    timeline: claim.timeline.map((entry) => ({
      at: entry.at,
      status: entry.status,
      statusLabel: CLAIM_STATUS_LABELS[entry.status],
      ...(entry.note && { note: entry.note }),
      by: audience === 'staff' ? entry.by : { kind: entry.by.kind, ...(entry.by.kind === 'staff' && { name: '安心保理赔' }) },
    })),
    ...(claim.approvedAmountFen !== undefined && { approvedAmountFen: claim.approvedAmountFen }),
    ...(claim.paidAmountFen !== undefined && { paidAmountFen: claim.paidAmountFen }),
    ...(claim.rejectionReason && { rejectionReason: claim.rejectionReason }),
    createdAt: claim.createdAt,
    updatedAt: claim.updatedAt,
    ...(audience === 'staff' && {
      customerId: claim.customerId,
      withinWaitingPeriod: claim.withinWaitingPeriod,
      paymentReference: claim.paymentReference,
    }),
  };
}

const fenOf = (yuan: number) => yuan * 100;

/** A product as the mini-program shows and quotes it: sums insured in 分 like every other amount. */
export function productView(product: Product) {
  return {
    id: product.id,
    name: product.name,
    category: product.category,
    summary: product.summary,
    insuredAge: product.insuredAge,
    policyholderMinAge: product.policyholderMinAge,
    insuredRelations: product.insuredRelations,
    coolingOffDays: product.coolingOffDays,
    waitingPeriodDays: product.waitingPeriodDays,
    renewable: product.renewable,
    beneficiary: product.beneficiary,
    ...(product.sumInsured && {
      sumInsured: {
        minFen: fenOf(product.sumInsured.minYuan),
        maxFen: fenOf(product.sumInsured.maxYuan),
        stepFen: fenOf(product.sumInsured.stepYuan),
        maxByAge: product.sumInsured.maxByAge.map((cap) => ({ maxAge: cap.maxAge, maxFen: fenOf(cap.maxYuan) })),
      },
    }),
    terms: product.terms.map((t) => ({ id: t.id, label: t.label, coverage: t.coverage })),
    plans: product.plans.map((p) => ({
      id: p.id,
      name: p.name,
      benefits: p.benefits,
      ...(p.sumInsuredYuan !== undefined && { sumInsuredFen: fenOf(p.sumInsuredYuan) }),
    })),
    options: product.options.map((o) => ({ id: o.id, label: o.label, default: o.default, choices: o.choices.map((c) => ({ id: c.id, label: c.label })) })),
    healthQuestions: product.healthQuestions,
    claimDocuments: product.claimDocuments,
  };
}

/** An amount in 分 as a customer or agent reads it in a chat: 15,000元. */
export const yuanText = (fen: number) => `${(fen / 100).toLocaleString('zh-CN')}元`;
