import mongoose, { Schema } from 'mongoose';
import { writeErrorsOf } from '../db/batched-inserts';
import { bulkWriteUnordered } from '../db/bulk-write';
import { GroupCommit } from '../db/group-commit';
import { writtenOnEveryMessage } from '../db/write-partitions';

/**
 * Pre-aggregated counts (the bucket pattern): one document per metric, key and time bucket, `_id` =
 * `${metric}:${key}:${bucketStart ISO}`, bumped with `$inc` upserts. Reading a day of a metric is reading its
 * buckets, never the messages. Two resolutions: 5-minute buckets for "now" (kept a few days) and hourly buckets
 * for baselines and forecasts (kept for weeks); purged by an explicit job (no TTL indexes, see the portability spec).
 */

export const METRICS = [
  'messages', // every user message (key: 'all')
  'sessions', // a user writing after 30 min of silence, or for the first time (key: 'all')
  'bot_questions', // messages the bot had to decide on (answer, clarify, fallback, ask slot, hand off)
  'bot_answered', // ... of which it answered
  'unanswered', // fallback or clarify (key: 'all')
  'handoffs', // conversations handed to a human (key: 'all')
  'handoff_reason', // key: the reason
  'emotion', // key: the emotion label of a user message
  'scenario', // key: scenario id of the understood question
  'intent', // key: intent id
  'unanswered_cluster', // key: knowledge candidate id (learning/)
] as const;
export type MetricName = (typeof METRICS)[number];

export const FIVE_MINUTES_MS = 5 * 60_000;
export const HOUR_MS = 3_600_000;

export interface BucketRecord {
  _id: string;
  metric: MetricName;
  key: string;
  start: Date;
  count: number;
}

function bucketSchema() {
  const schema = new Schema<BucketRecord>({
    _id: { type: String, required: true },
    metric: { type: String, enum: METRICS, required: true },
    key: { type: String, required: true },
    start: { type: Date, required: true },
    count: { type: Number, default: 0 },
  });
  schema.index({ metric: 1, start: 1 });
  schema.index({ start: 1 });
  return schema;
}

export const FiveMinuteBucket = writtenOnEveryMessage(mongoose.model<BucketRecord>('MetricBucket5m', bucketSchema()), 'metrics');
export const HourBucket = writtenOnEveryMessage(mongoose.model<BucketRecord>('MetricBucket1h', bucketSchema()), 'metrics');

export const bucketStart = (at: Date, sizeMs: number) => new Date(Math.floor(at.getTime() / sizeMs) * sizeMs);
export const bucketId = (metric: MetricName, key: string, start: Date) => `${metric}:${key}:${start.toISOString()}`;

export interface Increment {
  metric: MetricName;
  key: string;
  at: Date;
  by?: number;
}

export interface SeriesQuery {
  metric: MetricName;
  key?: string;
  from: Date;
  to: Date;
}

type UpsertOperation = { updateOne: { filter: { _id: string }; update: Record<string, unknown>; upsert: true } };

/**
 * Two instances (or two listeners) creating the same new bucket at once: one upsert wins, the other fails on the
 * `_id` (MongoDB: E11000; FerretDB may report another code). Only the refused operations are retried, once: the
 * bucket exists by then, so the retry is a plain `$inc` and nothing is counted twice.
 */
async function bulkUpsert(model: typeof FiveMinuteBucket, operations: UpsertOperation[]): Promise<void> {
  try {
    await bulkWriteUnordered(model, operations);
  } catch (err) {
    const failed = writeErrorsOf(err)?.map((e) => e.index);
    if (!failed?.length) throw err;
    await bulkWriteUnordered(model, failed.map((i) => operations[i]));
  }
}

export class BucketStore {
  private readonly queue: GroupCommit<{ increments: readonly Increment[]; resolve: () => void; reject: (err: unknown) => void }>;

  /** `lingerMs`: how long increments wait for others before a write (see GroupCommit); 0 writes at once. */
  constructor(options: { lingerMs?: number } = {}) {
    this.queue = new GroupCommit(async (batch) => {
      try {
        await this.write(batch.flatMap((b) => b.increments));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }, Number.POSITIVE_INFINITY, options.lingerMs ?? 0);
  }

  /** Writes what is waiting (shutdown). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * Adds the increments to both resolutions; resolves once they are stored. Group commit: while one write is in
   * flight (or lingers), further increments wait and go out together in the next one, so under load a burst of
   * messages costs two bulk writes instead of two per message (the database, not this process, holds every count).
   */
  add(increments: readonly Increment[]): Promise<void> {
    if (!increments.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.queue.push({ increments, resolve, reject }));
  }

  /** Two bulk writes (one per resolution), whatever the number of increments. */
  private async write(increments: readonly Increment[]): Promise<void> {
    for (const [model, size] of [[FiveMinuteBucket, FIVE_MINUTES_MS], [HourBucket, HOUR_MS]] as const) {
      const merged = new Map<string, { metric: MetricName; key: string; start: Date; by: number }>();
      for (const inc of increments) {
        const start = bucketStart(inc.at, size);
        const id = bucketId(inc.metric, inc.key, start);
        const entry = merged.get(id) ?? { metric: inc.metric, key: inc.key, start, by: 0 };
        entry.by += inc.by ?? 1;
        merged.set(id, entry);
      }
      const operations = [...merged.entries()].map(([id, e]) => ({
        updateOne: {
          filter: { _id: id },
          update: { $inc: { count: e.by }, $setOnInsert: { metric: e.metric, key: e.key, start: e.start } },
          upsert: true as const,
        },
      }));
      await bulkUpsert(model, operations);
    }
  }

  /** Buckets of one metric (optionally one key) in [from, to), oldest first. */
  async buckets(resolution: '5m' | '1h', query: SeriesQuery): Promise<BucketRecord[]> {
    const model = resolution === '5m' ? FiveMinuteBucket : HourBucket;
    const filter: Record<string, unknown> = { metric: query.metric, start: { $gte: query.from, $lt: query.to } };
    if (query.key !== undefined) filter.key = query.key;
    return model.find(filter).sort({ start: 1 }).lean<BucketRecord[]>();
  }

  /** A dense series (zeros where no bucket exists) of one metric and key. */
  async series(resolution: '5m' | '1h', query: SeriesQuery & { key: string }): Promise<Array<{ start: Date; count: number }>> {
    const size = resolution === '5m' ? FIVE_MINUTES_MS : HOUR_MS;
    const found = new Map((await this.buckets(resolution, query)).map((b) => [new Date(b.start).getTime(), b.count]));
    const points: Array<{ start: Date; count: number }> = [];
    for (let t = bucketStart(query.from, size).getTime(); t < query.to.getTime(); t += size) {
      points.push({ start: new Date(t), count: found.get(t) ?? 0 });
    }
    return points;
  }

  /** Totals per key of one metric in [from, to). */
  async totals(resolution: '5m' | '1h', query: SeriesQuery): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    for (const bucket of await this.buckets(resolution, query)) totals.set(bucket.key, (totals.get(bucket.key) ?? 0) + bucket.count);
    return totals;
  }

  /** Deletes buckets older than the retention of their resolution. */
  async purge(now: Date, retention: { fiveMinuteMs: number; hourMs: number }): Promise<number> {
    const a = await FiveMinuteBucket.deleteMany({ start: { $lt: new Date(now.getTime() - retention.fiveMinuteMs) } });
    const b = await HourBucket.deleteMany({ start: { $lt: new Date(now.getTime() - retention.hourMs) } });
    return a.deletedCount + b.deletedCount;
  }
}
