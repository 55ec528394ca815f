import { CLAIM_STATUS_LABELS, OPEN_CLAIM_STATUSES, type ClaimStatus } from './claim-state';
import { resolveCustomer } from './bindings';
import { maskName } from '../nlu/masking';
import { Claim, Policy, type ClaimRecord, type PolicyRecord } from './models';
import { POLICY_STATE_LABELS, policyState, type PolicyState } from './views';

/**
 * What the bot may say about a chat user's own insurance ("我的保单", "理赔进度到哪了"): compact, live, no ID
 * numbers, the insured's name masked (the chat may be read over a shoulder).
 */
export interface PolicyFact {
  policyNumber: string;
  productName: string;
  planName: string;
  insuredName: string;
  status: PolicyState;
  statusLabel: string;
  startsOn: string;
  endsOn: string;
  sumInsuredFen: number;
  /** Set while a full-refund surrender is still possible. */
  coolingOffEndsAt?: Date;
}

export interface ClaimFact {
  claimNumber: string;
  policyNumber: string;
  productName: string;
  status: ClaimStatus;
  statusLabel: string;
  reportedAt: Date;
  updatedAt: Date;
  /** The latest step's note, e.g. what documents are missing. */
  latestNote?: string;
  neededDocuments: string[];
  approvedAmountFen?: number;
}

export type InsuranceFacts =
  | { linked: false }
  | { linked: true; customerId: string; policies: PolicyFact[]; openClaims: ClaimFact[] };

function policyFact(policy: PolicyRecord, now: Date): PolicyFact {
  const status = policyState(policy, now);
  return {
    policyNumber: policy._id,
    productName: policy.productName,
    planName: policy.planName,
    insuredName: maskName(policy.insured.name),
    status,
    statusLabel: POLICY_STATE_LABELS[status],
    startsOn: policy.startsOn,
    endsOn: policy.endsOn,
    sumInsuredFen: policy.sumInsuredFen,
    ...(policy.status === 'in_force' && policy.coolingOffEndsAt && now < policy.coolingOffEndsAt && { coolingOffEndsAt: policy.coolingOffEndsAt }),
  };
}

function claimFact(claim: ClaimRecord): ClaimFact {
  const latest = claim.timeline[claim.timeline.length - 1];
  return {
    claimNumber: claim._id,
    policyNumber: claim.policyId,
    productName: claim.productName,
    status: claim.status,
    statusLabel: CLAIM_STATUS_LABELS[claim.status],
    reportedAt: claim.createdAt,
    updatedAt: claim.updatedAt,
    ...(latest?.note && { latestNote: latest.note }),
    neededDocuments: claim.neededDocuments,
    ...(claim.approvedAmountFen !== undefined && { approvedAmountFen: claim.approvedAmountFen }),
  };
}

export const insuranceFacts = {
  /**
   * The user's policies (newest first; expired and surrendered ones last) and open claims. `openId` is an Official
   * Account follower (bound by code or unionid) or a mini-program user; `unionId` finds the customer directly.
   */
  async forUser(ref: { openId?: string; unionId?: string }, now: Date = new Date()): Promise<InsuranceFacts> {
    const customer = await resolveCustomer(ref);
    if (!customer) return { linked: false };
    const [policies, claims] = await Promise.all([
      Policy.find({ customerId: customer.id }).sort({ issuedAt: -1 }).limit(50).lean<PolicyRecord[]>(),
      Claim.find({ customerId: customer.id, status: { $in: OPEN_CLAIM_STATUSES } }).sort({ updatedAt: -1 }).limit(20).lean<ClaimRecord[]>(),
    ]);
    const rank = (fact: PolicyFact) => (fact.status === 'in_force' || fact.status === 'pending' ? 0 : 1);
    const facts = policies.map((p) => policyFact(p, now)).sort((a, b) => rank(a) - rank(b));
    return { linked: true, customerId: customer.id, policies: facts, openClaims: claims.map(claimFact) };
  },
};
