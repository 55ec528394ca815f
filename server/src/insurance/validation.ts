import { z } from 'zod';
import { chinaDate, isCalendarDate, type CalendarDate } from './dates';

/**
 * Checks on the people in an order: 18-digit resident ID (GB 11643: region, birth date, ISO 7064 MOD 11-2 check
 * character), mainland mobile number, names, relations. Kept here so insurance does not wait on NLU's entity work.
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CHARS = '10X98765432';
/** First two digits: provinces, plus 71 台湾 and 81/82 港澳 (issued to residence-permit holders too). */
const PROVINCE_CODES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
  64, 65, 71, 81, 82, 83,
]);

/** The check character for the first 17 digits. */
export function idCardCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return ID_CHECK_CHARS[sum % 11];
}

export type IdCardProblem = 'format' | 'region' | 'birth_date' | 'birth_date_in_future' | 'checksum';

export interface IdCardInfo {
  /** Normalised: trimmed, check character upper-case. */
  number: string;
  birthDate: CalendarDate;
  gender: 'male' | 'female';
}

const ID_CARD_MESSAGES: Record<IdCardProblem, string> = {
  format: 'must be an 18-character resident ID number (17 digits and a digit or X)',
  region: 'does not start with a valid region code',
  birth_date: 'does not contain a valid birth date',
  birth_date_in_future: 'contains a birth date in the future',
  checksum: 'check character does not match (please re-check the number)',
};

/** `today` (China date) also refuses a birth date after it: no one is issued an ID before they are born. */
export function readIdCard(
  value: string,
  today?: CalendarDate,
): { ok: true; info: IdCardInfo } | { ok: false; problem: IdCardProblem; message: string } {
  const number = value.trim().toUpperCase();
  const fail = (problem: IdCardProblem) => ({ ok: false as const, problem, message: ID_CARD_MESSAGES[problem] });
  if (!/^\d{17}[\dX]$/.test(number)) return fail('format');
  if (!PROVINCE_CODES.has(Number(number.slice(0, 2)))) return fail('region');
  const birthDate = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`;
  if (!isCalendarDate(birthDate) || Number(number.slice(6, 10)) < 1900) return fail('birth_date');
  if (today !== undefined && birthDate > today) return fail('birth_date_in_future');
  if (idCardCheckChar(number) !== number[17]) return fail('checksum');
  return { ok: true, info: { number, birthDate, gender: Number(number[16]) % 2 === 1 ? 'male' : 'female' } };
}

export const isMobilePhone = (value: string) => /^1[3-9]\d{9}$/.test(value);

/** A resident ID in a request body; the message says what is wrong with it. */
export const idCardField = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    // The real date: the server's injected clock is not known here, and an ID born after today is wrong on any clock.
    const result = readIdCard(value, chinaDate(new Date()));
    if (!result.ok) ctx.addIssue({ code: 'custom', message: result.message });
  })
  .transform((value) => value.toUpperCase());

export const phoneField = z
  .string()
  .trim()
  .refine(isMobilePhone, 'must be a mainland mobile number (11 digits starting with 1)');

/** Chinese names (with the middle dot of minority names) or Latin names as on a passport. */
export const personNameField = z
  .string()
  .trim()
  .regex(/^(?:[\u4e00-\u9fa5·]{2,20}|[A-Za-z][A-Za-z .'-]{1,49})$/, 'must be a real name (2–20 Chinese characters or a Latin name)');

export const calendarDateField = z.string().refine(isCalendarDate, 'must be a date written YYYY-MM-DD');

/**
 * Characters refused in free text: C0/C1 controls and DEL (NUL, ESC sequences …), bidirectional embeddings,
 * overrides, isolates and marks (U+202E makes "gpj.exe" read "exe.jpg"), unpaired surrogates and U+FFFE/U+FFFF.
 * The text reaches agents in WeCom and staff screens, so it is refused at the door rather than cleaned later.
 */
const UNSAFE_TEXT =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Single-line text also refuses tabs, line breaks and the Unicode line/paragraph separators. */
const LINE_BREAKS = /[\t\n\r\u2028\u2029]/;

const codePoint = (char: string) => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Free text typed by a person (descriptions, reasons, notes, file names): trimmed, length-bounded, and without
 * control or bidi-formatting characters; `multiline` keeps ordinary newlines and tabs.
 */
export function textField(options: { max: number; min?: number; minMessage?: string; multiline?: boolean }) {
  const { max, min = 0, minMessage, multiline = false } = options;
  let text = z.string().trim();
  if (min > 0) text = text.min(min, minMessage ?? (min === 1 ? 'is required' : `must be at least ${min} characters`));
  return text
    .max(max, `must be at most ${max} characters`)
    .superRefine((value, ctx) => {
      const unsafe = UNSAFE_TEXT.exec(value);
      if (unsafe) {
        ctx.addIssue({ code: 'custom', message: `must not contain control or bidirectional formatting characters (found ${codePoint(unsafe[0])})` });
        return;
      }
      const lineBreak = multiline ? null : LINE_BREAKS.exec(value);
      if (lineBreak) ctx.addIssue({ code: 'custom', message: `must be a single line (found ${codePoint(lineBreak[0])})` });
    });
}

/** Who the insured is to the policyholder (被保险人是投保人的…). */
export const INSURED_RELATIONS = ['self', 'spouse', 'child', 'parent'] as const;
export type InsuredRelation = (typeof INSURED_RELATIONS)[number];

/** Who a named beneficiary is to the insured. */
export const BENEFICIARY_RELATIONS = ['spouse', 'child', 'parent'] as const;
export type BeneficiaryRelation = (typeof BENEFICIARY_RELATIONS)[number];

export const RELATION_LABELS: Record<InsuredRelation, string> = { self: '本人', spouse: '配偶', child: '子女', parent: '父母' };
