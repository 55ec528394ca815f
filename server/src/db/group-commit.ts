/**
 * Group commit: `write` runs over everything queued while the previous write was in flight, so under load a
 * burst costs one write per round instead of one per item. `write` settles each item itself (it must not throw).
 */
export class GroupCommit<T> {
  private queued: T[] = [];
  private writing = false;

  constructor(private readonly write: (batch: T[]) => Promise<void>, private readonly maxBatch = Number.POSITIVE_INFINITY) {}

  push(item: T): void {
    this.queued.push(item);
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queued.length) await this.write(this.queued.splice(0, this.maxBatch));
    } finally {
      this.writing = false;
    }
  }
}
