import { notFound } from '../http/errors';
import { addDays, addYears, chinaDate, startOfChinaDay, type CalendarDate } from './dates';
import { policyNumberFor } from './ids';
import { isDuplicateKey, Policy, type OrderRecord, type PolicyRecord } from './models';

/** Cover dates fixed at issue: the day after payment (trips: the chosen start, if still ahead). */
export function coverAtIssue(order: OrderRecord, paidAt: Date): { startsOn: CalendarDate; endsOn: CalendarDate } {
  const tomorrow = addDays(chinaDate(paidAt), 1);
  const coverage = order.terms.coverage;
  if ('years' in coverage) return { startsOn: tomorrow, endsOn: addDays(addYears(tomorrow, coverage.years), -1) };
  if ('toAge' in coverage) return { startsOn: tomorrow, endsOn: addDays(addYears(order.insured.birthDate, coverage.toAge), -1) };
  // A trip paid for after its chosen start (possible only if the payment was very late) keeps its length.
  const startsOn = order.startDate && order.startDate >= tomorrow ? order.startDate : tomorrow;
  return { startsOn, endsOn: addDays(startsOn, (order.tripDays ?? 1) - 1) };
}

/**
 * Issues the policy for a paid order, exactly once: the policy number is derived from the order number and is the
 * `_id`, so a second attempt (a resent notify, two notifies at once) hits the duplicate key and reads the first.
 */
export async function issuePolicy(order: OrderRecord, paidAt: Date): Promise<{ policy: PolicyRecord; created: boolean }> {
  const id = policyNumberFor(order._id);
  const existing = await Policy.findById(id).lean<PolicyRecord>();
  if (existing) return { policy: existing, created: false };
  const { startsOn, endsOn } = coverAtIssue(order, paidAt);
  const issueDay = chinaDate(paidAt);
  const policy: PolicyRecord = {
    _id: id,
    orderId: order._id,
    customerId: order.customerId,
    productId: order.productId,
    productName: order.productName,
    category: order.category,
    planId: order.planId,
    planName: order.planName,
    termLabel: order.termLabel,
    benefits: order.terms.benefits,
    claimDocuments: order.terms.claimDocuments,
    sumInsuredFen: order.sumInsuredFen,
    ...(order.terms.payoutLimitFen !== undefined && { payoutLimitFen: order.terms.payoutLimitFen }),
    premiumFen: order.premiumFen,
    policyholder: order.policyholder,
    insured: order.insured,
    beneficiary: order.beneficiary,
    startsOn,
    endsOn,
    startsAt: startOfChinaDay(startsOn),
    endsAt: startOfChinaDay(addDays(endsOn, 1)),
    issuedAt: paidAt,
    // 犹豫期 counts from the day after the (electronic) policy is issued: N whole days, then it closes at midnight.
    ...(order.terms.coolingOffDays > 0 && { coolingOffEndsAt: startOfChinaDay(addDays(issueDay, order.terms.coolingOffDays + 1)) }),
    waitingPeriodDays: order.terms.waitingPeriodDays,
    renewable: order.terms.renewable,
    status: 'in_force',
  };
  try {
    await Policy.create(policy);
    return { policy, created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const first = await Policy.findById(id).lean<PolicyRecord>();
    if (!first) throw err;
    return { policy: first, created: false };
  }
}

export async function policiesOf(customerId: string): Promise<PolicyRecord[]> {
  return Policy.find({ customerId }).sort({ issuedAt: -1 }).lean<PolicyRecord[]>();
}

/** Another customer's policy is "not found", never "forbidden": its existence is not theirs to learn. */
export async function policyOf(customerId: string, policyId: string): Promise<PolicyRecord> {
  const policy = await Policy.findById(policyId).lean<PolicyRecord>();
  if (!policy || policy.customerId !== customerId) throw notFound('policy_not_found', `no policy ${policyId}`);
  return policy;
}
