import type { ClaimStatus, PolicyState } from '../services/types';

/** Status colours: green = fine, blue = in progress, orange = needs the customer, grey = over, red = refused. */
export const POLICY_TAG: Record<PolicyState, string> = {
  in_force: 'tag tag--green',
  pending: 'tag',
  expired: 'tag tag--grey',
  surrendered: 'tag tag--grey',
};

export const CLAIM_TAG: Record<ClaimStatus, string> = {
  reported: 'tag',
  documents_needed: 'tag tag--orange',
  under_review: 'tag',
  approved: 'tag tag--green',
  paid: 'tag tag--green',
  rejected: 'tag tag--red',
};

export const TICKET_TAG: Record<string, string> = {
  open: 'tag',
  in_progress: 'tag',
  waiting_for_user: 'tag tag--orange',
  resolved: 'tag tag--green',
  closed: 'tag tag--grey',
};
