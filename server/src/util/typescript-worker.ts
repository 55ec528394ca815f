import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** A worker thread running a TypeScript module (an absolute path), through the one bootstrap that loads tsx. */
export function startTypeScriptWorker(modulePath: string, workerData: unknown): Worker {
  return new Worker(path.join(__dirname, 'typescript-worker-bootstrap.cjs'), { argv: [modulePath], workerData });
}
