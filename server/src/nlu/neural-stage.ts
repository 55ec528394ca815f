import { NeuralNetwork, type NlpjsNeuralJSON, type NlpjsNeuralSettings } from 'node-nlp';
import type { SparseVector } from './features';

/**
 * node-nlp's intent classifier (its NeuralNetwork: one leaky-ReLU perceptron per label, momentum SGD with a
 * decaying rate) fed with our features instead of node-nlp's own zh tokens and stems.
 *
 * The model, its settings, its update rule and its JSON format are node-nlp's. Two things differ, both for
 * serving: the training loop runs over typed arrays (node-nlp's loop indexes plain objects, 8× slower), and it
 * is async, yielding to the event loop so a server keeps answering while a new model trains.
 */
export interface NeuralStageOptions extends NlpjsNeuralSettings {
  /** Give the event loop a turn at least this often (ms) while training. */
  yieldEveryMs: number;
  onIteration?: (iteration: number, iterations: number) => void;
}

export const DEFAULT_NEURAL_OPTIONS: NeuralStageOptions = {
  iterations: 150,
  learningRate: 0.6,
  momentum: 0.5,
  alpha: 0.07,
  errorThresh: 0.00005,
  deltaErrorThresh: 0.000001,
  yieldEveryMs: 25,
};

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class NeuralStage {
  private constructor(private readonly network: NeuralNetwork) {}

  get numLabels(): number {
    return this.network.numPerceptrons;
  }

  /** Iterations the last training ran (node-nlp stops early once its error settles). */
  get iterationsRun(): number {
    return this.network.status?.iterations ?? 0;
  }

  /** Trains on vectors whose feature indices are 0..numFeatures-1 and labels 0..numLabels-1. */
  static async train(
    vectors: readonly SparseVector[],
    labels: readonly number[],
    numLabels: number,
    numFeatures: number,
    options: Partial<NeuralStageOptions> = {},
  ): Promise<NeuralStage> {
    const settings = { ...DEFAULT_NEURAL_OPTIONS, ...options };
    const { yieldEveryMs, onIteration, ...networkSettings } = settings;
    const network = new NeuralNetwork({ ...networkSettings, log: false });
    // node-nlp's own lookup tables, built through its API: feature i is named "i", label j is named "j".
    const allFeatures: Record<string, number> = {};
    for (let f = 0; f < numFeatures; f++) allFeatures[f] = 1;
    network.prepareCorpus(Array.from({ length: numLabels }, (_, j) => ({ input: j === 0 ? allFeatures : {}, output: { [j]: 1 } })));
    network.verifyIsInitialized();

    const { alpha, momentum, learningRate, iterations, errorThresh, deltaErrorThresh } = network.settings;
    const perceptrons = network.perceptrons;
    let error = Infinity;
    let deltaError = Infinity;
    let iteration = 0;
    let lastYield = performance.now();
    while (iteration < iterations && error > errorThresh && deltaError > deltaErrorThresh) {
      iteration++;
      const rate = learningRate / (1 + 0.001 * iteration);
      const lastError = error;
      error = 0;
      for (let p = 0; p < numLabels; p++) {
        const { weights, changes } = perceptrons[p];
        let bias = perceptrons[p].bias;
        for (let n = 0; n < vectors.length; n++) {
          const { indices, values } = vectors[n];
          let sum = bias;
          for (let m = 0; m < indices.length; m++) sum += values[m] * weights[indices[m]];
          const actual = sum <= 0 ? 0 : alpha * sum;
          const currentError = (labels[n] === p ? 1 : 0) - actual;
          if (currentError) {
            error += currentError * currentError;
            const delta = (actual > 0 ? 1 : alpha) * currentError * rate;
            for (let m = 0; m < indices.length; m++) {
              const f = indices[m];
              const change = delta * values[m] + momentum * changes[f];
              changes[f] = change;
              weights[f] += change;
            }
            bias += delta;
          }
        }
        perceptrons[p].bias = bias;
        if (performance.now() - lastYield > yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      error /= numLabels * vectors.length;
      deltaError = Math.abs(error - lastError);
      onIteration?.(iteration, iterations);
    }
    network.status = { error, deltaError, iterations: iteration };
    return new NeuralStage(network);
  }

  static fromJSON(json: NlpjsNeuralJSON): NeuralStage {
    const network = new NeuralNetwork();
    network.fromJSON(json);
    return new NeuralStage(network);
  }

  toJSON(): NlpjsNeuralJSON {
    return this.network.toJSON();
  }

  /**
   * Each label's probability: node-nlp's activations, normalised the way node-nlp does it (squared, then
   * divided by their sum) so this stage scores exactly as node-nlp would.
   */
  probabilities(vector: SparseVector, out: Float64Array = new Float64Array(this.numLabels)): Float64Array {
    const { alpha } = this.network.settings;
    const { indices, values } = vector;
    let total = 0;
    const perceptrons = this.network.perceptrons;
    for (let p = 0; p < perceptrons.length; p++) {
      const { weights } = perceptrons[p];
      let sum = perceptrons[p].bias;
      for (let m = 0; m < indices.length; m++) sum += values[m] * weights[indices[m]];
      const activation = sum <= 0 ? 0 : alpha * sum;
      out[p] = activation * activation;
      total += out[p];
    }
    if (total > 0) for (let p = 0; p < out.length; p++) out[p] /= total;
    else out.fill(1 / out.length);
    return out;
  }
}
