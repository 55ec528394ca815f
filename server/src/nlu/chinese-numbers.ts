/**
 * Chinese and mixed numerals as customers type them: 三千五 (3500), 1万2 (12000), 两万, 5.5万, 一千零五,
 * 十二, 1,200. Colloquial "unit then one digit" means the next lower unit: 三千五 = 3000 + 500.
 */
const DIGITS: Record<string, number> = {
  零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9,
};
const SMALL_UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };
const LARGE_UNITS: Record<string, number> = { 万: 10_000, 亿: 100_000_000 };

/** Characters a numeral may contain (arabic digits, decimal point and thousands comma included). */
export const NUMERAL_CHARACTERS = '0-9.,零〇一二两三四五六七八九十百千万亿';

/** The value of a numeral, or undefined when it is not one. */
export function parseChineseNumber(input: string): number | undefined {
  const text = input.replace(/,(?=\d{3})/g, '');
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let section = 0;
  let pending: number | undefined;
  /** The unit just used, for "三千五" (the trailing digit counts in the next lower unit). */
  let lastUnit = 0;
  let afterZero = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const arabic = /^\d+(\.\d+)?/.exec(text.slice(i));
    if (arabic) {
      pending = Number(arabic[0]);
      i += arabic[0].length;
      continue;
    }
    if (ch in DIGITS) {
      if (DIGITS[ch] === 0) {
        afterZero = true;
        lastUnit = 0;
      }
      pending = DIGITS[ch];
      i++;
      continue;
    }
    if (ch in SMALL_UNITS) {
      section += (pending ?? 1) * SMALL_UNITS[ch];
      pending = undefined;
      lastUnit = SMALL_UNITS[ch];
      afterZero = false;
      i++;
      continue;
    }
    if (ch in LARGE_UNITS) {
      section += pending ?? 0;
      if (section === 0) section = 1;
      total += section * LARGE_UNITS[ch];
      section = 0;
      pending = undefined;
      lastUnit = LARGE_UNITS[ch];
      afterZero = false;
      i++;
      continue;
    }
    return undefined;
  }
  if (pending !== undefined) {
    // 三千五 → 5 × 100; 1万2 → 2 × 1000; but 一千零五 → 5 and 十二 → 2.
    const implied = !afterZero && lastUnit >= 100 && Number.isInteger(pending) && pending < 10 ? lastUnit / 10 : 1;
    section += pending * implied;
  }
  return total + section;
}
