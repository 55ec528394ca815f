/**
 * Masking for logs and events: a log line may say which customer wrote, never their full ID, phone or card.
 * The free-text masker is deliberately broader than entity extraction: a mistyped ID (bad checksum) or a card
 * number failing Luhn is still personal data, so anything shaped like one is masked.
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

/** Masks a run of digits (separators kept out) by the kind of number it looks like. */
function maskRun(run: string): string {
  const compact = run.replace(/[\s-]/g, '');
  if (/^\d{17}[\dXx]$/.test(compact) || /^\d{15}$/.test(compact)) return maskIdCard(compact);
  if (/^(?:\+?86)?1\d{10}$/.test(compact)) return maskPhone(compact);
  if (/^\d{12,19}$/.test(compact)) return maskBankCard(compact);
  return run;
}

/**
 * Every ID-, phone- or card-shaped number inside free text masked; other text untouched. Handles spaced and
 * hyphenated forms ("138 1234 5678", "6222-0202-0011-2233").
 */
export function maskPersonalData(text: string): string {
  return text.replace(/(?<![0-9A-Za-z])(?:\+?86[\s-]?)?\d(?:[\s-]?\d){10,21}(?:[\s-]?[Xx])?(?![0-9A-Za-z])/g, (run) => {
    const masked = maskRun(run);
    if (masked !== run) return masked;
    // Several numbers joined by spaces: mask each.
    return run.replace(/\S+/g, (piece) => maskRun(piece));
  });
}
