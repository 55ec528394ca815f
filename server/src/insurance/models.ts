import mongoose, { Schema } from 'mongoose';
import { CLAIM_STATUSES, type ClaimStatus } from './claim-state';
import { ORDER_STATUSES, type OrderStatus } from './order-state';
import { BENEFICIARY_RELATIONS, INSURED_RELATIONS, type BeneficiaryRelation, type InsuredRelation } from './validation';
import { PRODUCT_CATEGORIES, type Coverage, type Product } from './products';

/**
 * Insurance records. Portability (FerretDB 1.24 in tests): natural string `_id`s for every hot lookup (order number
 * = out_trade_no, policy number, claim number, session hash), no TTL or partial indexes (expiry is a date filter),
 * duplicates detected by code 11000 on insert only. Other folders use the services, never these models.
 */

// ---- Customer: a mini-program user, as the insurer knows them ----

export interface CustomerRecord {
  /** `cu_` + hash of the mini-program openid: a key read on login and for the bot, without spreading the openid. */
  _id: string;
  mpOpenId: string;
  /** Joins the Official Account follower to this customer when the apps share an Open Platform account. */
  unionId?: string;
  createdAt: Date;
  lastLoginAt: Date;
}

const customerSchema = new Schema<CustomerRecord>({
  _id: { type: String, required: true },
  mpOpenId: { type: String, required: true },
  unionId: { type: String, index: true },
  createdAt: { type: Date, required: true },
  lastLoginAt: { type: Date, required: true },
});

// ---- People on an order or policy ----

export interface PersonRecord {
  name: string;
  idCard: string;
  birthDate: string;
  gender: 'male' | 'female';
  phone?: string;
}
export interface InsuredRecord extends PersonRecord {
  relation: InsuredRelation;
}
export interface BeneficiaryPersonRecord {
  name: string;
  idCard: string;
  relation: BeneficiaryRelation;
  sharePercent: number;
}
export interface BeneficiaryRecord {
  type: 'legal' | 'designated';
  people: BeneficiaryPersonRecord[];
}
export interface HealthAnswerRecord {
  questionId: string;
  question: string;
  answer: boolean;
}

const personFields = {
  name: { type: String, required: true },
  idCard: { type: String, required: true },
  birthDate: { type: String, required: true },
  gender: { type: String, enum: ['male', 'female'], required: true },
  phone: String,
};
const personSchema = new Schema<PersonRecord>(personFields, { _id: false });
const insuredSchema = new Schema<InsuredRecord>(
  { ...personFields, relation: { type: String, enum: INSURED_RELATIONS, required: true } },
  { _id: false },
);
const beneficiarySchema = new Schema<BeneficiaryRecord>(
  {
    type: { type: String, enum: ['legal', 'designated'], required: true },
    people: {
      type: [
        new Schema<BeneficiaryPersonRecord>(
          {
            name: { type: String, required: true },
            idCard: { type: String, required: true },
            relation: { type: String, enum: BENEFICIARY_RELATIONS, required: true },
            sharePercent: { type: Number, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
  },
  { _id: false },
);
const healthAnswerSchema = new Schema<HealthAnswerRecord>(
  { questionId: { type: String, required: true }, question: { type: String, required: true }, answer: { type: Boolean, required: true } },
  { _id: false },
);

// ---- Order: one purchase, from quote to policy (or refund) ----

export interface OrderStatusChange {
  at: Date;
  from?: OrderStatus;
  to: OrderStatus;
  note?: string;
}

/** What the policy will need from the product, copied at order time so a later product edit changes nothing sold. */
export interface OrderTerms {
  coverage: Coverage;
  coolingOffDays: number;
  waitingPeriodDays: number;
  renewable: boolean;
  benefits: string[];
  claimDocuments: string[];
  /** The plan's payout limit over the term (see products.ts `payoutLimit`), when it has one. */
  payoutLimitFen?: number;
}

export interface OrderRecord {
  /** The order number, also WeChat Pay's out_trade_no. */
  _id: string;
  customerId: string;
  /** The mini-program openid that pays (JSAPI payer); taken from the session, never from the client. */
  payerOpenId: string;
  productId: string;
  productName: string;
  category: Product['category'];
  planId: string;
  planName: string;
  termId: string;
  termLabel: string;
  terms: OrderTerms;
  options: Record<string, string>;
  sumInsuredFen: number;
  premiumFen: number;
  startDate?: string;
  tripDays?: number;
  policyholder: PersonRecord;
  insured: InsuredRecord;
  beneficiary: BeneficiaryRecord;
  healthAnswers: HealthAnswerRecord[];
  status: OrderStatus;
  history: OrderStatusChange[];
  /** Unpaid orders are closed after this; also the prepay's time_expire. */
  payBy: Date;
  prepay?: { prepayId: string; requestedAt: Date };
  payment?: { transactionId: string; paidAt: Date; amountFen: number; payerOpenId?: string };
  refund?: {
    outRefundNo: string;
    refundId?: string;
    status: string;
    amountFen: number;
    reason: string;
    requestedAt: Date;
    completedAt?: Date;
  };
  policyId?: string;
  createdAt: Date;
  updatedAt: Date;
}

const orderSchema = new Schema<OrderRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true, index: true },
    payerOpenId: { type: String, required: true },
    productId: { type: String, required: true },
    productName: { type: String, required: true },
    category: { type: String, enum: PRODUCT_CATEGORIES, required: true },
    planId: { type: String, required: true },
    planName: { type: String, required: true },
    termId: { type: String, required: true },
    termLabel: { type: String, required: true },
    terms: {
      type: new Schema<OrderTerms>(
        {
          coverage: { type: Schema.Types.Mixed, required: true },
          coolingOffDays: { type: Number, required: true },
          waitingPeriodDays: { type: Number, required: true },
          renewable: { type: Boolean, required: true },
          benefits: { type: [String], default: [] },
          claimDocuments: { type: [String], default: [] },
          payoutLimitFen: { type: Number },
        },
        { _id: false },
      ),
      required: true,
    },
    options: { type: Schema.Types.Mixed, default: {} },
    sumInsuredFen: { type: Number, required: true },
    premiumFen: { type: Number, required: true },
    startDate: String,
    tripDays: Number,
    policyholder: { type: personSchema, required: true },
    insured: { type: insuredSchema, required: true },
    beneficiary: { type: beneficiarySchema, required: true },
    healthAnswers: { type: [healthAnswerSchema], default: [] },
    status: { type: String, enum: ORDER_STATUSES, required: true, index: true },
    history: {
      type: [
        new Schema<OrderStatusChange>(
          { at: { type: Date, required: true }, from: String, to: { type: String, required: true }, note: String },
          { _id: false },
        ),
      ],
      default: [],
    },
    payBy: { type: Date, required: true },
    prepay: { type: new Schema({ prepayId: String, requestedAt: Date }, { _id: false }) },
    payment: {
      type: new Schema({ transactionId: String, paidAt: Date, amountFen: Number, payerOpenId: String }, { _id: false }),
    },
    refund: {
      type: new Schema(
        {
          outRefundNo: String,
          refundId: String,
          status: String,
          amountFen: Number,
          reason: String,
          requestedAt: Date,
          completedAt: Date,
        },
        { _id: false },
      ),
    },
    policyId: String,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { minimize: false },
);

// ---- Policy: issued once per paid order ----

export const POLICY_STATUSES = ['in_force', 'surrendered'] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

export interface PolicyRecord {
  /** The policy number. */
  _id: string;
  /** Unique: the guard that a paid order yields exactly one policy. */
  orderId: string;
  customerId: string;
  productId: string;
  productName: string;
  category: Product['category'];
  planId: string;
  planName: string;
  termLabel: string;
  benefits: string[];
  claimDocuments: string[];
  sumInsuredFen: number;
  /** All it pays over its term across claims, copied from its plan at sale; none: claims are capped one by one. */
  payoutLimitFen?: number;
  premiumFen: number;
  policyholder: PersonRecord;
  insured: InsuredRecord;
  beneficiary: BeneficiaryRecord;
  startsOn: string;
  endsOn: string;
  /** 00:00 China time on startsOn. */
  startsAt: Date;
  /** 00:00 China time the day after endsOn: cover runs while startsAt ≤ t < endsAt. */
  endsAt: Date;
  issuedAt: Date;
  /** Full-refund surrender is possible before this instant; absent when the product has no 犹豫期. */
  coolingOffEndsAt?: Date;
  waitingPeriodDays: number;
  renewable: boolean;
  status: PolicyStatus;
  surrenderedAt?: Date;
}

const policySchema = new Schema<PolicyRecord>({
  _id: { type: String, required: true },
  orderId: { type: String, required: true, unique: true },
  customerId: { type: String, required: true, index: true },
  productId: { type: String, required: true },
  productName: { type: String, required: true },
  category: { type: String, enum: PRODUCT_CATEGORIES, required: true },
  planId: { type: String, required: true },
  planName: { type: String, required: true },
  termLabel: { type: String, required: true },
  benefits: { type: [String], default: [] },
  claimDocuments: { type: [String], default: [] },
  sumInsuredFen: { type: Number, required: true },
  payoutLimitFen: { type: Number },
  premiumFen: { type: Number, required: true },
  policyholder: { type: personSchema, required: true },
  insured: { type: insuredSchema, required: true },
  beneficiary: { type: beneficiarySchema, required: true },
  startsOn: { type: String, required: true },
  endsOn: { type: String, required: true },
  startsAt: { type: Date, required: true },
  endsAt: { type: Date, required: true, index: true },
  issuedAt: { type: Date, required: true },
  coolingOffEndsAt: Date,
  waitingPeriodDays: { type: Number, required: true },
  renewable: { type: Boolean, required: true },
  status: { type: String, enum: POLICY_STATUSES, required: true },
  surrenderedAt: Date,
});

// ---- Claim ----

export const INCIDENT_KINDS = ['illness', 'accident', 'hospitalization', 'outpatient', 'death', 'trip', 'other'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
export const DOCUMENT_KINDS = [
  'id_card', 'diagnosis', 'medical_record', 'discharge_summary', 'invoice', 'expense_list', 'accident_proof',
  'disability_assessment', 'bank_card', 'travel_proof', 'other',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

export interface ClaimActor {
  kind: 'customer' | 'staff' | 'system';
  id?: string;
  name?: string;
}
export interface ClaimTimelineEntry {
  at: Date;
  status: ClaimStatus;
  by: ClaimActor;
  note?: string;
}
export interface ClaimDocumentRecord {
  _id: string;
  kind: DocumentKind;
  fileName: string;
  contentType: string;
  bytes: number;
  storageKey: string;
  uploadedAt: Date;
}
export interface ClaimRecord {
  /** The claim (报案) number. */
  _id: string;
  customerId: string;
  policyId: string;
  productName: string;
  insuredName: string;
  incident: { kind: IncidentKind; occurredOn: string; description: string; place?: string; estimatedAmountFen?: number };
  contactPhone: string;
  status: ClaimStatus;
  /** Illness during the policy's 等待期: staff see it, the claim is still taken. */
  withinWaitingPeriod: boolean;
  neededDocuments: string[];
  documents: ClaimDocumentRecord[];
  timeline: ClaimTimelineEntry[];
  approvedAmountFen?: number;
  paidAmountFen?: number;
  paymentReference?: string;
  rejectionReason?: string;
  createdAt: Date;
  updatedAt: Date;
}

const actorSchema = new Schema<ClaimActor>(
  { kind: { type: String, enum: ['customer', 'staff', 'system'], required: true }, id: String, name: String },
  { _id: false },
);
const claimSchema = new Schema<ClaimRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true, index: true },
    policyId: { type: String, required: true, index: true },
    productName: { type: String, required: true },
    insuredName: { type: String, required: true },
    incident: {
      type: new Schema(
        {
          kind: { type: String, enum: INCIDENT_KINDS, required: true },
          occurredOn: { type: String, required: true },
          description: { type: String, required: true },
          place: String,
          estimatedAmountFen: Number,
        },
        { _id: false },
      ),
      required: true,
    },
    contactPhone: { type: String, required: true },
    status: { type: String, enum: CLAIM_STATUSES, required: true, index: true },
    withinWaitingPeriod: { type: Boolean, required: true },
    neededDocuments: { type: [String], default: [] },
    documents: {
      type: [
        new Schema<ClaimDocumentRecord>({
          _id: { type: String, required: true },
          kind: { type: String, enum: DOCUMENT_KINDS, required: true },
          fileName: { type: String, required: true },
          contentType: { type: String, required: true },
          bytes: { type: Number, required: true },
          storageKey: { type: String, required: true },
          uploadedAt: { type: Date, required: true },
        }),
      ],
      default: [],
    },
    timeline: {
      type: [
        new Schema<ClaimTimelineEntry>(
          { at: { type: Date, required: true }, status: { type: String, required: true }, by: { type: actorSchema, required: true }, note: String },
          { _id: false },
        ),
      ],
      default: [],
    },
    approvedAmountFen: Number,
    paidAmountFen: Number,
    paymentReference: String,
    rejectionReason: String,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { minimize: false },
);

// ---- Notices sent once (renewal reminders): the insert is the lock ----

export interface NoticeRecord {
  /** What makes it "the same notice", e.g. `renewal:{policy}:{endsOn}`. */
  _id: string;
  customerId: string;
  kind: string;
  status: 'sending' | 'sent' | 'failed';
  detail?: string;
  createdAt: Date;
  updatedAt: Date;
}

const noticeSchema = new Schema<NoticeRecord>({
  _id: { type: String, required: true },
  customerId: { type: String, required: true, index: true },
  kind: { type: String, required: true },
  status: { type: String, enum: ['sending', 'sent', 'failed'], required: true },
  detail: String,
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
});

// ---- Official Account followers linked to customers ----

export interface FollowerBindingRecord {
  /** The follower's Official Account openid. */
  _id: string;
  customerId: string;
  via: 'unionid' | 'code';
  boundAt: Date;
}
export interface BindingCodeRecord {
  /** The code the follower types; short-lived and single use. */
  _id: string;
  customerId: string;
  expiresAt: Date;
  createdAt: Date;
}
export interface BindingAttemptRecord {
  /** The follower's openid: failed guesses are counted per follower. */
  _id: string;
  windowStartedAt: Date;
  failures: number;
}

const followerBindingSchema = new Schema<FollowerBindingRecord>({
  _id: { type: String, required: true },
  customerId: { type: String, required: true, index: true },
  via: { type: String, enum: ['unionid', 'code'], required: true },
  boundAt: { type: Date, required: true },
});
const bindingCodeSchema = new Schema<BindingCodeRecord>({
  _id: { type: String, required: true },
  customerId: { type: String, required: true, index: true },
  expiresAt: { type: Date, required: true },
  createdAt: { type: Date, required: true },
});
const bindingAttemptSchema = new Schema<BindingAttemptRecord>({
  _id: { type: String, required: true },
  windowStartedAt: { type: Date, required: true },
  failures: { type: Number, required: true },
});

export const Customer = mongoose.model<CustomerRecord>('Customer', customerSchema);
export const InsuranceOrder = mongoose.model<OrderRecord>('InsuranceOrder', orderSchema);
export const Policy = mongoose.model<PolicyRecord>('Policy', policySchema);
export const Claim = mongoose.model<ClaimRecord>('Claim', claimSchema);
export const InsuranceNotice = mongoose.model<NoticeRecord>('InsuranceNotice', noticeSchema);
export const FollowerBinding = mongoose.model<FollowerBindingRecord>('FollowerBinding', followerBindingSchema);
export const BindingCode = mongoose.model<BindingCodeRecord>('BindingCode', bindingCodeSchema);
export const BindingAttempt = mongoose.model<BindingAttemptRecord>('BindingAttempt', bindingAttemptSchema);

export { isDuplicateKey } from '../db/duplicate-key';
