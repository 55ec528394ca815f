import { randomBytes } from 'node:crypto';
import { conflict, HttpError, notFound } from '../http/errors';
import type { Logger } from '../logging/logger';
import type { DocumentStorage, StoredDocument } from '../storage';
import {
  CLAIM_STATUSES_ACCEPTING_DOCUMENTS,
  canMoveClaim,
  type ClaimStatus,
} from './claim-state';
import type { CustomerRef } from './customers';
import { addDays, chinaDate } from './dates';
import { readUploadedDocument } from './documents';
import { fieldError } from './errors';
import { businessNumber } from './ids';
import { Claim, type ClaimActor, type ClaimDocumentRecord, type ClaimRecord, type IncidentKind } from './models';
import type { NoticeQueue } from './notices';
import { policyOf } from './policies';
import type { ClaimReportBody, ClaimTransitionBody, DocumentUploadBody } from './requests';

/** Illness-type incidents wait out the 等待期; accidents never do. */
const ILLNESS_KINDS: readonly IncidentKind[] = ['illness', 'hospitalization', 'outpatient'];
const MAX_DOCUMENTS_PER_CLAIM = 30;

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
    const occurredOn = body.incident.occurredOn;
    if (occurredOn > today) throw fieldError(400, 'invalid_input', 'incident.occurredOn', 'is in the future');
    const coverEnds = policy.surrenderedAt ? chinaDate(policy.surrenderedAt) : policy.endsOn;
    if (occurredOn < policy.startsOn || occurredOn > coverEnds) {
      throw fieldError(422, 'not_covered', 'incident.occurredOn', `事故日期不在保单保障期间内（${policy.startsOn} 至 ${coverEnds}）`);
    }
    const withinWaitingPeriod =
      ILLNESS_KINDS.includes(body.incident.kind) && occurredOn < addDays(policy.startsOn, policy.waitingPeriodDays);
    const claim: ClaimRecord = {
      _id: businessNumber('AXC', now),
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
    await Claim.create(claim);
    this.deps.notices.enqueue(customer.id, { kind: 'claim_progress', claimId: claim._id, status: 'reported', at: now });
    return claim;
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

  async moveByStaff(staff: StaffActor, claimId: string, body: ClaimTransitionBody): Promise<ClaimRecord> {
    const claim = await this.get(claimId);
    if (body.to === 'approved' && body.approvedAmountFen !== undefined) {
      const policy = await policyOf(claim.customerId, claim.policyId);
      if (body.approvedAmountFen > policy.sumInsuredFen) {
        throw fieldError(400, 'invalid_input', 'approvedAmountFen', `is above the sum insured (${policy.sumInsuredFen})`);
      }
    }
    return this.move(claim, body, { kind: 'staff', id: staff.id, name: staff.name });
  }

  private async move(claim: ClaimRecord, change: ClaimTransitionBody, by: ClaimActor): Promise<ClaimRecord> {
    const now = this.deps.clock();
    if (!canMoveClaim(claim.status, change.to)) {
      throw new HttpError(409, 'claim_transition_not_allowed', `to: a claim cannot move from ${claim.status} to ${change.to}`, { fields: ['to'] });
    }
    const set: Partial<ClaimRecord> = { status: change.to, updatedAt: now };
    if (change.to === 'documents_needed') set.neededDocuments = change.neededDocuments ?? [];
    if (change.to === 'under_review') set.neededDocuments = [];
    if (change.to === 'approved') set.approvedAmountFen = change.approvedAmountFen;
    if (change.to === 'rejected') set.rejectionReason = change.rejectionReason;
    if (change.to === 'paid') {
      set.paidAmountFen = change.paidAmountFen ?? claim.approvedAmountFen;
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
