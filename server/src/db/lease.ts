import { randomUUID } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

/**
 * A named lease in the database: work that must not run twice at once across every server instance (it reads a
 * state and writes what follows from it). The lease is a document whose `_id` is the name, so taking it is one
 * insert; the holder renews it while it works, and a holder that died loses it when it expires.
 */
interface LeaseRecord {
  _id: string;
  holder: string;
  expiresAt: Date;
}

const leaseSchema = new Schema<LeaseRecord>({
  _id: { type: String, required: true },
  holder: { type: String, required: true },
  expiresAt: { type: Date, required: true },
});

export const Lease = mongoose.model<LeaseRecord>('Lease', leaseSchema, 'leases');

export interface LeaseOptions {
  /** How long the lease outlives a holder that stops renewing it (a crash). */
  holdMs?: number;
  /** How long to wait for another holder before giving up with LeaseBusyError. */
  waitMs?: number;
  /** Pause between attempts while another holder has it. */
  pollMs?: number;
}

export class LeaseBusyError extends Error {
  constructor(readonly lease: string, waitedMs: number) {
    super(`${lease} is held by another instance (waited ${waitedMs} ms)`);
  }
}

const DEFAULTS: Required<LeaseOptions> = { holdMs: 30_000, waitMs: 60_000, pollMs: 50 };

/** Runs `work` while holding the lease `name`; waits for the current holder first. */
export async function withLease<T>(name: string, work: () => Promise<T>, options: LeaseOptions = {}): Promise<T> {
  const { holdMs, waitMs, pollMs } = { ...DEFAULTS, ...options };
  const holder = randomUUID();
  const started = Date.now();
  for (;;) {
    try {
      await Lease.create({ _id: name, holder, expiresAt: new Date(Date.now() + holdMs) });
      break;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    // A lease past its expiry belongs to a holder that died: take it over at once.
    const { deletedCount } = await Lease.deleteOne({ _id: name, expiresAt: { $lt: new Date() } });
    if (deletedCount) continue;
    const waited = Date.now() - started;
    if (waited >= waitMs) throw new LeaseBusyError(name, waited);
    await new Promise((resolve) => setTimeout(resolve, pollMs * (0.5 + Math.random())));
  }

  const renew = setInterval(() => {
    Lease.updateOne({ _id: name, holder }, { $set: { expiresAt: new Date(Date.now() + holdMs) } }).catch(() => {
      // A missed renewal only shortens the lease; the next one (or the release) tries again.
    });
  }, Math.max(10, holdMs / 3));
  renew.unref();
  try {
    return await work();
  } finally {
    clearInterval(renew);
    // The work is done either way; a lease not deleted only delays the next holder until it expires.
    await Lease.deleteOne({ _id: name, holder }).catch(() => undefined);
  }
}
