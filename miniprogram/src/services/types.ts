/**
 * What the server's mini-program API returns (server/src/channels/miniprogram-api, miniprogram-chat, tickets).
 * Money is integer 分 (fen); dates are China calendar dates `YYYY-MM-DD`; instants are ISO strings.
 */

export interface ApiErrorBody {
  error: { code: string; message: string; details?: { fields?: string[]; [key: string]: unknown } };
}

export interface LoginResult {
  token: string;
  expiresIn: number;
  customer: { id: string };
}

// ---- Chat ----

export type ChatAuthor = 'user' | 'bot' | 'agent';
/** Who is answering: the bot, waiting in the agents' queue, or a human agent. */
export type ConversationState = 'bot' | 'waiting_agent' | 'human';

export interface ChatChoice {
  number: number;
  label: string;
}

export interface ChatLink {
  title: string;
  /** A mini-program page, e.g. `/pages/claims/new`. */
  page: string;
}

export interface ChatMessage {
  id: string;
  author: ChatAuthor;
  /** 'text' | 'choices' | 'news', and 'image' when the server sends pictures. */
  kind: string;
  text: string;
  choices?: ChatChoice[];
  links?: ChatLink[];
  /** A picture to show (agent images, news covers), when the server provides one. */
  imageUrl?: string;
  createdAt: string;
}

export interface SendChatResult {
  messages: ChatMessage[];
  state: ConversationState;
  duplicate: boolean;
}

export interface PollChatResult {
  messages: ChatMessage[];
  state: ConversationState;
  cursor: string | null;
}

// ---- Products and quotes ----

export interface ProductSummary {
  id: string;
  name: string;
  category: string;
  summary: string;
  insuredAge: { minDays?: number; minYears?: number; maxYears: number };
  coolingOffDays: number;
  waitingPeriodDays: number;
}

export interface ProductPlan {
  id: string;
  name: string;
  benefits: string[];
  sumInsuredFen?: number;
}

export interface ProductTerm {
  id: string;
  label: string;
  coverage: { years?: number; toAge?: number; tripDays?: { min: number; max: number } };
}

export interface ProductOption {
  id: string;
  label: string;
  default: string;
  choices: Array<{ id: string; label: string }>;
}

export interface ProductDetail extends ProductSummary {
  policyholderMinAge: number;
  insuredRelations: InsuredRelation[];
  renewable: boolean;
  beneficiary: string;
  sumInsured?: { minFen: number; maxFen: number; stepFen: number; maxByAge: Array<{ maxAge: number; maxFen: number }> };
  terms: ProductTerm[];
  plans: ProductPlan[];
  options: ProductOption[];
  healthQuestions: Array<{ id: string; text: string }>;
  claimDocuments: string[];
}

export type InsuredRelation = 'self' | 'spouse' | 'child' | 'parent';

export interface QuoteRequest {
  productId: string;
  planId: string;
  termId: string;
  sumInsuredFen?: number;
  options?: Record<string, string>;
  startDate?: string;
  tripDays?: number;
  insured: { birthDate?: string; idCard?: string };
  healthAnswers?: Record<string, boolean>;
}

export interface EligibilityReason {
  field: string;
  code: string;
  message: string;
}

export interface Quote {
  productId: string;
  productName: string;
  planId: string;
  planName: string;
  termId: string;
  termLabel: string;
  options: Record<string, string>;
  sumInsuredFen: number;
  premiumFen: number | null;
  cover: { startsOn: string; endsOn: string } | null;
  tripDays?: number;
  coolingOffDays: number;
  waitingPeriodDays: number;
  eligible: boolean;
  reasons: EligibilityReason[];
}

export interface Person {
  name: string;
  idCard: string;
  phone: string;
}

export interface OrderRequest extends Omit<QuoteRequest, 'insured'> {
  policyholder: Person;
  insured: { relation: InsuredRelation; name?: string; idCard?: string; phone?: string };
  beneficiary?: { type: 'legal' };
  healthAnswers: Record<string, boolean>;
  quotedPremiumFen: number;
}

export type OrderStatus = 'created' | 'paying' | 'paid' | 'issued' | 'refunding' | 'refunded' | 'refund_failed' | 'closed';

export interface Order {
  orderNumber: string;
  status: OrderStatus;
  statusLabel: string;
  productId: string;
  productName: string;
  planName: string;
  termLabel: string;
  sumInsuredFen: number;
  premiumFen: number;
  policyholder: { name: string; idCard: string; phone?: string };
  insured: { name: string; idCard: string; relation: InsuredRelation; relationLabel: string };
  payBy: string;
  createdAt: string;
  paidAt?: string;
  policyNumber?: string;
}

/** The arguments of wx.requestPayment, signed by the server. */
export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA' | 'MD5' | 'HMAC-SHA256';
  paySign: string;
}

export interface PaymentStart {
  order: Order;
  requestPayment: RequestPaymentParams;
}

// ---- Policies ----

export type PolicyState = 'pending' | 'in_force' | 'expired' | 'surrendered';

export interface PolicySummary {
  policyNumber: string;
  productId: string;
  productName: string;
  category: string;
  planName: string;
  insuredName: string;
  sumInsuredFen: number;
  premiumFen: number;
  startsOn: string;
  endsOn: string;
  status: PolicyState;
  statusLabel: string;
}

export interface PolicyDetail extends PolicySummary {
  orderNumber: string;
  termLabel: string;
  benefits: string[];
  policyholder: { name: string; idCard: string; phone?: string };
  insured: { name: string; idCard: string; relation: InsuredRelation; relationLabel: string };
  beneficiary: { type: 'legal'; label: string } | { type: 'designated'; people: Array<{ name: string; relation: string; sharePercent: number }> };
  issuedAt: string;
  waitingPeriodDays: number;
  coolingOff: { endsAt: string; canSurrender: boolean } | null;
  renewable: boolean;
  surrenderedAt?: string;
  claimDocuments: string[];
}

// ---- Claims ----

export type IncidentKind = 'illness' | 'accident' | 'hospitalization' | 'outpatient' | 'death' | 'trip' | 'other';
export type DocumentKind =
  | 'id_card' | 'diagnosis' | 'medical_record' | 'discharge_summary' | 'invoice' | 'expense_list'
  | 'accident_proof' | 'disability_assessment' | 'bank_card' | 'travel_proof' | 'other';
export type ClaimStatus = 'reported' | 'documents_needed' | 'under_review' | 'approved' | 'rejected' | 'paid';

export interface ClaimReport {
  policyId: string;
  incident: { kind: IncidentKind; occurredOn: string; description: string; place?: string; estimatedAmountFen?: number };
  contactPhone: string;
}

export interface ClaimDocument {
  id: string;
  kind: DocumentKind;
  fileName: string;
  contentType: string;
  bytes: number;
  uploadedAt: string;
  url: string;
}

export interface Claim {
  claimNumber: string;
  policyNumber: string;
  productName: string;
  insuredName: string;
  incident: ClaimReport['incident'];
  contactPhone: string;
  status: ClaimStatus;
  statusLabel: string;
  neededDocuments: string[];
  documents: ClaimDocument[];
  timeline: Array<{ at: string; status: ClaimStatus; statusLabel: string; note?: string; by: { kind: string; name?: string } }>;
  approvedAmountFen?: number;
  paidAmountFen?: number;
  rejectionReason?: string;
  createdAt: string;
  updatedAt: string;
}

export interface DocumentUpload {
  kind: DocumentKind;
  fileName: string;
  contentBase64: string;
}

// ---- Tickets ----

export interface Ticket {
  number: string;
  subject: string;
  status: 'open' | 'in_progress' | 'waiting_for_user' | 'resolved' | 'closed';
  statusLabel: string;
  createdAt: string;
  updatedAt: string;
  resolvedAt?: string;
  replies: Array<{ at: string; text: string }>;
}

export interface ItemList<T> {
  items: T[];
}
