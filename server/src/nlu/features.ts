import { segment } from './segmenter';
import { contentCharacters, normalizeText } from './normalize';

/**
 * Feature engineering for short Chinese utterances: jieba words carry meaning ("理赔", "犹豫期"), character
 * n-grams survive typos, unknown words and segmentation mistakes ("投宝" for 投保), which matter most in
 * 5-character customer replies. Every group can be switched off or re-weighted so the stages are measurable.
 */
export interface FeatureOptions {
  /** jieba words. */
  words: boolean;
  /** Adjacent word pairs ("不 需要" differs from "需要"). */
  wordBigrams: boolean;
  /** Character n-gram lengths, e.g. [1, 2, 3]. */
  charNgrams: number[];
  /** Mark the start and end of the text so "好的" alone differs from "好的" inside a sentence. */
  boundaries: boolean;
  /** Replace digits by one symbol so "3月5日" and "4月1日" share features. */
  foldDigits: boolean;
  /** Relative weight of each group after TF-IDF (a group's features are multiplied by it). */
  groupWeights: Partial<Record<FeatureGroup, number>>;
}

export type FeatureGroup = 'w' | 'b' | 'c';

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  words: true,
  wordBigrams: true,
  charNgrams: [1, 2, 3],
  boundaries: true,
  foldDigits: true,
  groupWeights: {},
};

const DIGITS = /[0-9]/g;

/** Raw feature counts of one text; keys are prefixed by group ("w:理赔", "c:理赔", "b:我|要"). */
export function extractFeatures(text: string, options: FeatureOptions = DEFAULT_FEATURE_OPTIONS): Map<string, number> {
  let normalized = normalizeText(text);
  if (options.foldDigits) normalized = normalized.replace(DIGITS, '0');
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

  if (options.words || options.wordBigrams) {
    const words = segment(normalized);
    if (options.words) for (const word of words) add(`w:${word}`);
    if (options.wordBigrams) {
      const padded = options.boundaries ? ['^', ...words, '$'] : words;
      for (let i = 0; i + 1 < padded.length; i++) add(`b:${padded[i]}|${padded[i + 1]}`);
    }
  }
  if (options.charNgrams.length) {
    const chars = contentCharacters(normalized);
    const padded = options.boundaries ? ['^', ...chars, '$'] : chars;
    for (const n of options.charNgrams) {
      // Unigrams of the boundary markers alone say nothing.
      const source = n === 1 ? chars : padded;
      for (let i = 0; i + n <= source.length; i++) add(`c:${source.slice(i, i + n).join('')}`);
    }
  }
  return counts;
}

/** A sparse vector: sorted feature indices and their values. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

export interface FeatureSpaceJSON {
  options: FeatureOptions;
  features: string[];
  idf: number[];
}

/**
 * The vocabulary and IDF learnt from training texts. Vectors are sublinear TF × IDF, group-weighted and
 * L2-normalised so long and short utterances score on one scale.
 */
export class FeatureSpace {
  private readonly index = new Map<string, number>();

  private constructor(readonly options: FeatureOptions, readonly features: string[], readonly idf: Float32Array) {
    features.forEach((feature, i) => this.index.set(feature, i));
  }

  /** Builds the space from training texts; features seen in fewer than `minCount` texts are dropped. */
  static fit(texts: readonly string[], options: FeatureOptions = DEFAULT_FEATURE_OPTIONS, minCount = 1): FeatureSpace {
    return FeatureSpace.fitCounts(texts.map((text) => extractFeatures(text, options)), options, minCount);
  }

  /** As fit, from counts already extracted with `options` (callers that vectorize the same texts again reuse them). */
  static fitCounts(allCounts: ReadonlyArray<Map<string, number>>, options: FeatureOptions, minCount = 1): FeatureSpace {
    const documentFrequency = new Map<string, number>();
    for (const counts of allCounts) {
      for (const key of counts.keys()) documentFrequency.set(key, (documentFrequency.get(key) ?? 0) + 1);
    }
    const features = [...documentFrequency.entries()].filter(([, df]) => df >= minCount).map(([key]) => key).sort();
    const idf = new Float32Array(features.length);
    features.forEach((key, i) => {
      idf[i] = Math.log((1 + allCounts.length) / (1 + (documentFrequency.get(key) ?? 0))) + 1;
    });
    return new FeatureSpace(options, features, idf);
  }

  static fromJSON(json: FeatureSpaceJSON): FeatureSpace {
    return new FeatureSpace(json.options, json.features, Float32Array.from(json.idf));
  }

  toJSON(): FeatureSpaceJSON {
    return { options: this.options, features: this.features, idf: Array.from(this.idf) };
  }

  get size(): number {
    return this.features.length;
  }

  indexOf(feature: string): number | undefined {
    return this.index.get(feature);
  }

  /** Raw counts → weighted, normalised sparse vector; features unknown to the space are ignored. */
  vectorizeCounts(counts: Map<string, number>): SparseVector {
    const entries: Array<[number, number]> = [];
    const weights = this.options.groupWeights;
    for (const [key, count] of counts) {
      const i = this.index.get(key);
      if (i === undefined) continue;
      const groupWeight = weights[key[0] as FeatureGroup] ?? 1;
      entries.push([i, (1 + Math.log(count)) * this.idf[i] * groupWeight]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    let norm = 0;
    for (const [, v] of entries) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    const indices = new Int32Array(entries.length);
    const values = new Float32Array(entries.length);
    entries.forEach(([i, v], k) => {
      indices[k] = i;
      values[k] = v / norm;
    });
    return { indices, values };
  }

  vectorize(text: string): SparseVector {
    return this.vectorizeCounts(extractFeatures(text, this.options));
  }
}
