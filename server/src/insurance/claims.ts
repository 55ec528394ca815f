import { randomBytes } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import { LeaseBusyError, withLease } from '../db/lease';
import { conflict, HttpError, notFound } from '../http/errors';
import type { Logger } from '../logging/logger';
import type { DocumentStorage, StoredDocument } from '../storage';
import {
  CLAIM_STATUSES_ACCEPTING_DOCUMENTS,
  OPEN_CLAIM_STATUSES,
  canMoveClaim,
  type ClaimStatus,
} from './claim-state';
import type { CustomerRef } from './customers';
import { addDays, chinaDate } from './dates';
import { readUploadedDocument } from './documents';
import { fieldError } from './errors';
import { businessNumber } from './ids';
import {
  Claim,
  isDuplicateKey,
  type ClaimActor,
  type ClaimDocumentRecord,
  type ClaimRecord,
  type IncidentKind,
  type PolicyRecord,
} from './models';
import type { NoticeQueue } from './notices';
import { policyOf } from './policies';
import type { ClaimReportBody, ClaimTransitionBody, DocumentUploadBody } from './requests';
import { yuanText } from './views';

/** Illness-type incidents wait out the 等待期; accidents never do. */
const ILLNESS_KINDS: readonly IncidentKind[] = ['illness', 'hospitalization', 'outpatient'];
const MAX_DOCUMENTS_PER_CLAIM = 30;
/** A report key whose claim never appeared this long after is left from a report that died: it is taken over. */
const ABANDONED_REPORT_MS = 60_000;
/** How long a payout waits for another one on the same policy before answering 503. */
const PAYOUT_LEASE_WAIT_MS = 15_000;

/** A row whose `_id` is what must not happen twice, naming the claim that took it. */
interface ClaimKeyRecord {
  _id: string;
  claimId: string;
  createdAt: Date;
}
const claimKeyModel = (name: string, collection: string) =>
  mongoose.model<ClaimKeyRecord>(
    name,
    new Schema<ClaimKeyRecord>({ _id: { type: String, required: true }, claimId: { type: String, required: true }, createdAt: { type: Date, required: true } }),
    collection,
  );

/**
 * Exactly-once decisions, each an insert whose `_id` is what must not happen twice (FerretDB has no atomic
 * conditional update, so "check then write" is not enough when two requests arrive at once).
 *
 * One open claim per incident: `_id` = policy | incident date | incident kind.
 */
const ClaimReportKey = claimKeyModel('ClaimReportKey', 'claim_report_keys');
/** One claim per payment: `_id` = the payment reference (付款流水号) a claim was paid with. */
const ClaimPaymentReference = claimKeyModel('ClaimPaymentReference', 'claim_payment_references');

/**
 * A policy surrendered inside its 犹豫期 got its whole premium back: the contract is rescinded as if never made,
 * so nothing on it is claimable or payable, whatever the incident's date. A surrender after the 犹豫期 (none is
 * made through this API today; the back office makes those) only ends the cover then, so incidents before it stay
 * claimable and payable.
 */
export function isVoidedInCoolingOff(policy: Pick<PolicyRecord, 'status' | 'surrenderedAt' | 'coolingOffEndsAt'>): boolean {
  if (policy.status !== 'surrendered') return false;
  if (!policy.surrenderedAt) return true; // when the cover ended is unknown: pay nothing rather than guess
  return policy.coolingOffEndsAt !== undefined && policy.surrenderedAt < policy.coolingOffEndsAt;
}

const claimAlreadyReported = (claimId: string) =>
  new HttpError(409, 'claim_already_reported', `这次事故已报案（案件 ${claimId}），请在该案件中补充材料或查看进度`, { claimNumber: claimId });

/** What staff have committed on a claim: approved (to be paid) or paid. */
function committedFen(claim: Pick<ClaimRecord, 'status' | 'approvedAmountFen' | 'paidAmountFen'>): number {
  if (claim.status === 'approved') return claim.approvedAmountFen ?? 0;
  if (claim.status === 'paid') return claim.paidAmountFen ?? claim.approvedAmountFen ?? 0;
  return 0;
}

export interface ClaimsDeps {
  storage: DocumentStorage;
  notices: NoticeQueue;
  clock: () => Date;
  /** Largest document accepted, in bytes (after base64 decoding). */
  maxDocumentBytes: number;
  logger?: Logger;
}

export interface StaffActor {
  id: string;
  name: string;
}

/** Claims (理赔): reported by the customer, moved by staff, every step on the timeline and told to the customer. */
export class Claims {
  constructor(private readonly deps: ClaimsDeps) {}

  async report(customer: CustomerRef, body: ClaimReportBody): Promise<ClaimRecord> {
    const now = this.deps.clock();
    const today = chinaDate(now);
    const policy = await policyOf(customer.id, body.policyId).catch((err: unknown) => {
      throw err instanceof HttpError && err.status === 404 ? fieldError(404, 'policy_not_found', 'policyId', `no policy ${body.policyId}`) : err;
    });
    if (isVoidedInCoolingOff(policy)) {
      throw fieldError(422, 'policy_void', 'policyId', `保单 ${policy._id} 已在犹豫期内全额退保，合同未生效，不能报案`);
    }
    const occurredOn = body.incident.occurredOn;
    if (occurredOn > today) throw fieldError(400, 'invalid_input', 'incident.occurredOn', 'is in the future');
    // After an ordinary surrender the cover ran until that day.
    const coverEnds = policy.surrenderedAt ? chinaDate(policy.surrenderedAt) : policy.endsOn;
    if (occurredOn < policy.startsOn || occurredOn > coverEnds) {
      throw fieldError(422, 'not_covered', 'incident.occurredOn', `事故日期不在保单保障期间内（${policy.startsOn} 至 ${coverEnds}）`);
    }
    const withinWaitingPeriod =
      ILLNESS_KINDS.includes(body.incident.kind) && occurredOn < addDays(policy.startsOn, policy.waitingPeriodDays);
    const claimId = businessNumber('AXC', now);
    const reportKey = await this.takeReportKey(policy._id, body.incident, claimId, now);
    const claim: ClaimRecord = {
      _id: claimId,
      customerId: customer.id,
      policyId: policy._id,
      productName: policy.productName,
      insuredName: policy.insured.name,
      incident: body.incident,
      contactPhone: body.contactPhone,
      status: 'reported',
      withinWaitingPeriod,
      neededDocuments: [],
      documents: [],
      timeline: [{ at: now, status: 'reported', by: { kind: 'customer', id: customer.id }, note: '已收到报案' }],
      createdAt: now,
      updatedAt: now,
    };
    try {
      await Claim.create(claim);
    } catch (err) {
      await ClaimReportKey.deleteOne({ _id: reportKey, claimId }).catch(() => undefined);
      throw err;
    }
    this.deps.notices.enqueue(customer.id, { kind: 'claim_progress', claimId: claim._id, status: 'reported', at: now });
    return claim;
  }

  /**
   * Reserves the incident (policy, date, kind) for the claim about to be created, or answers 409 with the claim
   * already open for it. A claim stays "the" claim of its incident while open, approved included (its payment is
   * still to come, and a second claim would be paid twice); once rejected or paid the incident may be reported
   * again (new evidence after a rejection, later costs of the same accident), which takes the key over.
   */
  private async takeReportKey(policyId: string, incident: ClaimReportBody['incident'], claimId: string, now: Date): Promise<string> {
    const key = `${policyId}|${incident.occurredOn}|${incident.kind}`;
    // Claims reported before these keys existed have none: look for an open one first.
    const open = await Claim.findOne(
      { policyId, 'incident.occurredOn': incident.occurredOn, 'incident.kind': incident.kind, status: { $in: OPEN_CLAIM_STATUSES } },
      { _id: 1 },
    ).lean<Pick<ClaimRecord, '_id'>>();
    if (open) throw claimAlreadyReported(open._id);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await ClaimReportKey.create({ _id: key, claimId, createdAt: now });
        return key;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const held = await ClaimReportKey.findById(key).lean<ClaimKeyRecord>();
      if (!held) continue; // released meanwhile
      const holder = await Claim.findById(held.claimId, { status: 1 }).lean<Pick<ClaimRecord, 'status'>>();
      // No claim yet: another report of it is being created right now (or died, and is taken over after a while).
      const stillOpen = holder ? OPEN_CLAIM_STATUSES.includes(holder.status) : now.getTime() - held.createdAt.getTime() < ABANDONED_REPORT_MS;
      if (stillOpen) throw claimAlreadyReported(held.claimId);
      await ClaimReportKey.deleteOne({ _id: key, claimId: held.claimId });
    }
    throw conflict('claim_report_busy', 'this incident is being reported by another request; try again');
  }

  async claimsOf(customer: CustomerRef): Promise<ClaimRecord[]> {
    return Claim.find({ customerId: customer.id }).sort({ createdAt: -1 }).limit(100).lean<ClaimRecord[]>();
  }

  /** Another customer's claim is "not found". */
  async claimOf(customer: CustomerRef, claimId: string): Promise<ClaimRecord> {
    const claim = await Claim.findById(claimId).lean<ClaimRecord>();
    if (!claim || claim.customerId !== customer.id) throw notFound('claim_not_found', `no claim ${claimId}`);
    return claim;
  }

  async addDocument(customer: CustomerRef, claimId: string, body: DocumentUploadBody): Promise<ClaimDocumentRecord> {
    const now = this.deps.clock();
    const claim = await this.claimOf(customer, claimId);
    if (!CLAIM_STATUSES_ACCEPTING_DOCUMENTS.includes(claim.status)) {
      throw conflict('claim_closed_for_documents', `claim ${claim._id} is ${claim.status}; documents can no longer be added`);
    }
    if (claim.documents.length >= MAX_DOCUMENTS_PER_CLAIM) {
      throw conflict('too_many_documents', `a claim takes at most ${MAX_DOCUMENTS_PER_CLAIM} documents`);
    }
    const { bytes, type } = readUploadedDocument(body.contentBase64, { maxBytes: this.deps.maxDocumentBytes, field: 'contentBase64' });

    const document: ClaimDocumentRecord = {
      _id: `doc_${randomBytes(8).toString('hex')}`,
      kind: body.kind,
      fileName: body.fileName,
      contentType: type.contentType,
      bytes: bytes.length,
      storageKey: '',
      uploadedAt: now,
    };
    document.storageKey = `claims/${claim._id.toLowerCase()}/${document._id}.${type.extension}`;
    await this.deps.storage.put(document.storageKey, bytes, type.contentType);
    const added = await Claim.updateOne(
      { _id: claim._id, status: { $in: CLAIM_STATUSES_ACCEPTING_DOCUMENTS } },
      { $push: { documents: document }, $set: { updatedAt: now } },
    );
    if (added.modifiedCount !== 1) {
      await this.deps.storage.delete(document.storageKey);
      throw conflict('claim_closed_for_documents', `claim ${claim._id} moved on meanwhile; documents can no longer be added`);
    }
    return document;
  }

  /** The customer has sent what was asked for: back to review. */
  async submitDocuments(customer: CustomerRef, claimId: string): Promise<ClaimRecord> {
    const claim = await this.claimOf(customer, claimId);
    if (claim.status !== 'documents_needed') throw conflict('claim_not_waiting_for_documents', `claim ${claim._id} is ${claim.status}`);
    if (claim.documents.length === 0) throw conflict('no_documents', 'upload the documents first');
    return this.move(claim, { to: 'under_review', note: '客户已补充材料' }, { kind: 'customer', id: customer.id });
  }

  async readDocument(claim: ClaimRecord, documentId: string): Promise<{ record: ClaimDocumentRecord; file: StoredDocument }> {
    const record = claim.documents.find((d) => d._id === documentId);
    const file = record ? await this.deps.storage.get(record.storageKey) : undefined;
    if (!record || !file) throw notFound('document_not_found', `no document ${documentId} on claim ${claim._id}`);
    return { record, file };
  }

  // ---- Staff ----

  async list(filter: { status?: ClaimStatus; limit?: number }): Promise<ClaimRecord[]> {
    return Claim.find(filter.status ? { status: filter.status } : {})
      .sort({ updatedAt: -1 })
      .limit(filter.limit ?? 50)
      .lean<ClaimRecord[]>();
  }

  async get(claimId: string): Promise<ClaimRecord> {
    const claim = await Claim.findById(claimId).lean<ClaimRecord>();
    if (!claim) throw notFound('claim_not_found', `no claim ${claimId}`);
    return claim;
  }

  /**
   * Staff (and the WeCom /claim command) move a claim. Approving and paying commit money, so they also check the
   * policy still pays, the amount against the claim and the policy's sum insured, and the payment reference.
   */
  async moveByStaff(staff: StaffActor, claimId: string, body: ClaimTransitionBody): Promise<ClaimRecord> {
    const by: ClaimActor = { kind: 'staff', id: staff.id, name: staff.name };
    const claim = await this.get(claimId);
    if (body.to !== 'approved' && body.to !== 'paid') return this.move(claim, body, by);
    assertCanMove(claim, body.to);
    // Payouts on one policy take turns, so each counts what the others approved or paid before adding its own.
    try {
      return await withLease(`claim-payouts:${claim.policyId}`, () => this.commitPayout(claimId, body, by), { waitMs: PAYOUT_LEASE_WAIT_MS });
    } catch (err) {
      if (err instanceof LeaseBusyError) throw new HttpError(503, 'claim_payout_busy', 'another payout on this policy is being recorded; try again shortly');
      throw err;
    }
  }

  private async commitPayout(claimId: string, change: ClaimTransitionBody, by: ClaimActor): Promise<ClaimRecord> {
    const claim = await this.get(claimId); // read again under the lease
    const policy = await policyOf(claim.customerId, claim.policyId);
    if (isVoidedInCoolingOff(policy)) {
      throw new HttpError(409, 'policy_void', `to: 保单 ${policy._id} 已在犹豫期内全额退保，合同未生效，不能核定或赔付（可拒赔）`, { fields: ['to'] });
    }
    const amountFen = payoutAmountFen(claim, change);
    const amountField = change.to === 'approved' ? 'approvedAmountFen' : change.paidAmountFen !== undefined ? 'paidAmountFen' : 'to';
    // One claim pays at most the sum insured, or the plan's payout limit where its benefits add up to more (重疾
    // 100% + 中症 50% + 轻症 30%, 特疾 paid twice). Across claims the total is capped only where the plan states that
    // limit: a policy sold without one (older policies, reimbursement at actual cost) is judged claim by claim.
    const limitFen = policy.payoutLimitFen ?? policy.sumInsuredFen;
    const others = policy.payoutLimitFen === undefined
      ? []
      : await Claim.find(
          { policyId: policy._id, _id: { $ne: claim._id }, status: { $in: ['approved', 'paid'] } },
          { status: 1, approvedAmountFen: 1, paidAmountFen: 1 },
        ).lean<Array<Pick<ClaimRecord, 'status' | 'approvedAmountFen' | 'paidAmountFen'>>>();
    const committed = others.reduce((sum, other) => sum + committedFen(other), 0);
    if (committed + amountFen > limitFen) {
      const remainingFen = Math.max(0, limitFen - committed);
      throw fieldError(
        422,
        'sum_insured_exceeded',
        amountField,
        `${yuanText(amountFen)} 超出保单 ${policy._id} 可赔付的上限 ${yuanText(limitFen)}（保额 ${yuanText(policy.sumInsuredFen)}），其他案件已核定或赔付 ${yuanText(committed)}，最多还可${change.to === 'approved' ? '核定' : '赔付'} ${yuanText(remainingFen)}`,
        { sumInsuredFen: policy.sumInsuredFen, payoutLimitFen: limitFen, committedFen: committed, remainingFen },
      );
    }
    if (change.to === 'approved') return this.move(claim, change, by);

    const reference = await this.takePaymentReference(change.paymentReference!, claim._id);
    try {
      return await this.move(claim, change, by);
    } catch (err) {
      await ClaimPaymentReference.deleteOne({ _id: reference, claimId: claim._id }).catch(() => undefined);
      throw err;
    }
  }

  /** One payment pays one claim: the reference is reserved for this claim, or it is a 409 naming the other. */
  private async takePaymentReference(reference: string, claimId: string): Promise<string> {
    const inUse = (otherClaimId: string) =>
      fieldError(409, 'payment_reference_in_use', 'paymentReference', `付款流水号 ${reference} 已用于案件 ${otherClaimId}，一笔付款只能赔付一个案件，请核对流水号`, {
        claimNumber: otherClaimId,
      });
    // Claims paid before these reservations existed have none.
    const paidWithIt = await Claim.findOne({ paymentReference: reference, _id: { $ne: claimId } }, { _id: 1 }).lean<Pick<ClaimRecord, '_id'>>();
    if (paidWithIt) throw inUse(paidWithIt._id);
    try {
      await ClaimPaymentReference.create({ _id: reference, claimId, createdAt: this.deps.clock() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const held = await ClaimPaymentReference.findById(reference).lean<ClaimKeyRecord>();
      // Reserved by this claim in an attempt that did not finish: it is still this claim's.
      if (held && held.claimId !== claimId) throw inUse(held.claimId);
    }
    return reference;
  }

  private async move(claim: ClaimRecord, change: ClaimTransitionBody, by: ClaimActor): Promise<ClaimRecord> {
    const now = this.deps.clock();
    assertCanMove(claim, change.to);
    const set: Partial<ClaimRecord> = { status: change.to, updatedAt: now };
    if (change.to === 'documents_needed') set.neededDocuments = change.neededDocuments ?? [];
    if (change.to === 'under_review') set.neededDocuments = [];
    if (change.to === 'approved') set.approvedAmountFen = change.approvedAmountFen;
    if (change.to === 'rejected') set.rejectionReason = change.rejectionReason;
    if (change.to === 'paid') {
      set.paidAmountFen = payoutAmountFen(claim, change);
      set.paymentReference = change.paymentReference;
    }
    const note =
      change.note ??
      (change.to === 'documents_needed' ? `请补充：${(change.neededDocuments ?? []).join('、')}` : change.to === 'rejected' ? change.rejectionReason : undefined);
    const updated = await Claim.findOneAndUpdate(
      { _id: claim._id, status: claim.status },
      { $set: set, $push: { timeline: { at: now, status: change.to, by, ...(note && { note }) } } },
      { returnDocument: 'after' },
    ).lean<ClaimRecord>();
    if (!updated) throw conflict('claim_changed', `claim ${claim._id} was changed meanwhile; reload it`);
    this.deps.notices.enqueue(updated.customerId, { kind: 'claim_progress', claimId: updated._id, status: change.to, note, at: now });
    return updated;
  }
}

function assertCanMove(claim: ClaimRecord, to: ClaimStatus): void {
  if (!canMoveClaim(claim.status, to)) {
    throw new HttpError(409, 'claim_transition_not_allowed', `to: a claim cannot move from ${claim.status} to ${to}`, { fields: ['to'] });
  }
}

/** The money an approve or pay move commits on its claim; paying is never more than was approved. */
function payoutAmountFen(claim: ClaimRecord, change: ClaimTransitionBody): number {
  if (change.to === 'approved') {
    if (change.approvedAmountFen === undefined) throw fieldError(400, 'invalid_input', 'approvedAmountFen', 'is required to move a claim to approved');
    return change.approvedAmountFen;
  }
  const approved = claim.approvedAmountFen;
  if (approved === undefined) throw fieldError(409, 'approved_amount_missing', 'to', `claim ${claim._id} has no approved amount to pay`);
  const paid = change.paidAmountFen ?? approved;
  if (paid > approved) {
    throw fieldError(422, 'paid_above_approved', 'paidAmountFen', `赔付金额 ${yuanText(paid)} 超过核定金额 ${yuanText(approved)}`, { approvedAmountFen: approved });
  }
  return paid;
}
