/**
 * Turning raw ranking evidence into a confidence a dialogue manager can threshold: a logistic model over a few
 * scale-free features of the top result (Platt scaling with more than one input). Fitting lives here too, so a
 * deployment can re-fit on its own labelled questions.
 */

/** What is known about the top-1 result when it is returned. All roughly scale-free, so they transfer across KBs. */
export interface ConfidenceFeatures {
  /** Top-1 combined score (each channel normalised by the query's IDF mass, so ≈ weighted share of query matched). */
  topScore: number;
  /** (top1 − top2) / max(top1, 1): how clearly the winner stands out (a faint lone match does not). */
  relativeMargin: number;
  /** Character n-gram Dice between the query and the top-1's closest question: absolute phrasing overlap. */
  questionOverlap: number;
  /** Order-aware (LCS) similarity of the query and the top-1's closest question, in [0, 1]. */
  sequenceSimilarity: number;
  /**
   * Share of the query's informative word mass (IDF × general-language prior) the top-1 contains, in [0, 1]: low when
   * the query's topic words are nowhere in it, however well its generic words matched (out-of-scope questions).
   */
  informativeCoverage: number;
}

export const CONFIDENCE_FEATURE_NAMES = [
  'topScore',
  'relativeMargin',
  'questionOverlap',
  'sequenceSimilarity',
  'informativeCoverage',
] as const;

export interface ConfidenceCalibration {
  intercept: number;
  coefficients: Record<(typeof CONFIDENCE_FEATURE_NAMES)[number], number>;
}

export function featureVector(features: ConfidenceFeatures): number[] {
  return CONFIDENCE_FEATURE_NAMES.map((name) => features[name]);
}

export function applyCalibration(calibration: ConfidenceCalibration, features: ConfidenceFeatures): number {
  let z = calibration.intercept;
  // A calibration saved before a feature existed has no coefficient for it: that feature then counts 0.
  for (const name of CONFIDENCE_FEATURE_NAMES) z += (calibration.coefficients[name] ?? 0) * features[name];
  return sigmoid(z);
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export interface LabelledFeatures {
  features: ConfidenceFeatures;
  /** Whether the top-1 result was the right one. */
  correct: boolean;
  /** How much this example counts in the fit (default 1): lets several labelled sets be pooled with equal weight. */
  weight?: number;
}

/**
 * Logistic regression by Newton's method (IRLS) with a small ridge penalty, which keeps the fit stable on a few
 * hundred examples and when a feature separates the classes perfectly.
 */
export function fitConfidenceCalibration(examples: readonly LabelledFeatures[], ridge = 1): ConfidenceCalibration {
  const dimension = CONFIDENCE_FEATURE_NAMES.length + 1;
  const rows = examples.map((e) => [1, ...featureVector(e.features)]);
  const labels = examples.map((e) => (e.correct ? 1 : 0));
  const exampleWeights = examples.map((e) => e.weight ?? 1);
  const weights = new Array<number>(dimension).fill(0);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = new Array<number>(dimension).fill(0);
    const hessian = Array.from({ length: dimension }, () => new Array<number>(dimension).fill(0));
    rows.forEach((row, i) => {
      const p = sigmoid(dot(weights, row));
      const weight = exampleWeights[i];
      const curvature = Math.max(p * (1 - p), 1e-9) * weight;
      for (let a = 0; a < dimension; a++) {
        gradient[a] += weight * (p - labels[i]) * row[a];
        for (let b = 0; b < dimension; b++) hessian[a][b] += curvature * row[a] * row[b];
      }
    });
    // Ridge on the slopes only: the intercept should be free to match the base rate.
    for (let a = 1; a < dimension; a++) {
      gradient[a] += ridge * weights[a];
      hessian[a][a] += ridge;
    }
    const step = solveLinearSystem(hessian, gradient);
    let largest = 0;
    for (let a = 0; a < dimension; a++) {
      weights[a] -= step[a];
      largest = Math.max(largest, Math.abs(step[a]));
    }
    if (largest < 1e-8) break;
  }
  const [intercept, ...slopes] = weights;
  const coefficients = Object.fromEntries(CONFIDENCE_FEATURE_NAMES.map((name, i) => [name, slopes[i]])) as ConfidenceCalibration['coefficients'];
  return { intercept, coefficients };
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Gaussian elimination with partial pivoting; the systems here are one row per feature plus the intercept. */
function solveLinearSystem(matrix: number[][], vector: number[]): number[] {
  const n = vector.length;
  const a = matrix.map((row, i) => [...row, vector[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) pivot = row;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const divisor = a[col][col] || 1e-12;
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const factor = a[row][col] / divisor;
      for (let k = col; k <= n; k++) a[row][k] -= factor * a[col][k];
    }
  }
  return a.map((row, i) => row[n] / (row[i] || 1e-12));
}

export interface ReliabilityBin {
  /** Confidence range [from, to). */
  from: number;
  to: number;
  count: number;
  meanConfidence: number;
  /** Fraction of the bin whose top-1 was right. */
  accuracy: number;
}

export interface ReliabilityReport {
  bins: ReliabilityBin[];
  /** Expected calibration error: count-weighted |accuracy − confidence| over bins. */
  expectedCalibrationError: number;
  /** Mean squared error of confidence against correctness. */
  brierScore: number;
}

export function reliabilityTable(predictions: ReadonlyArray<{ confidence: number; correct: boolean }>, binCount = 10): ReliabilityReport {
  const bins: ReliabilityBin[] = [];
  let weightedGap = 0;
  let brier = 0;
  for (const p of predictions) brier += (p.confidence - (p.correct ? 1 : 0)) ** 2;
  for (let i = 0; i < binCount; i++) {
    const from = i / binCount;
    const to = (i + 1) / binCount;
    const members = predictions.filter((p) => p.confidence >= from && (p.confidence < to || (i === binCount - 1 && p.confidence <= 1)));
    const count = members.length;
    const meanConfidence = count ? members.reduce((s, p) => s + p.confidence, 0) / count : 0;
    const accuracy = count ? members.filter((p) => p.correct).length / count : 0;
    weightedGap += count * Math.abs(accuracy - meanConfidence);
    bins.push({ from, to, count, meanConfidence, accuracy });
  }
  const total = Math.max(predictions.length, 1);
  return { bins, expectedCalibrationError: weightedGap / total, brierScore: brier / total };
}
