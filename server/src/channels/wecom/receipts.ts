import mongoose, { Schema } from 'mongoose';
import { insertedOnce } from '../../db/duplicate-key';

/**
 * Callbacks already taken, keyed `{corpId}:{agentId}:{MsgId or event key}`: WeCom's retries and replayed requests
 * collide on insert and run nothing twice. Old rows are purged by date (no TTL index: not portable).
 */
const receiptSchema = new Schema<{ _id: string; at: Date }>({
  _id: { type: String, required: true },
  at: { type: Date, required: true },
});
receiptSchema.index({ at: 1 });

export const WeComCallbackReceipt = mongoose.model('WeComCallbackReceipt', receiptSchema);


/** True when this delivery is new (and now claimed); false for a retry or replay. */
export function claimWeComCallback(key: string, at: Date): Promise<boolean> {
  return insertedOnce(() => WeComCallbackReceipt.create({ _id: key, at }));
}

/** Lets a retry run again after the handling failed. */
export async function releaseWeComCallback(key: string): Promise<void> {
  await WeComCallbackReceipt.deleteOne({ _id: key });
}

/** Receipts older than the replay window are useless: an old timestamp is refused before the receipt is looked at. */
export async function purgeWeComReceipts(before: Date): Promise<number> {
  const result = await WeComCallbackReceipt.deleteMany({ at: { $lt: before } });
  return result.deletedCount ?? 0;
}
