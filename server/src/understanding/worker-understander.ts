import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Understander } from '../conversation/pipeline';
import type { Understanding } from '../conversation/types';
import type { Logger } from '../logging/logger';
import type { UnderstandingReply, UnderstandingRequest, UnderstandingWorkerData } from './protocol';

/** Wait between attempts at starting a worker again. */
const RESPAWN_DELAY_MS = 5_000;

interface Pending {
  resolve: (understanding: Understanding) => void;
  reject: (err: Error) => void;
}

/**
 * Understanding (intents, retrieval, entities, emotion) in a worker thread: about a third of the serving thread's
 * work per message, which a second core can take while the serving thread does HTTP, crypto and the database. The
 * worker holds its own knowledge and models, derived from the database as the serving thread's are. A worker that
 * dies fails the requests it held and is started again; requests sent while it starts wait for it, and requests
 * while none can start fail at once (the pipeline's caller then gets an error, never a hang).
 */
export class WorkerUnderstander implements Understander {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  /** Whether `worker` is running or starting (false between a death and the next start). */
  private live = false;

  private constructor(private readonly data: UnderstandingWorkerData, private readonly logger: Logger) {}

  /** Starts the worker; resolves once its knowledge and models are loaded. */
  static async start(data: UnderstandingWorkerData, logger: Logger): Promise<WorkerUnderstander> {
    const understander = new WorkerUnderstander(data, logger);
    await understander.spawn();
    return understander;
  }

  understand(text: string, now: Date): Promise<Understanding> {
    if (this.stopping) return Promise.reject(new Error('understanding worker stopped'));
    if (!this.live) return Promise.reject(new Error('understanding worker is restarting'));
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
    this.live = true; // requests sent while it starts wait in its queue
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
        this.live = false;
        for (const waiting of this.pending.values()) waiting.reject(new Error(`understanding worker exited with code ${code}`));
        this.pending.clear();
        if (!started) return failed(new Error(`understanding worker exited with code ${code} while starting`));
        if (this.stopping) return;
        this.logger.warn({ code }, 'understanding worker exited: starting another');
        this.respawn();
      });
    });
  }

  /** Starts a worker again after one died, retrying while the new one cannot start (the database is down …). */
  private respawn(): void {
    this.spawn().catch((err: unknown) => {
      if (this.stopping) return;
      this.logger.error({ err }, `understanding worker did not start: trying again in ${RESPAWN_DELAY_MS} ms`);
      setTimeout(() => { if (!this.stopping) this.respawn(); }, RESPAWN_DELAY_MS).unref();
    });
  }
}
