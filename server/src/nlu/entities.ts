import { NUMERAL_CHARACTERS, parseChineseNumber } from './chinese-numbers';

/**
 * Entities for slot filling and ticket prefill. Pure functions: same text and `now` → same entities.
 *
 * Formats we define:
 * - policy number: "P" + 12–18 digits (P202403150001234), or after 保单号 any 1–4 letters + 8–20 digits;
 * - ID card: 18 characters, valid birth date, valid GB 11643 checksum (an invalid checksum is not an ID);
 * - mobile: 1[3-9] + 9 digits, optionally +86 and 3-4-4 spacing;
 * - bank card: 16–19 digits passing the Luhn check, optionally in groups of four;
 * - amount in yuan: ¥/￥ prefix or 元/块 suffix, or a magnitude (万, 千, 百, 亿) — bare "3500" is not an amount;
 * - date (YYYY-MM-DD, in `now`'s local calendar): 今天 昨天 前天 大前天 明天 后天, 上周五 / 这周三 / 下周一,
 *   3月5日, 2026年3月5日, 2026-03-05, 3天前, 3天后;
 * - product: from a list of products with aliases (default: the six product lines);
 * - relation: self / spouse / child / parent;
 * - licence plate: province + letter + 5 (or 6 for new-energy) letters/digits, normalised without separators;
 * - held for (days since the user bought or started the policy, as they state it): 买了十天了, 交了四年, 生效十三天,
 *   投保才一个礼拜, 买了半年多; or a date followed by the purchase: 十天前买的, 昨天投保的, 3月5日买的;
 * - insurer: another insurance company or platform the user names (国寿, 中国平安, 泰康 …), by its usual short name.
 *   Only unambiguous spellings: "平安" alone is also 学生平安险 and 保平安, "太平" also 太平间, "人保" also 投保人保费;
 * - age (years of a person): 44岁, 六十五周岁, 三十多岁 (35), 十几岁 (15), 8个月大的宝宝 (0); not an age reached later
 *   (保到70岁, 60岁以后, 65岁退休) or a term.
 */
export type EntityType =
  | 'policy_number' | 'id_card' | 'phone' | 'bank_card' | 'amount' | 'date' | 'product' | 'relation' | 'licence_plate' | 'held_for' | 'insurer'
  | 'age';

export interface Entity {
  type: EntityType;
  /** Normalised value: digits, upper-case ids, yuan as a number, ISO date, product id or relation. */
  value: string | number;
  /** The text as written. */
  text: string;
  start: number;
  end: number;
}

export interface ProductDefinition {
  id: string;
  name: string;
  aliases: string[];
  /** Words that mean the product when no product is named ("我的车被追尾了" is about car insurance). */
  impliedBy?: string[];
}

export const DEFAULT_PRODUCTS: ProductDefinition[] = [
  { id: 'critical-illness', name: '重疾险', aliases: ['重疾险', '重大疾病保险', '重大疾病险', '重疾保险', '大病险', '重疾'] },
  { id: 'medical', name: '医疗险', aliases: ['医疗险', '百万医疗险', '百万医疗', '医疗保险', '住院医疗险'] },
  { id: 'accident', name: '意外险', aliases: ['意外险', '意外伤害保险', '意外保险', '综合意外险'] },
  { id: 'travel', name: '旅行险', aliases: ['旅行险', '境外旅行险', '旅游险', '旅行保险', '旅游保险'] },
  { id: 'children', name: '少儿险', aliases: ['少儿险', '少儿保险', '儿童险', '儿童保险', '学平险'] },
  {
    id: 'auto', name: '车险', aliases: ['车险', '汽车保险', '机动车保险', '交强险', '商业车险'],
    // Not 车祸: "出车祸意外险赔吗" is about accident cover, and it names it.
    impliedBy: ['我的车', '车被', '爱车', '车子', '追尾', '剐蹭', '刮蹭', '撞车', '车损', '定损', '开车撞', '倒车'],
  },
];

/** Other insurers and platforms as customers write them → the name we say back. */
export const OTHER_INSURERS: Readonly<Record<string, string>> = {
  中国平安: '中国平安', 平安保险: '中国平安', 平安人寿: '中国平安', 平安财险: '中国平安', 平安产险: '中国平安',
  平安健康: '中国平安', 平安福: '中国平安',
  中国人寿: '中国人寿', 国寿: '中国人寿', 人寿财险: '中国人寿',
  中国人保: '中国人保', 人保财险: '中国人保', 人保健康: '中国人保', 人保寿险: '中国人保',
  太平洋: '太平洋保险',
  中国太平: '中国太平', 太平人寿: '中国太平', 泰康: '泰康', 新华保险: '新华保险', 新华人寿: '新华保险',
  阳光保险: '阳光保险', 阳光人寿: '阳光保险', 友邦: '友邦', 华夏保险: '华夏保险', 华夏人寿: '华夏保险', 富德生命: '富德生命',
  安邦: '安邦', 天安人寿: '天安', 天安财险: '天安', 大地保险: '大地保险', 中华保险: '中华保险', 中华联合: '中华保险',
  美亚: '美亚', 众安: '众安', 百年人寿: '百年人寿', 慧择: '慧择', 水滴保: '水滴', 蚂蚁保: '蚂蚁保',
};
const INSURER_WORDS = new Map(Object.entries(OTHER_INSURERS));

export type Relation = 'self' | 'spouse' | 'child' | 'parent';

const RELATION_WORDS: Record<string, Relation> = {
  本人: 'self', 我自己: 'self', 自己: 'self',
  配偶: 'spouse', 老婆: 'spouse', 老公: 'spouse', 妻子: 'spouse', 丈夫: 'spouse', 爱人: 'spouse', 媳妇: 'spouse',
  子女: 'child', 孩子: 'child', 儿子: 'child', 女儿: 'child', 小孩: 'child', 宝宝: 'child', 闺女: 'child',
  父母: 'parent', 爸爸: 'parent', 妈妈: 'parent', 父亲: 'parent', 母亲: 'parent', 爸妈: 'parent', 老爸: 'parent', 老妈: 'parent', 爹妈: 'parent',
};

export interface EntityOptions {
  /** Reference time for relative dates; default: now. */
  now?: Date;
  products?: ProductDefinition[];
}

// ---- checksums -------------------------------------------------------------------------------------------

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CODES = '10X98765432';

/** A mainland resident ID number: region, real birth date and GB 11643 check character. */
export function isValidIdCard(id: string): boolean {
  const value = id.toUpperCase();
  if (!/^[1-9]\d{16}[\dX]$/.test(value)) return false;
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || birth.getUTCMonth() !== month - 1 || birth.getUTCDate() !== day || birth.getTime() > Date.now()) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(value[i]) * ID_WEIGHTS[i];
  return ID_CHECK_CODES[sum % 11] === value[17];
}

/** The Luhn check every UnionPay / Visa / Mastercard number passes. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export const isMobileNumber = (digits: string): boolean => /^1[3-9]\d{9}$/.test(digits);

// ---- extraction ------------------------------------------------------------------------------------------

/** Collects entities, refusing any that overlaps one found earlier (earlier finders have priority). */
class Spans {
  readonly entities: Entity[] = [];

  free(start: number, end: number): boolean {
    return this.entities.every((e) => end <= e.start || start >= e.end);
  }

  add(type: EntityType, value: string | number, text: string, start: number): boolean {
    const end = start + text.length;
    if (!this.free(start, end)) return false;
    this.entities.push({ type, value, text, start, end });
    return true;
  }
}

function* matches(text: string, pattern: RegExp): Generator<RegExpExecArray> {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  let match: RegExpExecArray | null;
  while ((match = global.exec(text))) {
    yield match;
    if (match[0] === '') global.lastIndex++;
  }
}

function findPolicyNumbers(text: string, spans: Spans): void {
  for (const m of matches(text, /(?<![A-Za-z0-9])[Pp]\d{12,18}(?![0-9])/)) spans.add('policy_number', m[0].toUpperCase(), m[0], m.index);
  for (const m of matches(text, /保单(?:号码|号)?\s*(?:是|为|:|：)?\s*([A-Za-z]{1,4}\d{8,20}|\d{10,22})(?![0-9A-Za-z])/)) {
    const start = m.index + m[0].length - m[1].length;
    spans.add('policy_number', m[1].toUpperCase(), m[1], start);
  }
}

/** Runs of digits (allowing single spaces or hyphens between groups) that could be an ID, phone or card. */
function findNumberRuns(text: string, spans: Spans): void {
  const pattern = /(?<![0-9A-Za-z])(?:\+?86[\s-]?)?\d(?:[\s-]?\d){9,21}(?:[\s-]?[Xx])?(?![0-9A-Za-z])/;
  for (const m of matches(text, pattern)) {
    let raw = m[0];
    let start = m.index;
    const compact = raw.replace(/[\s-]/g, '').toUpperCase();
    // Some separators join two numbers ("13812345678 6222..."): only accept what one entity explains.
    if (/^\d{17}[\dX]$/.test(compact) && isValidIdCard(compact)) {
      spans.add('id_card', compact, raw, start);
      continue;
    }
    const withoutCountry = compact.replace(/^\+?86(?=1[3-9]\d{9}$)/, '');
    if (isMobileNumber(withoutCountry)) {
      spans.add('phone', withoutCountry, raw, start);
      continue;
    }
    if (/^\d{16,19}$/.test(compact) && passesLuhn(compact)) {
      spans.add('bank_card', compact, raw, start);
      continue;
    }
    // A run of several numbers separated by spaces: try each piece alone.
    if (/\s/.test(raw)) {
      for (const piece of matches(raw, /\S+/)) {
        const digits = piece[0].replace(/-/g, '').toUpperCase();
        start = m.index + piece.index;
        raw = piece[0];
        if (/^\d{17}[\dX]$/.test(digits) && isValidIdCard(digits)) spans.add('id_card', digits, raw, start);
        else if (isMobileNumber(digits)) spans.add('phone', digits, raw, start);
        else if (/^\d{16,19}$/.test(digits) && passesLuhn(digits)) spans.add('bank_card', digits, raw, start);
      }
    }
  }
}

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';

function findLicencePlates(text: string, spans: Spans): void {
  const pattern = new RegExp(`[${PROVINCES}]\\s?[A-HJ-NP-Za-hj-np-z][\\s·•.-]?[A-HJ-NP-Za-hj-np-z0-9]{5,6}(?![A-Za-z0-9])`);
  for (const m of matches(text, pattern)) {
    const value = m[0].replace(/[\s·•.-]/g, '').toUpperCase();
    const tail = value.slice(2);
    // New-energy plates have six characters after the city letter, starting or ending with D or F.
    if (tail.length === 6 && !/^[DF]/.test(tail) && !/[DF]$/.test(tail)) continue;
    // A plate has at least one digit and at most two letters among the last five.
    if (!/\d/.test(tail) || (tail.length === 5 && (tail.match(/[A-Z]/g) ?? []).length > 2)) continue;
    spans.add('licence_plate', value, m[0], m.index);
  }
}

// ---- dates ----

const WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7, 末: 6 };
const RELATIVE_DAYS: Record<string, number> = { 大前天: -3, 前天: -2, 昨天: -1, 昨日: -1, 今天: 0, 今日: 0, 明天: 1, 明日: 1, 后天: 2, 大后天: 3 };

function isoDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function addDays(now: Date, days: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + days);
}

function validDate(year: number, month: number, day: number): Date | undefined {
  const date = new Date(year, month - 1, day);
  return date.getMonth() === month - 1 && date.getDate() === day ? date : undefined;
}

const SMALL_NUMERAL = `[0-9零〇一二两三四五六七八九十]{1,3}`;

function findDates(text: string, now: Date, spans: Spans): void {
  const number = (s: string) => parseChineseNumber(s);
  // 2026年3月5日 / 3月5日 / 3月5号
  for (const m of matches(text, new RegExp(`(?:(\\d{4}|[零〇一二三四五六七八九]{4})年)?(${SMALL_NUMERAL})月(${SMALL_NUMERAL})[日号]`))) {
    const year = m[1] ? Number(m[1].replace(/./g, (c) => String(number(c) ?? c))) : now.getFullYear();
    const date = validDate(year, number(m[2]) ?? 0, number(m[3]) ?? 0);
    if (date) spans.add('date', isoDate(date), m[0], m.index);
  }
  // 2026-03-05, 2026/3/5, 2026.3.5
  for (const m of matches(text, /(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)/)) {
    const date = validDate(Number(m[1]), Number(m[2]), Number(m[3]));
    if (date) spans.add('date', isoDate(date), m[0], m.index);
  }
  // 3天前 / 三天后 / 两周前
  for (const m of matches(text, new RegExp(`(${SMALL_NUMERAL})(天|日|个?星期|周|个?礼拜)(前|以前|之前|后|以后|之后)`))) {
    const count = number(m[1]);
    if (count === undefined) continue;
    const days = count * (/^[天日]$/.test(m[2]) ? 1 : 7) * (m[3].endsWith('前') ? -1 : 1);
    spans.add('date', isoDate(addDays(now, days)), m[0], m.index);
  }
  // 上周五 / 这周三 / 下星期一 / 周五 / 礼拜天
  for (const m of matches(text, /(上上|上|这|本|下下|下)?(?:个)?(周|星期|礼拜)([一二三四五六日天])/)) {
    const weekOffset = { 上上: -2, 上: -1, 这: 0, 本: 0, 下: 1, 下下: 2 }[m[1] ?? '这'] ?? 0;
    const today = now.getDay() === 0 ? 7 : now.getDay();
    const days = weekOffset * 7 + (WEEKDAYS[m[3]] - today);
    spans.add('date', isoDate(addDays(now, days)), m[0], m.index);
  }
  // 今天 / 昨天 / 前天 / 大前天 (longest first, so 大前天 is not read as 前天)
  for (const word of Object.keys(RELATIVE_DAYS).sort((a, b) => b.length - a.length)) {
    for (const m of matches(text, new RegExp(word))) spans.add('date', isoDate(addDays(now, RELATIVE_DAYS[word])), m[0], m.index);
  }
}

// ---- how long the policy has been held ----

const DAYS_PER_UNIT: Record<string, number> = { 天: 1, 日: 1, 星期: 7, 周: 7, 礼拜: 7, 月: 30, 年: 365 };

/**
 * "买了十天了", "买了重疾险十天了", "交了四年", "生效十三天", "投保才一个礼拜": a verb of buying or paying *with* 了 (or
 * 才), since "买三年" is a three-year term; not followed by 期 ("买了十年期的" is a term too), 后 or 内 (a window:
 * "买了保险三年内出险").
 */
const HELD_FOR = new RegExp(
  `(?:(?:买|投保|投|交|缴|签|保)了[\\p{Script=Han}a-z]{0,6}?(?:才|刚|有|快|已经|都|差不多)?|(?:买|投保|投)才|生效了?(?:才)?)` +
  `(${SMALL_NUMERAL}|半)(个)?(?:多)?(天|日|星期|周|礼拜|月|年)(半)?(?:多)?(?![期后内])`,
  'u',
);

function findHeldFor(text: string, spans: Spans): void {
  for (const m of matches(text, HELD_FOR)) {
    const count = m[1] === '半' ? 0.5 : parseChineseNumber(m[1]);
    if (count === undefined) continue;
    const days = Math.round((count + (m[4] ? 0.5 : 0)) * DAYS_PER_UNIT[m[3]]);
    // The span is the period alone ("十天"): what comes between may be another entity ("买了重疾险十天了").
    const at = m[0].lastIndexOf(m[1]);
    spans.add('held_for', days, m[0].slice(at), m.index + at);
  }
}

/** "十天前买的", "昨天投保的", "3月5日买的": the purchase right after a date gives the days since. */
function findHeldSinceDate(text: string, now: Date, spans: Spans): void {
  const today = addDays(now, 0);
  for (const date of [...spans.entities].filter((e) => e.type === 'date')) {
    const verb = /^(?:刚|才)?(?:买|投保|投|签|下单)/.exec(text.slice(date.end));
    if (!verb) continue;
    const [year, month, day] = String(date.value).split('-').map(Number);
    const days = Math.round((today.getTime() - new Date(year, month - 1, day).getTime()) / 86_400_000);
    if (days >= 0) spans.add('held_for', days, verb[0], date.end);
  }
}

// ---- ages ----

/** "44岁", "六十五周岁", "三十多岁", "十几岁": a numeral, then 岁 (多/几 before it means the middle of that decade). */
const AGE = new RegExp(`(?<![0-9零〇一二两三四五六七八九十百.])(${SMALL_NUMERAL})(多|几)?周?岁(?!月)`, 'u');
/** An age reached later, not the person's: "保到70岁", "交至60周岁". */
const AGE_REACHED_BEFORE = /(?:到|至)$/;
/** …and "60岁以后", "65岁退休", "70岁前", "18岁时": a point in time, not how old someone is. */
const AGE_REACHED_AFTER = /^(?:半|多)?(?:以后|之后|后|以前|之前|前|时|开始|退休|领|为止|起)/;
/** A baby counted in months: "8个月大", "三个月的宝宝", "刚满月". */
const BABY_MONTHS = new RegExp(`(?:(?:${SMALL_NUMERAL}|半)个多?月(?=大|的(?:宝宝|孩子|婴儿|小孩|女儿|儿子))|(?:刚|才|还没|没)满月)`, 'u');

function findAges(text: string, spans: Spans): void {
  for (const m of matches(text, AGE)) {
    if (AGE_REACHED_BEFORE.test(text.slice(Math.max(0, m.index - 2), m.index))) continue;
    if (AGE_REACHED_AFTER.test(text.slice(m.index + m[0].length))) continue;
    const count = parseChineseNumber(m[1]);
    if (count === undefined || count > 120) continue;
    const roughDecade = m[2] !== undefined && count >= 10 && count % 10 === 0;
    spans.add('age', roughDecade ? count + 5 : count, m[0], m.index);
  }
  for (const m of matches(text, BABY_MONTHS)) spans.add('age', 0, m[0], m.index);
}

// ---- amounts ----

/** Words after a number that make it a count, not money ("一百遍", "三千米"). */
const NOT_MONEY_AFTER = /^(?:遍|次|天|日|号|个|岁|年|月|周|星期|小时|分钟|分|秒|米|公里|千米|人|位|家|份|张|页|条|斤|公斤|克|度|楼|层|岁|倍|%|％)/;

function findAmounts(text: string, spans: Spans): void {
  const pattern = new RegExp(`([¥￥]\\s*)?([0-9零〇一二两三四五六七八九十][${NUMERAL_CHARACTERS}]*)(\\s*(?:人民币|块钱|元|块|圆|rmb|RMB))?`);
  for (const m of matches(text, pattern)) {
    const [whole, currencySign, numeral, currencyWord] = m;
    const hasMagnitude = /[百千万亿]/.test(numeral);
    if (!currencySign && !currencyWord && !hasMagnitude) continue;
    let digits = numeral.replace(/[.,]+$/, '');
    // "1万2" is fine; "3千米" is a distance.
    if (!currencyWord && NOT_MONEY_AFTER.test(text.slice(m.index + whole.length))) continue;
    // "千万别" (adverb) and "万一" start with a unit: not numbers.
    if (/^[百千万亿]/.test(digits)) continue;
    let value = parseChineseNumber(digits);
    if (value === undefined) {
      // "三千五百元左右": keep the longest prefix that parses.
      while (digits.length > 1 && value === undefined) {
        digits = digits.slice(0, -1);
        value = parseChineseNumber(digits);
      }
      if (value === undefined || !/[百千万亿]/.test(digits)) continue;
      spans.add('amount', value, `${currencySign ?? ''}${digits}`, m.index);
      continue;
    }
    spans.add('amount', value, whole.trimEnd(), m.index);
  }
}

// ---- words from lists ----

function findListed(text: string, type: EntityType, words: Map<string, string>, spans: Spans): void {
  const sorted = [...words.keys()].sort((a, b) => b.length - a.length);
  for (const word of sorted) {
    let from = 0;
    for (let at = text.indexOf(word, from); at >= 0; at = text.indexOf(word, from)) {
      spans.add(type, words.get(word) as string, word, at);
      from = at + word.length;
    }
  }
}

/** The first word that implies a product, as one mention of it ("我的车被追尾了" is one car, not two). */
function findImpliedProduct(text: string, products: ProductDefinition[], spans: Spans): void {
  let first: { at: number; word: string; id: string } | undefined;
  for (const product of products) {
    for (const word of product.impliedBy ?? []) {
      const at = text.indexOf(word);
      if (at >= 0 && (!first || at < first.at)) first = { at, word, id: product.id };
    }
  }
  if (first) spans.add('product', first.id, first.word, first.at);
}

/** Every entity in the text, in reading order. */
export function extractEntities(text: string, options: EntityOptions = {}): Entity[] {
  const now = options.now ?? new Date();
  const spans = new Spans();
  // Identifiers first: their digits must not be read as amounts or dates.
  findPolicyNumbers(text, spans);
  findNumberRuns(text, spans);
  findLicencePlates(text, spans);
  // Products before amounts: "百万医疗" is a product, not a million.
  const productWords = new Map<string, string>();
  for (const product of options.products ?? DEFAULT_PRODUCTS) for (const alias of [product.name, ...product.aliases]) productWords.set(alias, product.id);
  findListed(text, 'product', productWords, spans);
  if (!spans.entities.some((e) => e.type === 'product')) findImpliedProduct(text, options.products ?? DEFAULT_PRODUCTS, spans);
  findListed(text, 'insurer', INSURER_WORDS, spans);
  // Before amounts and dates: "买了十天" is a holding period, and its numeral is neither.
  findHeldFor(text, spans);
  findAges(text, spans);
  findDates(text, now, spans);
  findHeldSinceDate(text, now, spans);
  findAmounts(text, spans);
  findListed(text, 'relation', new Map(Object.entries(RELATION_WORDS)), spans);
  return spans.entities.sort((a, b) => a.start - b.start);
}
