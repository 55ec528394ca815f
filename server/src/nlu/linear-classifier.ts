import type { SparseVector } from './features';
import { yieldToEventLoop } from './neural-stage';

/**
 * Multinomial logistic regression (softmax) over sparse TF-IDF vectors: the second classifier stage.
 *
 * Why it exists beside node-nlp's NeuralNetwork: node-nlp trains one perceptron per label over every example
 * (cost labels × examples per epoch: about 10 s for 92 labels here, hours for 3,000 sub-intents), and its
 * confidences are squared-and-normalised activations rather than probabilities. Softmax regression trains in
 * seconds and gives probabilities that calibrate well.
 *
 * Two storages, chosen by size:
 * - dense (labels × features fits `denseCellLimit`): exact softmax over every label;
 * - candidates (thousands of labels): a TF-IDF centroid index proposes the `candidates` most likely labels and
 *   the softmax runs over those only. Each label keeps weights only for the features it met in training (as the
 *   answer or as a competitor), sorted, so training cost and memory grow with the data, not labels × features:
 *   that is what lets 3,000 sub-intents train in seconds and classify in microseconds.
 */
export interface LinearTrainOptions {
  epochs: number;
  /** Epochs in candidates mode: hard negatives make each epoch count more, and there are many more examples. */
  candidateEpochs: number;
  learningRate: number;
  /** L2 penalty per update (weight decay), keeps rare-feature weights from exploding. */
  l2: number;
  /** Use a dense label × feature matrix when it has at most this many cells. */
  denseCellLimit: number;
  /** Candidate labels per utterance when the label set is too large for a dense matrix. */
  candidates: number;
  seed: number;
  /** Per-example weights (e.g. to balance rare classes); default 1 each. */
  sampleWeights?: readonly number[];
  /** Give the event loop a turn at least this often (ms) while training. */
  yieldEveryMs: number;
  onEpoch?: (epoch: number, epochs: number) => void;
}

export const DEFAULT_LINEAR_OPTIONS: LinearTrainOptions = {
  epochs: 12,
  candidateEpochs: 8,
  learningRate: 3,
  l2: 1e-6,
  denseCellLimit: 8_000_000,
  candidates: 24,
  seed: 7,
  yieldEveryMs: 25,
};

/** Float32Array ↔ base64, so a model file holds millions of weights without a JSON number each. */
export function floatsToBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}
export function base64ToFloats(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
function intsToBase64(values: Int32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}
function base64ToInts(text: string): Int32Array {
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Int32Array(copy.buffer);
}

/** The centroid index that proposes candidate labels (candidates mode). */
interface CandidateIndex {
  /** Feature f's postings are entries offsets[f]..offsets[f+1]. */
  offsets: Int32Array;
  labels: Int32Array;
  weights: Float32Array;
  count: number;
}

export interface LinearClassifierJSON {
  numLabels: number;
  numFeatures: number;
  mode: 'dense' | 'candidates';
  weights: string;
  bias: string;
  /** Candidates mode: label l's weights are for features support[supportOffsets[l]..supportOffsets[l+1]]. */
  supportOffsets?: string;
  support?: string;
  index?: { offsets: string; labels: string; weights: string; count: number };
}

/** A small seeded random generator so training is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Label scores of one utterance: `labels` (all of them in dense mode) and their logits. */
export interface LabelScores {
  labels: Int32Array;
  logits: Float64Array;
}

/** Per label, the sorted features it has weights for (candidates mode). */
interface LabelSupport {
  offsets: Int32Array;
  features: Int32Array;
}

export class LinearClassifier {
  private constructor(
    readonly numLabels: number,
    readonly numFeatures: number,
    readonly mode: 'dense' | 'candidates',
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
    private readonly index: CandidateIndex | undefined,
    private readonly support: LabelSupport | undefined,
  ) {}

  /** Trains on vectors with label indices 0..numLabels-1. */
  static async train(
    vectors: readonly SparseVector[],
    labels: readonly number[],
    numLabels: number,
    numFeatures: number,
    options: Partial<LinearTrainOptions> = {},
  ): Promise<LinearClassifier> {
    const settings = { ...DEFAULT_LINEAR_OPTIONS, ...options };
    if (numLabels * numFeatures <= settings.denseCellLimit) {
      const model = new LinearClassifier(
        numLabels, numFeatures, 'dense', new Float32Array(numLabels * numFeatures), new Float32Array(numLabels), undefined, undefined,
      );
      await model.fit(vectors, labels, [], settings);
      return model;
    }
    const index = buildCandidateIndex(vectors, labels, numLabels, numFeatures, settings.candidates);
    // A proposer with the index only, to fix each example's competitors (its hard negatives) once.
    const proposer = new LinearClassifier(numLabels, numFeatures, 'candidates', new Float32Array(0), new Float32Array(numLabels), index, undefined);
    const candidateSets: Int32Array[] = [];
    for (let n = 0; n < vectors.length; n++) {
      candidateSets.push(proposer.proposeCandidates(vectors[n], labels[n]));
      if (n % 2000 === 1999) await yieldToEventLoop();
    }
    const support = buildLabelSupport(vectors, labels, numLabels);
    const model = new LinearClassifier(
      numLabels, numFeatures, 'candidates', new Float32Array(support.features.length), new Float32Array(numLabels), index, support,
    );
    await model.fit(vectors, labels, candidateSets, settings);
    return model;
  }

  static fromJSON(json: LinearClassifierJSON): LinearClassifier {
    const index = json.index
      ? { offsets: base64ToInts(json.index.offsets), labels: base64ToInts(json.index.labels), weights: base64ToFloats(json.index.weights), count: json.index.count }
      : undefined;
    const support = json.support && json.supportOffsets
      ? { offsets: base64ToInts(json.supportOffsets), features: base64ToInts(json.support) }
      : undefined;
    return new LinearClassifier(
      json.numLabels, json.numFeatures, json.mode, base64ToFloats(json.weights), base64ToFloats(json.bias), index, support,
    );
  }

  toJSON(): LinearClassifierJSON {
    const { index } = this;
    return {
      numLabels: this.numLabels,
      numFeatures: this.numFeatures,
      mode: this.mode,
      weights: floatsToBase64(this.weights),
      bias: floatsToBase64(this.bias),
      supportOffsets: this.support ? intsToBase64(this.support.offsets) : undefined,
      support: this.support ? intsToBase64(this.support.features) : undefined,
      index: index
        ? { offsets: intsToBase64(index.offsets), labels: intsToBase64(index.labels), weights: floatsToBase64(index.weights), count: index.count }
        : undefined,
    };
  }

  private allLabels: Int32Array | undefined;

  /** Logits of the labels worth scoring (every label in dense mode, the proposed candidates otherwise). */
  scores(vector: SparseVector): LabelScores {
    if (this.mode === 'dense') {
      this.allLabels ??= Int32Array.from({ length: this.numLabels }, (_, i) => i);
      const logits = new Float64Array(this.numLabels);
      this.denseLogits(vector, logits);
      return { labels: this.allLabels, logits };
    }
    const labels = this.proposeCandidates(vector);
    const logits = new Float64Array(labels.length);
    this.sparseLogits(vector, labels, logits);
    return { labels, logits };
  }

  private denseLogits(vector: SparseVector, out: Float64Array): void {
    out.set(this.bias);
    const k = this.numLabels;
    const { weights } = this;
    const { indices, values } = vector;
    for (let n = 0; n < indices.length; n++) {
      const base = indices[n] * k;
      const x = values[n];
      for (let c = 0; c < k; c++) out[c] += x * weights[base + c];
    }
  }

  /**
   * Where each of the vector's features sits in `label`'s support (-1: the label has no weight for it).
   * Both lists are sorted, so the search range only moves forward.
   */
  private locate(vector: SparseVector, label: number, positions: Int32Array): void {
    const { offsets, features } = this.support as LabelSupport;
    const { indices } = vector;
    let low = offsets[label];
    const end = offsets[label + 1];
    for (let n = 0; n < indices.length; n++) {
      const feature = indices[n];
      let high = end;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (features[middle] < feature) low = middle + 1;
        else high = middle;
      }
      positions[n] = low < end && features[low] === feature ? low : -1;
    }
  }

  private positionScratch = new Int32Array(64);

  private positionsFor(size: number): Int32Array {
    if (this.positionScratch.length < size) this.positionScratch = new Int32Array(size * 2);
    return this.positionScratch;
  }

  private sparseLogits(vector: SparseVector, labels: Int32Array, out: Float64Array): void {
    const { weights, bias } = this;
    const { values } = vector;
    const positions = this.positionsFor(values.length);
    for (let c = 0; c < labels.length; c++) {
      const label = labels[c];
      this.locate(vector, label, positions);
      let sum = bias[label];
      for (let n = 0; n < values.length; n++) if (positions[n] >= 0) sum += values[n] * weights[positions[n]];
      out[c] = sum;
    }
  }

  private proposalScratch: Float64Array | undefined;
  private touchedScratch: Int32Array | undefined;

  /** The labels whose centroids are nearest the utterance (by TF-IDF dot product). */
  private proposeCandidates(vector: SparseVector, mustInclude = -1): Int32Array {
    const index = this.index as CandidateIndex;
    const scratch = (this.proposalScratch ??= new Float64Array(this.numLabels));
    const touched = (this.touchedScratch ??= new Int32Array(this.numLabels));
    let touchedCount = 0;
    const { indices, values } = vector;
    const { offsets, labels: postingLabels, weights: postingWeights } = index;
    for (let n = 0; n < indices.length; n++) {
      const f = indices[n];
      const x = values[n];
      for (let e = offsets[f]; e < offsets[f + 1]; e++) {
        const label = postingLabels[e];
        if (scratch[label] === 0) touched[touchedCount++] = label;
        scratch[label] += x * postingWeights[e];
      }
    }
    const chosen = topByScore(touched, touchedCount, scratch, index.count);
    for (let t = 0; t < touchedCount; t++) scratch[touched[t]] = 0;
    if (mustInclude >= 0 && !chosen.includes(mustInclude)) chosen.push(mustInclude);
    // Nothing in common with any label (all words unknown): fall back to the most frequent labels.
    if (chosen.length === 0) {
      const byPrior = Array.from(this.bias.keys()).sort((a, b) => this.bias[b] - this.bias[a]);
      return Int32Array.from(byPrior.slice(0, index.count));
    }
    return Int32Array.from(chosen);
  }

  private async fit(
    vectors: readonly SparseVector[], labels: readonly number[], candidateSets: readonly Int32Array[], options: LinearTrainOptions,
  ): Promise<void> {
    const random = seededRandom(options.seed);
    const order = vectors.map((_, i) => i);
    const dense = this.mode === 'dense';
    const k = this.numLabels;
    const scores = new Float64Array(dense ? k : options.candidates + 1);
    const { weights, bias } = this;
    let step = 0;
    const epochs = dense ? options.epochs : options.candidateEpochs;
    const totalSteps = epochs * vectors.length;
    let lastYield = performance.now();
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, random);
      for (const n of order) {
        // Linearly decaying step size: large moves first, fine adjustment at the end.
        const rate = options.learningRate * (1 - step / totalSteps) + 1e-3;
        step++;
        const vector = vectors[n];
        const { indices, values } = vector;
        const candidates = dense ? undefined : candidateSets[n];
        const size = candidates ? candidates.length : k;
        if (candidates) this.sparseLogits(vector, candidates, scores);
        else this.denseLogits(vector, scores);
        let max = -Infinity;
        for (let c = 0; c < size; c++) if (scores[c] > max) max = scores[c];
        let sum = 0;
        for (let c = 0; c < size; c++) {
          scores[c] = Math.exp(scores[c] - max);
          sum += scores[c];
        }
        const decay = 1 - rate * options.l2;
        for (let c = 0; c < size; c++) {
          const label = candidates ? candidates[c] : c;
          const gradient = (scores[c] / sum - (label === labels[n] ? 1 : 0)) * (options.sampleWeights?.[n] ?? 1);
          // Skipping near-zero gradients keeps updates sparse with many labels.
          if (gradient < 1e-7 && gradient > -1e-7) continue;
          bias[label] -= rate * gradient;
          const step = rate * gradient;
          if (candidates) {
            const positions = this.positionsFor(indices.length);
            this.locate(vector, label, positions);
            for (let m = 0; m < indices.length; m++) {
              const w = positions[m];
              if (w >= 0) weights[w] = weights[w] * decay - step * values[m];
            }
          } else {
            for (let m = 0; m < indices.length; m++) {
              const w = indices[m] * k + label;
              weights[w] = weights[w] * decay - step * values[m];
            }
          }
        }
        if (performance.now() - lastYield > options.yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      options.onEpoch?.(epoch + 1, epochs);
    }
  }
}

/** The `count` labels with the highest scores, best first (a bounded insertion sort: count is small). */
function topByScore(labels: Int32Array, size: number, scores: Float64Array, count: number): number[] {
  const best: number[] = [];
  for (let t = 0; t < size; t++) {
    const label = labels[t];
    const score = scores[label];
    if (best.length === count && score <= scores[best[count - 1]]) continue;
    let at = best.length < count ? best.length : count - 1;
    while (at > 0 && scores[best[at - 1]] < score) {
      if (at < count) best[at] = best[at - 1];
      at--;
    }
    best[at] = label;
  }
  return best;
}

/**
 * Each label's features: those of its own examples. A label gets no weight for a feature it never used, which
 * keeps each label's list short (a few dozen features) and so scoring a candidate a handful of lookups.
 */
function buildLabelSupport(vectors: readonly SparseVector[], labels: readonly number[], numLabels: number): LabelSupport {
  const perLabel: Array<Set<number>> = Array.from({ length: numLabels }, () => new Set<number>());
  vectors.forEach((vector, n) => {
    const features = perLabel[labels[n]];
    for (const f of vector.indices) features.add(f);
  });
  const offsets = new Int32Array(numLabels + 1);
  for (let l = 0; l < numLabels; l++) offsets[l + 1] = offsets[l] + perLabel[l].size;
  const features = new Int32Array(offsets[numLabels]);
  perLabel.forEach((set, l) => features.set(Int32Array.from(set).sort(), offsets[l]));
  return { offsets, features };
}

/**
 * Label centroids (normalised sums of their examples' vectors) as postings per feature. Features shared by a
 * large share of labels ("我", "吗") are left out: they cannot tell labels apart and would make every lookup
 * touch every label.
 */
function buildCandidateIndex(
  vectors: readonly SparseVector[], labels: readonly number[], numLabels: number, numFeatures: number, count: number,
): CandidateIndex {
  const centroids: Array<Map<number, number>> = Array.from({ length: numLabels }, () => new Map());
  vectors.forEach((vector, n) => {
    const centroid = centroids[labels[n]];
    vector.indices.forEach((f, m) => centroid.set(f, (centroid.get(f) ?? 0) + vector.values[m]));
  });
  const postingCount = new Int32Array(numFeatures);
  for (const centroid of centroids) for (const f of centroid.keys()) postingCount[f]++;
  const maxPosting = Math.max(50, Math.floor(numLabels * 0.1));
  const offsets = new Int32Array(numFeatures + 1);
  for (let f = 0; f < numFeatures; f++) offsets[f + 1] = offsets[f] + (postingCount[f] <= maxPosting ? postingCount[f] : 0);
  const postingLabels = new Int32Array(offsets[numFeatures]);
  const postingWeights = new Float32Array(offsets[numFeatures]);
  const fill = offsets.slice(0, numFeatures);
  centroids.forEach((centroid, label) => {
    let norm = 0;
    for (const v of centroid.values()) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (const [f, v] of centroid) {
      if (postingCount[f] > maxPosting) continue;
      postingLabels[fill[f]] = label;
      postingWeights[fill[f]] = v / norm;
      fill[f]++;
    }
  });
  return { offsets, labels: postingLabels, weights: postingWeights, count };
}
