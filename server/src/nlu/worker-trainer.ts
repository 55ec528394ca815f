import path from 'node:path';
import { startTypeScriptWorker } from '../util/typescript-worker';
import { IntentClassifier, type IntentClassifierJSON } from './intent-classifier';
import type { IntentTrainer } from './intent-model-holder';

/**
 * Trains the intent model in a worker thread. Training in the serving thread, even in slices, held every request
 * for a slice at a time (about 27 ms per database round trip while a model trained); in a worker, serving goes on
 * at full speed and only the finished model crosses over (as the same JSON the model file holds).
 */
export const trainInWorker: IntentTrainer = (examples, options) =>
  new Promise<IntentClassifier>((resolve, reject) => {
    const { onProgress: _notCloneable, ...cloneable } = options;
    const worker = startTypeScriptWorker(path.join(__dirname, 'training-worker.ts'), { examples, options: cloneable });
    worker.once('message', (json: IntentClassifierJSON) => {
      try {
        resolve(IntentClassifier.fromJSON(json));
      } catch (err) {
        reject(err);
      }
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`intent training worker exited with code ${code}`)); });
  });
