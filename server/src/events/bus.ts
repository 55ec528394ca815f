import { EventEmitter } from 'node:events';
import type { DomainEvents } from './types';

type Listener<K extends keyof DomainEvents> = (payload: DomainEvents[K]) => void | Promise<void>;

/**
 * In-process domain events (Chatwoot-style: qa, analytics and agents react; the pipeline does not call them).
 * Listeners run after the publisher's write succeeded; a failing listener is reported, never thrown back.
 * Scaling out: every instance handles its own events, and listeners write to the shared database.
 * Swap this for a broker when cross-instance fan-out is needed.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private pending = new Set<Promise<void>>();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof DomainEvents>(event: K, listener: Listener<K>): void {
    this.emitter.on(event, (payload: DomainEvents[K]) => {
      const run = Promise.resolve()
        .then(() => listener(payload))
        .catch((err: unknown) => this.onListenerError(event, err))
        .finally(() => this.pending.delete(run));
      this.pending.add(run);
    });
  }

  publish<K extends keyof DomainEvents>(event: K, payload: DomainEvents[K]): void {
    this.emitter.emit(event, payload);
  }

  /** Resolves when every listener started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}
