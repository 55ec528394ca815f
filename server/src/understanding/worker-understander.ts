import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Understander } from '../conversation/pipeline';
import type { Understanding } from '../conversation/types';
import type { KnowledgeBase } from '../knowledge/service';
import type { IntentModelState } from '../nlu/intent-model-holder';
import type { Logger } from '../logging/logger';
import { startTypeScriptWorker } from '../util/typescript-worker';
import type { UnderstandingReply, UnderstandingRequest } from './protocol';

/** Wait between attempts at starting a worker again. */
const RESPAWN_DELAY_MS = 5_000;

interface Pending {
  resolve: (understanding: Understanding) => void;
  reject: (err: Error) => void;
}

/** What the worker needs besides the knowledge. */
export interface UnderstandingWorkerSettings {
  modelDir: string;
  logLevel: string;
}

/**
 * Understanding (intents, retrieval, entities, emotion) in a worker thread: about a third of the serving thread's
 * work per message, which a second core can take while the serving thread does HTTP, crypto and the database. The
 * worker gets the serving thread's knowledge (sub-intents and generic answers) at start and after every reload, and
 * trains or loads its models from it. A worker that dies fails the requests it held and is started again; requests
 * sent while it starts wait for it, and requests while none can start fail at once (an error, never a hang).
 */
export class WorkerUnderstander implements Understander {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  /** Whether `worker` is running or starting (false between a death and the next start). */
  private live = false;
  /** As the worker last reported it. */
  intentModel: IntentModelState = 'missing';

  private constructor(
    private readonly knowledge: KnowledgeBase,
    private readonly settings: UnderstandingWorkerSettings,
    private readonly logger: Logger,
  ) {}

  /** Starts the worker over `knowledge` (and its later reloads); resolves once its models are loaded. */
  static async start(knowledge: KnowledgeBase, settings: UnderstandingWorkerSettings, logger: Logger): Promise<WorkerUnderstander> {
    const understander = new WorkerUnderstander(knowledge, settings, logger);
    knowledge.onReload(() => {
      if (understander.live) understander.worker.postMessage({ type: 'knowledge', snapshot: knowledge.snapshot() } satisfies UnderstandingRequest);
    });
    await understander.spawn();
    return understander;
  }

  understand(text: string, now: Date): Promise<Understanding> {
    if (this.stopping) return Promise.reject(new Error('understanding worker stopped'));
    if (!this.live) return Promise.reject(new Error('understanding worker is restarting'));
    const id = this.nextId++;
    return new Promise<Understanding>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'understand', id, text, now: now.getTime() } satisfies UnderstandingRequest);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }

  private spawn(): Promise<void> {
    const workerData = { ...this.settings, knowledge: this.knowledge.snapshot() };
    const worker = startTypeScriptWorker(path.join(__dirname, 'worker.ts'), workerData);
    this.worker = worker;
    this.live = true; // requests sent while it starts wait in its queue
    return new Promise<void>((ready, failed) => {
      let started = false;
      worker.on('message', (reply: UnderstandingReply) => {
        if ('ready' in reply) {
          started = true;
          return ready();
        }
        if ('intentModel' in reply) {
          this.intentModel = reply.intentModel;
          return;
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
        this.intentModel = 'missing';
        for (const waiting of this.pending.values()) waiting.reject(new Error(`understanding worker exited with code ${code}`));
        this.pending.clear();
        if (!started) return failed(new Error(`understanding worker exited with code ${code} while starting`));
        if (this.stopping) return;
        this.logger.warn({ code }, 'understanding worker exited: starting another');
        this.respawn();
      });
    });
  }

  /** Starts a worker again after one died, retrying while the new one cannot start. */
  private respawn(): void {
    this.spawn().catch((err: unknown) => {
      if (this.stopping) return;
      this.logger.error({ err }, `understanding worker did not start: trying again in ${RESPAWN_DELAY_MS} ms`);
      setTimeout(() => { if (!this.stopping) this.respawn(); }, RESPAWN_DELAY_MS).unref();
    });
  }
}
