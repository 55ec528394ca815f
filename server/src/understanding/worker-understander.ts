import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Understander } from '../conversation/pipeline';
import type { Understanding } from '../conversation/types';
import type { Logger } from '../logging/logger';
import type { UnderstandingReply, UnderstandingRequest, UnderstandingWorkerData } from './protocol';

interface Pending {
  resolve: (understanding: Understanding) => void;
  reject: (err: Error) => void;
}

/**
 * Understanding (intents, retrieval, entities, emotion) in a worker thread: about a third of the serving thread's
 * work per message, which a second core can take while the serving thread does HTTP, crypto and the database. The
 * worker holds its own knowledge and models, derived from the database as the serving thread's are. A worker that
 * dies fails the requests it held and is started again; requests sent meanwhile wait for the new one.
 */
export class WorkerUnderstander implements Understander {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;

  private constructor(private readonly data: UnderstandingWorkerData, private readonly logger: Logger) {}

  /** Starts the worker; resolves once its knowledge and models are loaded. */
  static async start(data: UnderstandingWorkerData, logger: Logger): Promise<WorkerUnderstander> {
    const understander = new WorkerUnderstander(data, logger);
    await understander.spawn();
    return understander;
  }

  understand(text: string, now: Date): Promise<Understanding> {
    const id = this.nextId++;
    return new Promise<Understanding>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, text, now: now.getTime() } satisfies UnderstandingRequest);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }

  private spawn(): Promise<void> {
    const worker = new Worker(path.join(__dirname, 'worker.cjs'), { workerData: this.data });
    this.worker = worker;
    return new Promise<void>((ready, failed) => {
      let started = false;
      worker.on('message', (reply: UnderstandingReply) => {
        if ('ready' in reply) {
          started = true;
          return ready();
        }
        const waiting = this.pending.get(reply.id);
        if (!waiting) return;
        this.pending.delete(reply.id);
        if ('error' in reply) waiting.reject(new Error(`understanding failed: ${reply.error}`));
        else waiting.resolve(reply.understanding);
      });
      worker.on('error', (err) => {
        if (!started) failed(err);
        else this.logger.error({ err }, 'understanding worker failed');
      });
      worker.on('exit', (code) => {
        if (!started) return failed(new Error(`understanding worker exited with code ${code} while starting`));
        for (const waiting of this.pending.values()) waiting.reject(new Error(`understanding worker exited with code ${code}`));
        this.pending.clear();
        if (this.stopping) return;
        this.logger.warn({ code }, 'understanding worker exited: starting another');
        this.spawn().catch((err: unknown) => this.logger.error({ err }, 'understanding worker did not start again'));
      });
    });
  }
}
