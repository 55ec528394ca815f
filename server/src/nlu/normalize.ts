/**
 * Text normalisation shared by every NLU stage, so "ＶＩＰ", "vip" and "VIP" are one feature and
 * full-width digits and punctuation (common on Chinese phone keyboards) parse like half-width ones.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Characters that carry no meaning for intent (punctuation, symbols, spaces). Emoji are symbols too. */
export const PUNCTUATION_OR_SPACE = /[\s\p{P}\p{S}]/u;

/** Text without punctuation, symbols or spaces: the string character n-grams are taken from. */
export function contentCharacters(normalized: string): string[] {
  return Array.from(normalized).filter((ch) => !PUNCTUATION_OR_SPACE.test(ch));
}
