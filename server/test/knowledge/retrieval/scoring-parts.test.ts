import {
  applyCalibration,
  fitConfidenceCalibration,
  reliabilityTable,
  TextAnalyzer,
  type LabelledFeatures,
} from '../../../src/knowledge/retrieval';
import { longestCommonSubsequence, SubsequenceMatcher } from '../../../src/knowledge/retrieval/sequence-similarity';

function tableLcs(a: string, b: string): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : Math.max(row[j], row[j - 1]);
      diagonal = above;
    }
  }
  return row[b.length];
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('longest common subsequence (bit-parallel)', () => {
  it('matches the dynamic-programming table, including patterns longer than one 30-bit chunk', () => {
    const random = seededRandom(7);
    const alphabet = '保险理赔退犹豫期的吗';
    const text = (length: number) => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let trial = 0; trial < 300; trial++) {
      const a = text(Math.floor(random() * 80));
      const b = text(Math.floor(random() * 80));
      expect(longestCommonSubsequence(a, b)).toBe(tableLcs(a, b));
      expect(longestCommonSubsequence(b, a)).toBe(tableLcs(a, b));
    }
  });

  it('reports coverage of both sides', () => {
    const matcher = new SubsequenceMatcher('我想问下犹豫期内怎么退保呢');
    expect(matcher.match('犹豫期内怎么退保')).toEqual({ questionCoverage: 1, queryCoverage: 8 / 13 });
    expect(matcher.match('')).toEqual({ questionCoverage: 0, queryCoverage: 0 });
  });
});

describe('text analysis', () => {
  const analyzer = new TextAnalyzer({ segment: (text) => text.split(/(?=[吗呢])|\s+/), fillerWeight: 0.3 });

  it('folds synonyms and full-width text onto one form', () => {
    expect(analyzer.surface('ＨＵＴＳ的重大疾病保险咋退？')).toBe('huts的重疾险怎么退');
    expect(analyzer.surface('补缴保费')).toBe('补交保费');
    expect(analyzer.surface('保单遗失')).toBe(analyzer.surface('保单丢了'));
  });

  it('keeps filler as lightly weighted words but never inside n-grams', () => {
    const analysed = analyzer.analyseQuery('退保 吗 犹豫期');
    expect(analysed.words).toEqual(['退保', '吗', '犹豫期']);
    expect(analysed.wordWeights).toEqual([1, 0.3, 1]);
    expect(analysed.ngrams).not.toContain('保吗');
    expect(analysed.ngrams).not.toContain('保犹');
    expect(analysed.ngrams).toEqual(expect.arrayContaining(['退保', '犹豫', '豫期', '犹豫期']));
  });

  it('counts a query made only of filler at full weight', () => {
    const analysed = analyzer.analyseQuery('请问 吗');
    expect(analysed.wordWeights.every((w) => w === 1)).toBe(true);
    expect(analysed.ngrams.length).toBeGreaterThan(0);
  });
});

describe('confidence calibration', () => {
  it('fits a logistic model whose confidence tracks the observed hit rate', () => {
    const random = seededRandom(11);
    const examples: LabelledFeatures[] = [];
    for (let i = 0; i < 2000; i++) {
      const relativeMargin = random();
      const truth = 1 / (1 + Math.exp(-(6 * relativeMargin - 3)));
      examples.push({ features: { topScore: 1, relativeMargin, questionOverlap: 0.5, sequenceSimilarity: 0.5, informativeCoverage: 0.5 }, correct: random() < truth });
    }
    const calibration = fitConfidenceCalibration(examples, 0.01);
    expect(calibration.coefficients.relativeMargin).toBeGreaterThan(4);
    const report = reliabilityTable(examples.map((e) => ({ confidence: applyCalibration(calibration, e.features), correct: e.correct })));
    expect(report.expectedCalibrationError).toBeLessThan(0.05);
    expect(report.bins.reduce((n, bin) => n + bin.count, 0)).toBe(examples.length);
  });
});
