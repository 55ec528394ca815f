/**
 * Text analysis for retrieval: normalisation, insurance synonym folding, filler-word handling, and the two kinds of
 * terms the index scores (jieba words and character n-grams), plus the plain character "surface" that order-aware
 * matching compares. Documents and queries go through the same steps, so a term means the same thing on both sides.
 */

/** Splits normalised text into words; the server's jieba segmenter by default, injectable for tests and tools. */
export type WordSegmenter = (text: string) => string[];

/** The terms of one text, per channel. */
export interface AnalysedText {
  /** Words (jieba), filler included (queries weight it down). */
  words: string[];
  /** Character bigrams and trigrams over runs of non-filler words (spelling-tolerant, segmentation-independent). */
  ngrams: string[];
}

/** A query's terms with a weight each (parallel arrays): how informative the term is in general language. */
export interface WeightedAnalysedText extends AnalysedText {
  wordWeights: number[];
  ngramWeights: number[];
}

/** How informative a word is in general, in (0, 1]: generic words ("买", "好", "时候") low, domain words ≈ 1. */
export type TermPrior = (word: string) => number;

/**
 * Variant → canonical spellings. Folding both sides onto one form lets "咋退保" meet "怎么退保" and "汽车保险" meet
 * "车险". Longest variant wins, so "重大疾病保险" is folded before "保险" could be touched by anything else.
 */
export const INSURANCE_SYNONYMS: ReadonlyArray<readonly [variant: string, canonical: string]> = [
  ['重大疾病保险', '重疾险'],
  ['重大疾病险', '重疾险'],
  ['重疾保险', '重疾险'],
  ['大病保险', '重疾险'],
  ['机动车交通事故责任强制保险', '交强险'],
  ['机动车强制保险', '交强险'],
  ['强制保险', '交强险'],
  ['汽车保险', '车险'],
  ['机动车保险', '车险'],
  ['车辆保险', '车险'],
  ['意外伤害保险', '意外险'],
  ['意外保险', '意外险'],
  ['人身意外险', '意外险'],
  ['医疗保险', '医疗险'],
  ['旅游保险', '旅行险'],
  ['旅行保险', '旅行险'],
  ['人寿保险', '寿险'],
  ['年金保险', '年金险'],
  ['养老保险', '养老险'],
  ['社会保险', '社保'],
  ['医疗保险卡', '医保卡'],
  ['少儿保险', '少儿险'],
  ['儿童保险', '少儿险'],
  ['第三者责任险', '三者险'],
  ['第三方责任险', '三者险'],
  ['第三责任险', '三者险'],
  ['三者责任险', '三者险'],
  ['第三者险', '三者险'],
  ['三责险', '三者险'],
  ['撤销保单', '退保'],
  ['解除合同', '退保'],
  ['保险金额', '保额'],
  ['保险费', '保费'],
  ['保险单', '保单'],
  ['犹豫期间', '犹豫期'],
  ['冷静期', '犹豫期'],
  ['索赔', '理赔'],
  ['申请赔偿', '理赔'],
  ['赔偿', '赔付'],
  ['咋样', '怎么样'],
  ['如何', '怎么'],
  ['怎样', '怎么'],
  ['咋', '怎么'],
  ['啥', '什么'],
  ['多少钱', '价格'],
  ['费用', '价格'],
  // 缴 and 交 are one verb to customers (缴费/交费, 补缴/补交, 年缴/年交); a lost policy is 丢了 however it is said.
  ['缴', '交'],
  ['丢失', '丢了'],
  // Pinyin-input slips customers make in the words that matter most (犹于期 got the waiting-period answer).
  ['犹于期', '犹豫期'],
  ['犹预期', '犹豫期'],
  ['尤豫期', '犹豫期'],
  ['退宝', '退保'],
  ['遗失', '丢了'],
  ['弄丢', '丢了'],
  // A destination abroad is what travel cover asks about, whichever country is named ("去美国看女儿买什么保险").
  // Hong Kong and Macau stay themselves: "香港保险" is about buying a policy there.
  ['国外', '境外'],
  ['海外', '境外'],
  ...['美国', '日本', '韩国', '泰国', '新加坡', '马来西亚', '越南', '菲律宾', '印度尼西亚', '印尼', '巴厘岛', '马尔代夫',
    '英国', '法国', '德国', '意大利', '西班牙', '瑞士', '希腊', '俄罗斯', '欧洲', '澳大利亚', '澳洲', '新西兰', '加拿大',
    '迪拜', '土耳其', '埃及'].map((country) => [country, '境外'] as const),
];

/**
 * Words that carry no topic: politeness, question particles, pronouns, hedges. In a long query they outnumber the
 * topic and make every "请问…吗" question look alike, so queries weight them down and n-grams never span them. They
 * stay indexed as words because in short chat ("好的", "不用了", "考虑一下") they are the whole message.
 */
export const FILLER_WORDS: ReadonlySet<string> = new Set([
  '请问', '请教', '问', '问问', '问下', '问一下', '想问', '想问一下', '咨询', '咨询一下', '了解', '了解一下', '一下', '下',
  '你好', '您好', '谢谢', '多谢', '感谢', '万分感谢', '先谢谢', '麻烦', '劳驾', '帮忙', '帮', '求', '求助', '求教', '急', '在线等',
  '大家', '各位', '哪位', '朋友', '朋友们', '高手', '大神', '专家', '老师', '高人', '指点', '指教', '解答', '告知', '告诉',
  '吗', '呢', '吧', '啊', '呀', '哦', '哈', '嘛', '么', '了', '的', '地', '得', '是', '是不是', '有没有', '能不能',
  '可不可以', '会不会', '好不好', '是否', '怎么办', '怎么回事', '什么', '什么样', '怎么', '怎么样', '为什么', '哪些', '哪个', '哪里', '哪儿', '多少', '几',
  '我', '我们', '你', '你们', '他', '她', '它', '他们', '自己', '这个', '那个', '这', '那', '这样', '那样', '这种', '那种',
  '和', '与', '及', '跟', '或', '或者', '还是', '就', '都', '也', '还', '又', '再', '很', '比较', '非常', '特别', '太',
  '在', '从', '到', '对', '给', '被', '把', '让', '向', '为', '以', '于', '因为', '所以', '如果', '但是', '但', '而且',
  '一个', '一些', '一点', '有点', '现在', '已经', '可以', '能', '会', '要', '想', '应该', '需要', '请', '知道', '不知道', '说',
  '嗯', '呃', '恩', '喔', '哎', '唉', '啦', '罢了', '而已', '等', '等等', '之', '其', '中', '里', '上',
  // Named in most real customer questions, about any topic ("…保险公司赔吗"): in an insurer's chat it says nothing.
  '保险公司',
]);

const HAN = /\p{Script=Han}/u;

/** NFKC folds full-width letters and digits onto ASCII; lower-casing makes "HUTS" and "huts" one term. */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function buildSynonymFolder(pairs: ReadonlyArray<readonly [string, string]>): (text: string) => string {
  if (pairs.length === 0) return (text) => text;
  const canonicalOf = new Map(pairs.map(([variant, canonical]) => [normaliseText(variant), normaliseText(canonical)]));
  const variants = [...canonicalOf.keys()].sort((a, b) => b.length - a.length);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(variants.map(escape).join('|'), 'g');
  return (text) => text.replace(pattern, (match) => canonicalOf.get(match) ?? match);
}

/**
 * Symbols for n-grams: each Han character is one, each ASCII letter/digit run ("huts", "2019") is one, anything else
 * is skipped. A char-code loop, because this runs over every answer at build time.
 */
function appendSymbols(text: string, into: string[]): void {
  let asciiStart = -1;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0;
    const asciiAlnum = (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a);
    if (asciiAlnum) {
      if (asciiStart < 0) asciiStart = i;
      continue;
    }
    if (asciiStart >= 0) {
      into.push(text.slice(asciiStart, i));
      asciiStart = -1;
    }
    if (isHanCode(code)) into.push(text[i]);
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && HAN.test(text.slice(i, i + 2))) {
      into.push(text.slice(i, i + 2));
      i++;
    }
  }
}

function isHanCode(code: number): boolean {
  return (code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf) || (code >= 0xf900 && code <= 0xfaff);
}

export interface AnalyzerOptions {
  segment: WordSegmenter;
  synonyms?: ReadonlyArray<readonly [string, string]>;
  fillerWords?: ReadonlySet<string>;
  /** n-gram sizes to emit; bigrams carry most of the signal, trigrams add phrase precision. */
  ngramSizes?: readonly number[];
  /** Query-side informativeness of a word; none means every word counts fully. */
  termPrior?: TermPrior;
  /**
   * What a filler word weighs in a query (times its prior): small, so a long query's politeness cannot outvote its
   * topic, but not zero, so "好的" still prefers "好的". 0 ignores filler in queries that have anything else.
   */
  fillerWeight?: number;
}

export class TextAnalyzer {
  private readonly foldSynonyms: (text: string) => string;
  private readonly segment: WordSegmenter;
  private readonly fillerWords: ReadonlySet<string>;
  private readonly ngramSizes: readonly number[];
  private readonly termPrior: TermPrior | undefined;
  private readonly fillerWeight: number;

  constructor(options: AnalyzerOptions) {
    this.fillerWeight = options.fillerWeight ?? 0.3;
    this.termPrior = options.termPrior;
    this.segment = options.segment;
    this.foldSynonyms = buildSynonymFolder(options.synonyms ?? INSURANCE_SYNONYMS);
    this.fillerWords = options.fillerWords ?? FILLER_WORDS;
    this.ngramSizes = options.ngramSizes ?? [2, 3];
  }

  /**
   * The text as a plain character sequence (normalised, synonyms folded, only Han letters and ASCII letters/digits),
   * filler kept: the input to order-aware phrasing similarity.
   */
  surface(text: string): string {
    const folded = this.foldSynonyms(normaliseText(text));
    let kept = '';
    for (let i = 0; i < folded.length; i++) {
      const code = folded.charCodeAt(i);
      if (isHanCode(code) || (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a)) kept += folded[i];
    }
    return kept;
  }

  /**
   * Document side. Filler words are indexed as words (so "好的" can match "好的") but never inside n-grams, unless
   * the text is nothing but filler.
   */
  analyse(text: string): AnalysedText {
    const segmented = this.segment(this.foldSynonyms(normaliseText(text)));
    const analysed = this.run(segmented, undefined, 1, false);
    if (analysed.ngrams.length > 0) return { words: analysed.words, ngrams: analysed.ngrams };
    const fillerOnly = this.run(segmented, undefined, 1, true);
    return { words: fillerOnly.words, ngrams: fillerOnly.ngrams };
  }

  /**
   * Query side: terms with a weight each, the word's informativeness prior, times `fillerWeight` for filler words. A
   * query that is nothing but filler ("好的", "不用了") counts it fully, as the documents index it.
   */
  analyseQuery(text: string): WeightedAnalysedText {
    const segmented = this.segment(this.foldSynonyms(normaliseText(text)));
    const analysed = this.run(segmented, this.termPrior, this.fillerWeight, false);
    if (analysed.ngrams.length > 0) return analysed;
    return this.run(segmented, undefined, 1, true);
  }

  private run(segmented: string[], prior: TermPrior | undefined, fillerWeight: number, fillerInNgrams: boolean): WeightedAnalysedText {
    const words: string[] = [];
    const wordWeights: number[] = [];
    const ngrams: string[] = [];
    const ngramWeights: number[] = [];
    // A run is a stretch of consecutive content words; n-grams never bridge punctuation or filler, so
    // "退保吗？犹豫期" does not invent the bigram "保犹".
    let run: string[] = [];
    let runWeights: number[] = [];
    const flushRun = () => {
      this.emitNgrams(run, ngrams, runWeights, ngramWeights);
      run = [];
      runWeights = [];
    };
    for (const word of segmented) {
      if (!isContent(word)) {
        flushRun();
        continue;
      }
      const filler = this.fillerWords.has(word);
      const weight = (prior ? prior(word) : 1) * (filler ? fillerWeight : 1);
      if (weight > 0) {
        words.push(word);
        wordWeights.push(weight);
      }
      if (filler && !fillerInNgrams) {
        flushRun();
        continue;
      }
      const before = run.length;
      appendSymbols(word, run);
      for (let i = before; i < run.length; i++) runWeights.push(weight);
    }
    flushRun();
    return { words, ngrams, wordWeights, ngramWeights };
  }

  /** An n-gram's prior is the mean of its symbols' word priors, so "买养" sits between "买" and "养老险". */
  private emitNgrams(symbols: string[], into: string[], symbolWeights: number[], weightsInto: number[]): void {
    if (symbols.length === 1) {
      // A lone symbol still deserves a term so one-character topics ("税") are searchable.
      into.push(symbols[0]);
      weightsInto.push(symbolWeights[0]);
      return;
    }
    for (const n of this.ngramSizes) {
      for (let i = 0; i + n <= symbols.length; i++) {
        let gram = symbols[i];
        let weight = symbolWeights[i];
        for (let j = 1; j < n; j++) {
          gram += symbols[i + j];
          weight += symbolWeights[i + j];
        }
        into.push(gram);
        weightsInto.push(weight / n);
      }
    }
  }
}

function isContent(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i);
    if (isHanCode(code) || (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a)) return true;
  }
  return HAN.test(word);
}
