import { HttpError } from '../http/errors';
import type { EligibilityReason } from './quote';

/** A 4xx that names the request field at fault, like validate() does: `{"fields":["insured.idCard"]}`. */
export function fieldError(status: number, code: string, field: string, message: string, details: Record<string, unknown> = {}): HttpError {
  return new HttpError(status, code, `${field}: ${message}`, { fields: [field], ...details });
}

/** 422: the request is well formed, but this person cannot buy this cover; every reason, each with its field. */
export function notEligible(reasons: EligibilityReason[]): HttpError {
  return new HttpError(422, 'not_eligible', reasons.map((r) => `${r.field}: ${r.message}`).join('; '), {
    fields: reasons.map((r) => r.field),
    reasons,
  });
}

export const unavailable = (code: string, message: string) => new HttpError(503, code, message);
