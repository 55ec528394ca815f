import { parentPort, workerData } from 'node:worker_threads';
import { IntentClassifier, type IntentTrainOptions, type LabelledText } from './intent-classifier';

/** Runs in a worker thread (see worker-trainer.ts): trains one intent model and posts it back as JSON. */
const { examples, options } = workerData as { examples: LabelledText[]; options: Partial<IntentTrainOptions> };
IntentClassifier.train(examples, options).then(
  (model) => parentPort!.postMessage(model.toJSON()),
  (err: unknown) => { throw err; }, // surfaces as the worker's 'error' event
);
