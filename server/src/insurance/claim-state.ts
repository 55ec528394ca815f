/**
 * The claim's life. Staff move it; the customer moves it only from documents_needed to under_review (by sending the
 * documents asked for). Each move adds a timeline entry and a notice to the customer.
 *
 *   reported ──▶ documents_needed ◀──▶ under_review ──▶ approved ──▶ paid
 *       └──────────────────────────────▶     │
 *                                             └──────▶ rejected
 */
export const CLAIM_STATUSES = ['reported', 'documents_needed', 'under_review', 'approved', 'rejected', 'paid'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

export const CLAIM_TRANSITIONS: Readonly<Record<ClaimStatus, readonly ClaimStatus[]>> = {
  reported: ['documents_needed', 'under_review', 'rejected'],
  documents_needed: ['under_review', 'rejected'],
  under_review: ['documents_needed', 'approved', 'rejected'],
  approved: ['paid'],
  rejected: [],
  paid: [],
};

/** Short enough for a subscription message `phrase` keyword (≤ 5 characters). */
export const CLAIM_STATUS_LABELS: Record<ClaimStatus, string> = {
  reported: '已报案',
  documents_needed: '待补材料',
  under_review: '审核中',
  approved: '审核通过',
  rejected: '未通过',
  paid: '已赔付',
};

/** Not finished: approved counts, its payment is still due. Rejected and paid are final. */
export const OPEN_CLAIM_STATUSES: readonly ClaimStatus[] = ['reported', 'documents_needed', 'under_review', 'approved'];
/** While a claim is in these, the customer may add documents. */
export const CLAIM_STATUSES_ACCEPTING_DOCUMENTS: readonly ClaimStatus[] = ['reported', 'documents_needed', 'under_review'];

export function canMoveClaim(from: ClaimStatus, to: ClaimStatus): boolean {
  return CLAIM_TRANSITIONS[from].includes(to);
}
