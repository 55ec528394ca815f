import type { ClaimChange, ClaimHandling } from '../agents';
import { CLAIM_STATUS_LABELS, CLAIM_TRANSITIONS } from './claim-state';
import type { Claims } from './claims';
import type { ClaimRecord } from './models';
import { claimTransitionSchema } from './requests';
import { fieldError } from './errors';
import { yuanText } from './views';

const ACTION_WORDS: Record<string, string> = {
  documents_needed: '补材料', under_review: '审核', approved: '通过 <金额>', rejected: '拒赔 <原因>', paid: '赔付 <流水号>',
};

/** A claim in a few lines for an agent in WeCom (staff see the whole claim; this is what fits a chat message). */
function describeForAgent(claim: ClaimRecord): string {
  const lines = [
    `案件 ${claim._id}（${claim.productName}，被保险人 ${claim.insuredName}）：${CLAIM_STATUS_LABELS[claim.status]}`,
    `出险 ${claim.incident.occurredOn}：${claim.incident.description}`,
    `已上传材料 ${claim.documents.length} 份${claim.withinWaitingPeriod ? '；注意：出险在等待期内' : ''}`,
  ];
  if (claim.neededDocuments.length) lines.push(`待客户补充：${claim.neededDocuments.join('、')}`);
  if (claim.approvedAmountFen !== undefined) lines.push(`核定金额 ${yuanText(claim.approvedAmountFen)}`);
  if (claim.paidAmountFen !== undefined) lines.push(`已赔付 ${yuanText(claim.paidAmountFen)}（${claim.paymentReference ?? ''}）`);
  if (claim.rejectionReason) lines.push(`拒赔原因：${claim.rejectionReason}`);
  const next = CLAIM_TRANSITIONS[claim.status].map((to) => ACTION_WORDS[to]).filter(Boolean);
  if (next.length) lines.push(`可执行：${next.map((a) => `/claim ${claim._id} ${a}`).join('；')}`);
  return lines.join('\n');
}

/**
 * Claims handling for the agent desk's /claim command: the same move as `POST /api/staff/claims/:id/transitions`
 * (validation, allowed transitions, the payout checks — policy not void, paid ≤ approved, the sum insured over all
 * claims of the policy, one claim per payment reference —, timeline entry, subscription notice to the customer).
 * A refusal's message is what the agent reads after "无法处理案件 …", so the claims code words it for them.
 */
export function agentClaimHandling(claims: Claims): ClaimHandling {
  return {
    async describe(claimId) {
      return describeForAgent(await claims.get(claimId));
    },
    async move(agent, claimId, change: ClaimChange) {
      const parsed = claimTransitionSchema.safeParse(change);
      if (!parsed.success) throw fieldError(400, 'invalid_input', parsed.error.issues[0]?.path.join('.') || 'to', parsed.error.issues[0]?.message ?? 'invalid');
      const claim = await claims.moveByStaff(agent, claimId, parsed.data);
      return `已更新，客户会收到通知。\n${describeForAgent(claim)}`;
    },
  };
}
