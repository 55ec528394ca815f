import fs from 'node:fs';
import path from 'node:path';
import { contentHash, IntentClassifier, type IntentClassifierJSON, type IntentPrediction, type IntentTrainOptions, type LabelledText } from './intent-classifier';

/** How a holder gets a new model: injectable so tests can count training calls. */
export type IntentTrainer = (examples: readonly LabelledText[], options: Partial<IntentTrainOptions>) => Promise<IntentClassifier>;

export interface IntentModelHolderOptions {
  trainer?: IntentTrainer;
  train?: Partial<IntentTrainOptions>;
  /** Where the trained model is kept; without it models live in memory only. */
  modelFile?: string;
  onSwap?: (model: IntentClassifier) => void;
  onError?: (error: unknown) => void;
}

/**
 * Serves classify() from the current model while a new one trains in the background, then swaps it in with one
 * assignment: a request sees the old model or the new one, never a half-trained one. The server trains in a
 * worker thread (worker-trainer.ts); the default in-process trainer yields to the event loop between chunks.
 */
export class IntentModelHolder {
  private model: IntentClassifier | undefined;
  private pending: Promise<IntentClassifier> | undefined;
  private wantedHash: string | undefined;
  private readonly trainer: IntentTrainer;

  constructor(private readonly options: IntentModelHolderOptions = {}) {
    this.trainer = options.trainer ?? ((examples, trainOptions) => IntentClassifier.train(examples, trainOptions));
  }

  get current(): IntentClassifier | undefined {
    return this.model;
  }

  get training(): boolean {
    return this.pending !== undefined;
  }

  /** Top-k from the current model; empty until a first model exists. */
  classify(text: string, k = 5): IntentPrediction[] {
    return this.model ? this.model.classify(text, k) : [];
  }

  /** Puts a model in service at once. */
  swap(model: IntentClassifier): void {
    this.model = model;
    this.options.onSwap?.(model);
  }

  /**
   * Makes the served model match `examples`:
   * - the current model or the model file already has their hash → used as is, no training;
   * - otherwise the stored model (if any) serves while a new one trains in the background.
   * Resolves with whether training started; `whenTrained()` waits for it.
   */
  async ensure(examples: readonly LabelledText[]): Promise<{ trained: boolean; hash: string }> {
    const hash = contentHash(examples, this.options.train);
    if (this.model?.hash === hash) return { trained: false, hash };
    const stored = this.loadModelFile();
    if (stored) {
      if (!this.model || stored.hash === hash) this.swap(stored);
      if (stored.hash === hash) return { trained: false, hash };
    }
    // Already training exactly this content: do not start a second run.
    if (!(this.pending && this.wantedHash === hash)) void this.retrain(examples).catch(() => undefined);
    return { trained: true, hash };
  }

  /**
   * Trains a new model in the background and swaps it in when done (and saves it when a model file is set).
   * If another retrain is asked for meanwhile, the newest examples win: an outdated result is not swapped in.
   */
  retrain(examples: readonly LabelledText[]): Promise<IntentClassifier> {
    const hash = contentHash(examples, this.options.train);
    this.wantedHash = hash;
    const run = (async () => {
      // Let the caller return before the first training chunk runs.
      await new Promise((resolve) => setImmediate(resolve));
      const model = await this.trainer(examples, this.options.train ?? {});
      if (this.wantedHash === hash) {
        this.swap(model);
        this.saveModelFile(model);
      }
      return model;
    })();
    this.pending = run;
    run.then(
      () => { if (this.pending === run) this.pending = undefined; },
      (error: unknown) => {
        if (this.pending === run) this.pending = undefined;
        this.options.onError?.(error);
      },
    );
    return run;
  }

  /** Resolves when no training is running. */
  async whenTrained(): Promise<void> {
    while (this.pending) await this.pending.catch(() => undefined);
  }

  private loadModelFile(): IntentClassifier | undefined {
    const file = this.options.modelFile;
    if (!file || !fs.existsSync(file)) return undefined;
    try {
      return IntentClassifier.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')) as IntentClassifierJSON);
    } catch (error) {
      // An unreadable or outdated model file is retrained, not fatal.
      this.options.onError?.(error);
      return undefined;
    }
  }

  private saveModelFile(model: IntentClassifier): void {
    const file = this.options.modelFile;
    if (!file) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Write then rename: a reader never sees half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(model.toJSON()));
    fs.renameSync(temporary, file);
  }
}
