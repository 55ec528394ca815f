/**
 * Group commit: `write` runs over everything queued while the previous write was in flight, so under load a
 * burst costs one write per round instead of one per item. `write` settles each item itself (it must not throw).
 * With `lingerMs`, each round first waits that long for more items: fewer, larger writes for data that may arrive
 * a little late (metric counts), never for a message's own writes.
 */
export class GroupCommit<T> {
  private queued: T[] = [];
  private writing = false;
  private drained: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly maxBatch = Number.POSITIVE_INFINITY,
    private readonly lingerMs = 0,
  ) {}

  push(item: T): void {
    this.queued.push(item);
    if (!this.writing) this.drained = this.drain();
  }

  /** Resolves once everything pushed so far is written (shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.drained;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queued.length) {
        if (this.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
        await this.write(this.queued.splice(0, this.maxBatch));
      }
    } finally {
      this.writing = false;
    }
  }
}
