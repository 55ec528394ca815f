/**
 * The one way personal data is masked wherever it leaves the records it belongs to: logs and events, WeCom cards
 * and alerts, ticket summaries, chat answers. Each masked value keeps just enough for a person to recognise it with
 * the customer on the line. The free-text masker is deliberately broader than entity extraction: a mistyped ID
 * (bad checksum) or a card number failing Luhn is still personal data, so anything shaped like one is masked.
 */

const keepEnds = (value: string, head: number, tail: number): string =>
  value.length <= head + tail ? '*'.repeat(value.length) : `${value.slice(0, head)}${'*'.repeat(value.length - head - tail)}${value.slice(-tail)}`;

/** 110101199003071234 → 1101**********1234 (region and birth date hidden). */
export function maskIdCard(id: string): string {
  return keepEnds(id.replace(/[\s-]/g, ''), 4, 4);
}

/** 13812345678 → 138****5678 (the form Chinese apps show). */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');
  return keepEnds(digits, 3, 4);
}

/** 6222020200112233445 → 6222***********3445 (issuer and last four, as on receipts). */
export function maskBankCard(card: string): string {
  return keepEnds(card.replace(/[\s-]/g, ''), 4, 4);
}

/** 张三 → 张*, 欧阳娜娜 → 欧**娜 (surname to greet, last character to tell two apart); Latin names alike. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/** Policy and claim numbers: prefix and last 4 kept, so an agent can confirm it with the customer. */
export function maskPolicyNumber(number: string): string {
  const clean = number.trim();
  if (clean.length <= 6) return `${clean.slice(0, 1)}${'*'.repeat(Math.max(0, clean.length - 1))}`;
  return keepEnds(clean, 2, 4);
}

/** zhang.san@example.com → z***@example.com */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '*'.repeat(email.length);
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/** Masks a run of digits (separators kept out) by the kind of number it looks like. */
function maskRun(run: string): string {
  const compact = run.replace(/[\s-]/g, '');
  if (/^\d{17}[\dXx]$/.test(compact) || /^\d{15}$/.test(compact)) return maskIdCard(compact);
  if (/^(?:\+?86)?1\d{10}$/.test(compact)) return maskPhone(compact);
  if (/^\d{12,19}$/.test(compact)) return maskBankCard(compact);
  return run;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * Every ID-, phone- or card-shaped number and every e-mail address inside free text masked; other text untouched.
 * Handles spaced and hyphenated forms ("138 1234 5678", "6222-0202-0011-2233").
 */
export function maskPersonalData(text: string): string {
  return maskNumbers(asciiDigits(text)).replace(EMAIL, (email) => maskEmail(email));
}

/**
 * Full-width digits (a Chinese keyboard in full-width mode: １３８１２３４５６７８) as ASCII ones, so a phone or ID
 * number typed that way is recognised and masked too.
 */
export function asciiDigits(text: string): string {
  return text.replace(/[０-９＋－]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

function maskNumbers(text: string): string {
  return text.replace(/(?<![0-9A-Za-z])(?:\+?86[\s-]?)?\d(?:[\s-]?\d){10,21}(?:[\s-]?[Xx])?(?![0-9A-Za-z])/g, (run) => {
    const masked = maskRun(run);
    if (masked !== run) return masked;
    // Several numbers joined by spaces: mask each.
    return run.replace(/\S+/g, (piece) => maskRun(piece));
  });
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

/** An extracted entity's value as shown outside the records it belongs to. */
export function maskEntity(entity: { type: string; value: string | number }): string {
  const value = String(entity.value);
  const mask = MASKERS[entity.type];
  return mask ? mask(value) : value;
}

/**
 * Masks the personal values the understanding found (policy numbers, names …) wherever the text repeats them, then
 * everything `maskPersonalData` masks. For transcripts shown outside the ticket record.
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
  return maskPersonalData(masked);
}
