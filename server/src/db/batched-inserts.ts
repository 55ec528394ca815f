import { DUPLICATE_KEY_CODE } from './duplicate-key';
import { GroupCommit } from './group-commit';

/** What one insert came to: stored, or refused because a document with its `_id` (or unique key) exists. */
export type InsertOutcome = 'inserted' | 'duplicate';

/** What is needed of a mongoose model: its driver collection. */
export interface InsertTarget {
  collection: { insertMany(docs: never[], options: { ordered: boolean; ignoreUndefined: boolean }): Promise<unknown> };
}

interface Pending<T> {
  doc: T;
  resolve: (outcome: InsertOutcome) => void;
  reject: (err: unknown) => void;
}

/** Per-operation errors of an unordered insertMany or bulkWrite (the driver reports one error or a list). */
export function writeErrorsOf(err: unknown): Array<{ index: number; code?: number }> | undefined {
  const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
  if (writeErrors === undefined) return undefined;
  const list = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as Array<{ index?: unknown; code?: unknown; err?: { code?: unknown } }>;
  if (!list.every((e) => typeof e.index === 'number')) return undefined;
  return list.map((e) => ({ index: e.index as number, code: (e.code ?? e.err?.code) as number | undefined }));
}

/**
 * Group commit for inserts into one collection: while one `insertMany` is in flight, further documents wait and
 * go out together in the next one. Under load a burst of messages costs one write per collection and round
 * instead of one per document — on FerretDB/SQLite, with its single writer, that is the difference between
 * hundreds and tens of thousands of documents a second. Each caller still learns its own outcome: a duplicate
 * key refuses only that document (the insert-as-claim pattern keeps working), any other error fails only the
 * documents it names.
 *
 * Holds nothing but the queue of the moment: every document is in the database once its promise resolves.
 */
export class BatchedInserts<T extends { _id: string }> {
  private readonly queue: GroupCommit<Pending<T>>;

  constructor(
    /** A mongoose model (its driver collection is used), looked up late so models may register in any order. */
    private readonly model: () => InsertTarget,
    maxBatch = 1_000,
  ) {
    this.queue = new GroupCommit((batch) => this.write(batch), maxBatch);
  }

  insert(doc: T): Promise<InsertOutcome> {
    return new Promise<InsertOutcome>((resolve, reject) => this.queue.push({ doc, resolve, reject }));
  }

  private async write(batch: Array<Pending<T>>): Promise<void> {
    try {
      // The driver's collection, not Model.insertMany: documents are built complete by their owners, and
      // mongoose's per-document casting would cost more than the write itself at this rate. An `undefined` field
      // is left out, as mongoose would (the driver would store null), without copying the document first.
      await this.model().collection.insertMany(batch.map((p) => p.doc) as never[], { ordered: false, ignoreUndefined: true });
      for (const p of batch) p.resolve('inserted');
    } catch (err) {
      const failed = writeErrorsOf(err);
      if (!failed) {
        for (const p of batch) p.reject(err);
        return;
      }
      const byIndex = new Map(failed.map((e) => [e.index, e.code]));
      batch.forEach((p, index) => {
        if (!byIndex.has(index)) return p.resolve('inserted');
        if (byIndex.get(index) === DUPLICATE_KEY_CODE) return p.resolve('duplicate');
        p.reject(err);
      });
    }
  }
}
