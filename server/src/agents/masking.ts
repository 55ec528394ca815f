/**
 * Masking of personal data before it leaves the core systems (WeCom cards, alerts, transcripts shown to staff
 * outside the ticket record). Keeps just enough for an agent to recognise the value with the customer on the line.
 * Moves to nlu/masking.ts once that exists; callers only use `maskEntity` and `maskText`.
 */

const stars = (n: number) => '*'.repeat(Math.max(1, n));

/** 13812345678 → 138****5678 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7) return stars(digits.length);
  return `${digits.slice(0, 3)}${stars(digits.length - 7)}${digits.slice(-4)}`;
}

/** 18-digit resident ID: first 3 and last 4 kept (110**********123X). */
export function maskIdCard(id: string): string {
  const clean = id.trim();
  if (clean.length < 8) return stars(clean.length);
  return `${clean.slice(0, 3)}${stars(clean.length - 7)}${clean.slice(-4)}`;
}

/** Bank card: only the last 4 digits. */
export function maskBankCard(card: string): string {
  const digits = card.replace(/\D/g, '');
  return `**** ${digits.slice(-4)}`;
}

/** 张三 → 张*, 欧阳娜娜 → 欧***: the surname is enough to greet. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length <= 1) return '*';
  return `${chars[0]}${stars(chars.length - 1)}`;
}

/** Policy and claim numbers: prefix and last 4 kept, so the agent can confirm it with the customer. */
export function maskPolicyNumber(number: string): string {
  const clean = number.trim();
  if (clean.length <= 6) return `${clean.slice(0, 1)}${stars(clean.length - 1)}`;
  return `${clean.slice(0, 2)}${stars(clean.length - 6)}${clean.slice(-4)}`;
}

export function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  if (!domain) return stars(email.length);
  return `${local.slice(0, 1)}***@${domain}`;
}

/** Entity types whose values identify a person or a contract. Amounts, products and dates stay readable. */
const MASKERS: Record<string, (value: string) => string> = {
  policy_number: maskPolicyNumber,
  claim_number: maskPolicyNumber,
  phone: maskPhone,
  mobile: maskPhone,
  id_card: maskIdCard,
  id_number: maskIdCard,
  bank_card: maskBankCard,
  name: maskName,
  person: maskName,
  email: maskEmail,
};

export function isPersonalEntity(type: string): boolean {
  return type in MASKERS;
}

export function maskEntity(entity: { type: string; value: string | number }): string {
  const value = String(entity.value);
  const mask = MASKERS[entity.type];
  return mask ? mask(value) : value;
}

// Order matters: an ID number contains a phone-like run, a bank card contains both.
const ID_CARD = /(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g;
const BANK_CARD = /(?<!\d)(?:\d[ -]?){15,18}\d(?!\d)/g;
const PHONE = /(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Masks ID numbers, bank cards, mobile numbers and e-mail addresses found in free text. */
export function maskText(text: string): string {
  return text
    .replace(ID_CARD, (m) => maskIdCard(m))
    .replace(BANK_CARD, (m) => maskBankCard(m))
    .replace(PHONE, (m) => maskPhone(m))
    .replace(EMAIL, (m) => maskEmail(m));
}

/**
 * Masks the personal values the understanding found (policy numbers, names …) wherever the text repeats them,
 * then the patterns of `maskText`. For transcripts shown outside the ticket record.
 */
export function maskMentions(text: string, mentions: ReadonlyArray<{ type: string; value: string | number; text?: string }>): string {
  let masked = text;
  for (const mention of mentions) {
    if (!isPersonalEntity(mention.type)) continue;
    const replacement = maskEntity(mention);
    for (const raw of new Set([mention.text, String(mention.value)])) {
      if (raw && raw.length >= 2) masked = masked.split(raw).join(replacement);
    }
  }
  return maskText(masked);
}
