import { createHash } from 'node:crypto';
import { DEFAULT_FEATURE_OPTIONS, FeatureSpace, type FeatureOptions, type FeatureSpaceJSON, type SparseVector } from './features';
import { LinearClassifier, seededRandom, shuffleInPlace, type LinearClassifierJSON, type LinearTrainOptions } from './linear-classifier';
import { NeuralStage, type NeuralStageOptions } from './neural-stage';
import type { NlpjsNeuralJSON } from 'node-nlp';

/**
 * The intent classifier: segment → features → node-nlp NeuralNetwork + softmax regression → calibrated pool.
 *
 * Stages and why:
 * 1. Features (features.ts): jieba words + character 1–3-grams with start/end marks, TF-IDF. Against node-nlp's
 *    own zh pipeline (which turns words into English glosses or pinyin) this is what moves accuracy.
 * 2. node-nlp's NeuralNetwork over those features. Its training cost is labels × examples × iterations, so it
 *    works on the finest label level that fits `neuralBudget` (all labels for a few hundred sub-intents; the
 *    scenario level of "scenario/intent/sub" ids for thousands), and is left out when nothing fits.
 * 3. Softmax regression (linear-classifier.ts) over the same features: scales to thousands of labels and gives
 *    probabilities.
 * 4. Pooling and calibration: confidence ∝ p_linear^a · p_neural^b, with a and b fitted on a held-out slice of
 *    the training data (minimum log-loss) before the final models are trained on all of it. The conversation
 *    layer thresholds on these numbers, so they have to mean "how often this is right".
 */
export interface LabelledText {
  text: string;
  label: string;
}

export interface IntentPrediction {
  label: string;
  confidence: number;
}

export interface IntentTrainOptions {
  features: FeatureOptions;
  linear: Partial<LinearTrainOptions>;
  neural: Partial<NeuralStageOptions>;
  /** Largest labels × examples the node-nlp stage trains on; 0 turns the stage off. */
  neuralBudget: number;
  /** Share of examples held out to fit the calibration; 0 keeps the defaults (a = 1, b = 0.5). */
  calibrationShare: number;
  seed: number;
  /** Progress of the whole training in abstract units (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_INTENT_OPTIONS: IntentTrainOptions = {
  features: DEFAULT_FEATURE_OPTIONS,
  linear: {},
  neural: {},
  neuralBudget: 1_500_000,
  calibrationShare: 0.1,
  seed: 11,
};

/** Bump when the model format or training changes, so stored models retrain. */
export const INTENT_MODEL_VERSION = 1;

/**
 * Fingerprint of a training set (order does not matter) and the options that shape the model: a stored model
 * with the same hash needs no retraining.
 */
export function contentHash(examples: readonly LabelledText[], options: Partial<Omit<IntentTrainOptions, 'onProgress'>> = {}): string {
  const hash = createHash('sha256');
  hash.update(`v${INTENT_MODEL_VERSION}\n`);
  const { features, linear, neural, neuralBudget, calibrationShare, seed } = { ...DEFAULT_INTENT_OPTIONS, ...options };
  hash.update(JSON.stringify({ features, linear: { ...linear, onEpoch: undefined }, neural: { ...neural, onIteration: undefined }, neuralBudget, calibrationShare, seed }));
  for (const line of canonicalOrder(examples).map((e) => `${e.label}\t${e.text}`)) hash.update(`${line}\n`);
  return hash.digest('hex');
}

/** Training depends on order (shuffles are seeded); sorting makes a hash-equal set train the same model. */
function canonicalOrder(examples: readonly LabelledText[]): LabelledText[] {
  return [...examples].sort((a, b) => (a.label === b.label ? (a.text < b.text ? -1 : a.text > b.text ? 1 : 0) : a.label < b.label ? -1 : 1));
}

export interface IntentClassifierJSON {
  version: number;
  hash: string;
  labels: string[];
  features: FeatureSpaceJSON;
  linear: LinearClassifierJSON;
  neural?: { groups: string[]; groupOfLabel: number[]; network: NlpjsNeuralJSON };
  pool: { linearWeight: number; neuralWeight: number };
}

/** The label level the node-nlp stage trains on: each label's group (itself, or an id prefix). */
interface NeuralLevel {
  groups: string[];
  groupOfLabel: Int32Array;
}

/** The finest label level (full id, then shorter "a/b/c" prefixes) whose groups × examples fit the budget. */
export function chooseNeuralLevel(labels: readonly string[], examples: number, budget: number): NeuralLevel | undefined {
  const depth = Math.min(...labels.map((l) => l.split('/').length));
  for (let keep = Infinity; ; keep = keep === Infinity ? depth - 1 : keep - 1) {
    if (keep < 1) return undefined;
    const groupOf = labels.map((l) => (keep === Infinity ? l : l.split('/').slice(0, keep).join('/')));
    const groups = [...new Set(groupOf)].sort();
    if (groups.length < 2) return undefined;
    if (groups.length * examples <= budget) {
      const index = new Map(groups.map((g, i) => [g, i]));
      return { groups, groupOfLabel: Int32Array.from(groupOf, (g) => index.get(g) as number) };
    }
    if (keep === 1) return undefined;
  }
}

const LINEAR_FLOOR = 1e-9;
const NEURAL_FLOOR = 1e-4;

/** The stages' probabilities for one utterance, before pooling. */
interface StageOutputs {
  labels: Int32Array;
  linear: Float64Array;
  neural: Float64Array | undefined;
}

interface TrainedStages {
  space: FeatureSpace;
  linear: LinearClassifier;
  neural: NeuralStage | undefined;
}

export class IntentClassifier {
  private constructor(
    readonly hash: string,
    readonly labels: readonly string[],
    private readonly space: FeatureSpace,
    private readonly linear: LinearClassifier,
    private readonly neural: NeuralStage | undefined,
    private readonly level: NeuralLevel | undefined,
    private readonly pool: { linearWeight: number; neuralWeight: number },
  ) {}

  /** Trains a classifier on any labelled texts (at least two labels). */
  static async train(examples: readonly LabelledText[], options: Partial<IntentTrainOptions> = {}): Promise<IntentClassifier> {
    const settings: IntentTrainOptions = { ...DEFAULT_INTENT_OPTIONS, ...options };
    const data = canonicalOrder(examples.filter((e) => e.text.trim() && e.label));
    const labels = [...new Set(data.map((e) => e.label))].sort();
    if (labels.length < 2) throw new Error(`intent training needs at least two labels, got ${labels.length}`);
    const labelIndex = new Map(labels.map((l, i) => [l, i]));
    const level = settings.neuralBudget > 0 ? chooseNeuralLevel(labels, data.length, settings.neuralBudget) : undefined;

    // Progress units: each pass (calibration, final) = linear epochs + neural iterations.
    const linearEpochs = settings.linear.epochs ?? 12;
    const neuralIterations = settings.neural.iterations ?? neuralIterationsFor(data.length);
    const passUnits = linearEpochs + (level ? neuralIterations : 0);
    const calibrate = settings.calibrationShare > 0 && data.length >= 20;
    const total = passUnits * (calibrate ? 2 : 1);
    let done = 0;
    const tick = () => settings.onProgress?.(++done, total);
    settings.onProgress?.(0, total);

    let pool = { linearWeight: 1, neuralWeight: level ? 0.5 : 0 };
    if (calibrate) {
      const { fit, heldOut } = holdOut(data, settings.calibrationShare, settings.seed);
      const stages = await trainStages(fit, labelIndex, labels.length, level, settings, neuralIterations, tick);
      const outputs = heldOut.map((e) => stageOutputs(stages, level, e.text));
      pool = fitPool(outputs, heldOut.map((e) => labelIndex.get(e.label) as number), Boolean(level));
    }
    const stages = await trainStages(data, labelIndex, labels.length, level, settings, neuralIterations, tick);
    const { onProgress: _ignored, ...hashOptions } = settings;
    return new IntentClassifier(contentHash(examples, hashOptions), labels, stages.space, stages.linear, stages.neural, level, pool);
  }

  static fromJSON(json: IntentClassifierJSON): IntentClassifier {
    if (json.version !== INTENT_MODEL_VERSION) throw new Error(`intent model version ${json.version}, expected ${INTENT_MODEL_VERSION}`);
    const level = json.neural ? { groups: json.neural.groups, groupOfLabel: Int32Array.from(json.neural.groupOfLabel) } : undefined;
    return new IntentClassifier(
      json.hash, json.labels, FeatureSpace.fromJSON(json.features), LinearClassifier.fromJSON(json.linear),
      json.neural ? NeuralStage.fromJSON(json.neural.network) : undefined, level, json.pool,
    );
  }

  toJSON(): IntentClassifierJSON {
    return {
      version: INTENT_MODEL_VERSION,
      hash: this.hash,
      labels: [...this.labels],
      features: this.space.toJSON(),
      linear: this.linear.toJSON(),
      neural: this.neural && this.level
        ? { groups: this.level.groups, groupOfLabel: Array.from(this.level.groupOfLabel), network: this.neural.toJSON() }
        : undefined,
      pool: this.pool,
    };
  }

  /** What the stages look like, for reports. */
  describe(): { labels: number; features: number; linearMode: string; neuralGroups: number; pool: { linearWeight: number; neuralWeight: number } } {
    return {
      labels: this.labels.length, features: this.space.size, linearMode: this.linear.mode,
      neuralGroups: this.level?.groups.length ?? 0, pool: this.pool,
    };
  }

  /** The k most likely labels, best first, with calibrated confidences in [0, 1]. */
  classify(text: string, k = 5): IntentPrediction[] {
    // A neural stage the pool gives no weight adds nothing: skip it (it costs more than everything else).
    const neural = this.pool.neuralWeight ? this.neural : undefined;
    const outputs = stageOutputs({ space: this.space, linear: this.linear, neural }, this.level, text);
    const confidences = pooled(outputs, this.pool);
    const order = Array.from(confidences.keys()).sort((a, b) => confidences[b] - confidences[a]).slice(0, k);
    return order.map((i) => ({ label: this.labels[outputs.labels[i]], confidence: confidences[i] }));
  }
}

/** node-nlp's perceptrons need more passes over small training sets than over large ones. */
function neuralIterationsFor(examples: number): number {
  return Math.min(150, Math.max(30, Math.ceil(250_000 / Math.max(1, examples))));
}

async function trainStages(
  data: readonly LabelledText[], labelIndex: Map<string, number>, numLabels: number, level: NeuralLevel | undefined,
  settings: IntentTrainOptions, neuralIterations: number, tick: () => void,
): Promise<TrainedStages> {
  const space = FeatureSpace.fit(data.map((e) => e.text), settings.features);
  const vectors: SparseVector[] = data.map((e) => space.vectorize(e.text));
  const targets = data.map((e) => labelIndex.get(e.label) as number);
  const linear = await LinearClassifier.train(vectors, targets, numLabels, space.size, { ...settings.linear, seed: settings.seed, onEpoch: tick });
  const neural = level
    ? await NeuralStage.train(vectors, targets.map((t) => level.groupOfLabel[t]), level.groups.length, space.size, {
      iterations: neuralIterations, ...settings.neural, onIteration: tick,
    })
    : undefined;
  // node-nlp stops early when its error settles: count the iterations it skipped as done.
  if (neural) for (let i = neural.iterationsRun; i < neuralIterations; i++) tick();
  return { space, linear, neural };
}

function stageOutputs(stages: TrainedStages, level: NeuralLevel | undefined, text: string): StageOutputs {
  const vector = stages.space.vectorize(text);
  const { labels, logits } = stages.linear.scores(vector);
  const linear = softmax(logits);
  if (!stages.neural || !level) return { labels, linear, neural: undefined };
  const groupProbabilities = stages.neural.probabilities(vector);
  const neural = Float64Array.from(labels, (l) => groupProbabilities[level.groupOfLabel[l]]);
  return { labels, linear, neural };
}

function softmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Log-linear pool of the stages: softmax(a · log p_linear + b · log p_neural). */
function pooled(outputs: StageOutputs, pool: { linearWeight: number; neuralWeight: number }): Float64Array {
  const logits = new Float64Array(outputs.labels.length);
  for (let i = 0; i < logits.length; i++) {
    logits[i] = pool.linearWeight * Math.log(outputs.linear[i] + LINEAR_FLOOR);
    if (outputs.neural && pool.neuralWeight) logits[i] += pool.neuralWeight * Math.log(outputs.neural[i] + NEURAL_FLOOR);
  }
  return softmax(logits);
}

/** Minimum log-loss pool weights on held-out outputs (a small grid: two parameters, a few hundred rows). */
function fitPool(outputs: StageOutputs[], truth: number[], hasNeural: boolean): { linearWeight: number; neuralWeight: number } {
  const linearGrid = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.2, 1.4, 1.7, 2, 2.5, 3];
  const neuralGrid = hasNeural ? [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5] : [0];
  let best = { linearWeight: 1, neuralWeight: 0 };
  let bestLoss = Infinity;
  for (const linearWeight of linearGrid) {
    for (const neuralWeight of neuralGrid) {
      let loss = 0;
      outputs.forEach((output, n) => {
        const p = pooled(output, { linearWeight, neuralWeight });
        const at = output.labels.indexOf(truth[n]);
        loss -= Math.log((at >= 0 ? p[at] : 0) + 1e-6);
      });
      if (loss < bestLoss) {
        bestLoss = loss;
        best = { linearWeight, neuralWeight };
      }
    }
  }
  return best;
}

/** A stratified slice for calibration: labels with fewer than 3 examples stay whole in the fitting part. */
function holdOut(data: readonly LabelledText[], share: number, seed: number): { fit: LabelledText[]; heldOut: LabelledText[] } {
  const random = seededRandom(seed);
  const byLabel = new Map<string, LabelledText[]>();
  for (const e of data) {
    const group = byLabel.get(e.label);
    if (group) group.push(e);
    else byLabel.set(e.label, [e]);
  }
  const fit: LabelledText[] = [];
  const heldOut: LabelledText[] = [];
  for (const group of byLabel.values()) {
    shuffleInPlace(group, random);
    const take = group.length >= 3 ? Math.max(1, Math.round(group.length * share)) : 0;
    heldOut.push(...group.slice(0, take));
    fit.push(...group.slice(take));
  }
  return { fit, heldOut };
}
