import { z } from 'zod';
import { CLAIM_STATUSES } from './claim-state';
import { DOCUMENT_KINDS, INCIDENT_KINDS } from './models';
import {
  BENEFICIARY_RELATIONS,
  INSURED_RELATIONS,
  calendarDateField,
  idCardField,
  personNameField,
  phoneField,
  textField,
} from './validation';

/** Request bodies of the insurance API. Shape and format problems are 400s naming the field (through validate()). */

const id = z.string().trim().min(1, 'is required').max(64);
/**
 * The largest amount of money the API takes anywhere: ¥100,000,000. Far above any premium, sum insured or claim we
 * sell, and far below where doubles stop counting fen exactly (2^53).
 */
export const MAX_AMOUNT_FEN = 10_000_000_000;
const fen = z
  .number()
  .int('must be a whole number of fen (分)')
  .positive()
  .max(MAX_AMOUNT_FEN, `must be at most ${MAX_AMOUNT_FEN} fen (¥100,000,000)`);

const pricing = {
  productId: id,
  planId: id,
  termId: id,
  sumInsuredFen: fen.optional(),
  options: z.record(z.string(), z.string()).optional(),
  startDate: calendarDateField.optional(),
  tripDays: z.number().int().positive().optional(),
};

export const quoteRequestSchema = z
  .object({
    ...pricing,
    /** The insured's birth date, or their ID number (the birth date is read from it). */
    insured: z.object({ birthDate: calendarDateField.optional(), idCard: idCardField.optional() }).strict(),
    healthAnswers: z.record(z.string(), z.boolean()).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!value.insured.birthDate && !value.insured.idCard) {
      ctx.addIssue({ code: 'custom', path: ['insured', 'birthDate'], message: 'is required (or insured.idCard)' });
    }
  });
export type QuoteRequestBody = z.infer<typeof quoteRequestSchema>;

const person = z.object({ name: personNameField, idCard: idCardField, phone: phoneField }).strict();

const beneficiary = z.discriminatedUnion('type', [
  z.object({ type: z.literal('legal') }).strict(),
  z
    .object({
      type: z.literal('designated'),
      people: z
        .array(
          z
            .object({
              name: personNameField,
              idCard: idCardField,
              relation: z.enum(BENEFICIARY_RELATIONS),
              sharePercent: z.number().int().min(1).max(100),
            })
            .strict(),
        )
        .min(1)
        .max(5),
    })
    .strict(),
]);

export const orderRequestSchema = z
  .object({
    ...pricing,
    policyholder: person,
    /** relation `self`: the policyholder is the insured, name and idCard may be left out. */
    insured: z
      .object({ relation: z.enum(INSURED_RELATIONS), name: personNameField.optional(), idCard: idCardField.optional(), phone: phoneField.optional() })
      .strict(),
    beneficiary: beneficiary.default({ type: 'legal' }),
    /** Every health question of the product, answered true (yes) or false (no). */
    healthAnswers: z.record(z.string(), z.boolean()).default({}),
    /** The premium the buyer saw and agreed to; the order is refused if the price is now different. */
    quotedPremiumFen: fen,
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.insured.relation === 'self') return;
    for (const field of ['name', 'idCard'] as const) {
      if (!value.insured[field]) ctx.addIssue({ code: 'custom', path: ['insured', field], message: `is required when insured.relation is ${value.insured.relation}` });
    }
  });
export type OrderRequestBody = z.infer<typeof orderRequestSchema>;

export const surrenderRequestSchema = z.object({ reason: textField({ max: 100 }).optional() }).strict();

export const claimReportSchema = z
  .object({
    policyId: id,
    incident: z
      .object({
        kind: z.enum(INCIDENT_KINDS),
        occurredOn: calendarDateField,
        description: textField({ min: 5, minMessage: 'must say what happened (at least 5 characters)', max: 1000, multiline: true }),
        place: textField({ max: 100 }).optional(),
        estimatedAmountFen: fen.optional(),
      })
      .strict(),
    contactPhone: phoneField,
  })
  .strict();
export type ClaimReportBody = z.infer<typeof claimReportSchema>;

export const documentUploadSchema = z
  .object({
    kind: z.enum(DOCUMENT_KINDS),
    fileName: textField({ min: 1, max: 120 }),
    /** The file's bytes, base64 (wx.getFileSystemManager().readFile({encoding:'base64'})). */
    contentBase64: z.string().min(1, 'is required').regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
  })
  .strict();
export type DocumentUploadBody = z.infer<typeof documentUploadSchema>;

export const claimTransitionSchema = z
  .object({
    to: z.enum(CLAIM_STATUSES),
    note: textField({ max: 200, multiline: true }).optional(),
    /** documents_needed: what the customer must send. */
    neededDocuments: z.array(textField({ min: 1, max: 50 })).max(20).optional(),
    /** approved: the amount agreed. */
    approvedAmountFen: fen.optional(),
    /** paid: the amount paid (defaults to the approved amount) and the payment's reference. */
    paidAmountFen: fen.optional(),
    paymentReference: textField({ min: 1, max: 64 }).optional(),
    /** rejected: why, in words the customer will read. */
    rejectionReason: textField({ min: 1, max: 200, multiline: true }).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const need = (field: keyof typeof value, when: string) => {
      if (value[field] === undefined || (Array.isArray(value[field]) && value[field].length === 0)) {
        ctx.addIssue({ code: 'custom', path: [field], message: `is required to move a claim to ${when}` });
      }
    };
    if (value.to === 'documents_needed') need('neededDocuments', 'documents_needed');
    if (value.to === 'approved') need('approvedAmountFen', 'approved');
    if (value.to === 'rejected') need('rejectionReason', 'rejected');
    if (value.to === 'paid') need('paymentReference', 'paid');
  });
export type ClaimTransitionBody = z.infer<typeof claimTransitionSchema>;
