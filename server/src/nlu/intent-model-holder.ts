import fs from 'node:fs';
import path from 'node:path';
import { contentHash, IntentClassifier, type IntentClassifierJSON, type IntentPrediction, type IntentTrainOptions, type LabelledText } from './intent-classifier';

/** How a holder gets a new model: injectable so tests can count training calls. */
export type IntentTrainer = (examples: readonly LabelledText[], options: Partial<IntentTrainOptions>) => Promise<IntentClassifier>;

export interface IntentModelHolderOptions {
  trainer?: IntentTrainer;
  train?: Partial<IntentTrainOptions>;
  /**
   * Where trained models are kept, one file per content hash (several knowledge versions on one machine, e.g. a
   * server's and a benchmark's, do not replace each other's model); without it models live in memory only.
   */
  modelDir?: string;
  onSwap?: (model: IntentClassifier) => void;
  onError?: (error: unknown) => void;
}

/** Whether the served model was trained from the latest examples asked for (`ensure`/`retrain`). */
export type IntentModelState = 'current' | 'outdated' | 'missing';

/** Model files kept in `modelDir`: the newest few, so switching back to recent knowledge does not retrain. */
const KEPT_MODEL_FILES = 3;
const MODEL_FILE = /^intent-model-([0-9a-f]{64})\.json$/;

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

  get state(): IntentModelState {
    if (!this.model) return 'missing';
    return this.wantedHash === undefined || this.model.hash === this.wantedHash ? 'current' : 'outdated';
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
   * - the current model or a stored model has their hash → used as is, no training;
   * - otherwise the newest stored model (if no model serves yet) serves while a new one trains in the background.
   * Resolves with whether training started; `whenTrained()` waits for it.
   */
  async ensure(examples: readonly LabelledText[]): Promise<{ trained: boolean; hash: string }> {
    const hash = contentHash(examples, this.options.train);
    if (this.model?.hash === hash) {
      this.wantedHash = hash;
      return { trained: false, hash };
    }
    const stored = this.loadModelFile(hash) ?? (this.model ? undefined : this.loadModelFile());
    if (stored?.hash === hash) {
      this.wantedHash = hash;
      this.swap(stored);
      return { trained: false, hash };
    }
    if (stored) this.swap(stored);
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

  /** The stored model for `hash`, or without one the most recently stored model. */
  private loadModelFile(hash?: string): IntentClassifier | undefined {
    const dir = this.options.modelDir;
    if (!dir) return undefined;
    const file = hash ? path.join(dir, modelFileName(hash)) : storedModelFiles(dir)[0];
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
    const dir = this.options.modelDir;
    if (!dir) return;
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, modelFileName(model.hash));
    // Write then rename: a reader never sees half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(model.toJSON()));
    fs.renameSync(temporary, file);
    for (const old of storedModelFiles(dir).slice(KEPT_MODEL_FILES)) fs.rmSync(old, { force: true });
    fs.rmSync(path.join(dir, 'intent-model.json'), { force: true }); // the single file of earlier versions
  }
}

const modelFileName = (hash: string) => `intent-model-${hash}.json`;

/** The model files in `dir`, most recently written first. */
function storedModelFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((name) => MODEL_FILE.test(name))
    .map((name) => {
      const file = path.join(dir, name);
      try {
        return { file, written: fs.statSync(file).mtimeMs };
      } catch {
        return undefined; // removed meanwhile by another process
      }
    })
    .filter((entry) => entry !== undefined)
    .sort((a, b) => b.written - a.written)
    .map((entry) => entry.file);
}
