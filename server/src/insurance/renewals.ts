import type { Logger } from '../logging/logger';
import { InsuranceNotice, isDuplicateKey, Policy, type PolicyRecord } from './models';
import type { InsuranceNotifier } from './notices';

export interface RenewalRun {
  /** Renewable policies in force whose cover ends within the window. */
  due: number;
  sent: number;
  /** Reminded before (by this or another instance). */
  alreadySent: number;
  /** Not delivered; transient failures are tried again on the next run, refusals are not. */
  notDelivered: number;
}

/**
 * Reminds customers of renewable policies ending within `withinDays`, once per policy and end date. The insert of
 * the notice record is the lock: a second run (or a second instance) finds it and skips.
 */
export async function sendRenewalReminders(options: {
  notifier: InsuranceNotifier;
  clock: () => Date;
  withinDays: number;
  logger?: Logger;
}): Promise<RenewalRun> {
  const now = options.clock();
  const until = new Date(now.getTime() + options.withinDays * 86_400_000);
  const due = await Policy.find({ status: 'in_force', renewable: true, endsAt: { $gt: now, $lte: until } })
    .sort({ endsAt: 1 })
    .limit(1000)
    .lean<PolicyRecord[]>();
  const run: RenewalRun = { due: due.length, sent: 0, alreadySent: 0, notDelivered: 0 };
  for (const policy of due) {
    const key = `renewal:${policy._id}:${policy.endsOn}`;
    try {
      await InsuranceNotice.create({ _id: key, customerId: policy.customerId, kind: 'renewal_due', status: 'sending', createdAt: now, updatedAt: now });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      run.alreadySent += 1;
      continue;
    }
    const outcome = await options.notifier
      .notify(policy.customerId, { kind: 'renewal_due', policyId: policy._id, productName: policy.productName, endsOn: policy.endsOn })
      .catch((err: unknown) => ({ ok: false as const, reason: 'failed' as const, detail: err instanceof Error ? err.message : String(err) }));
    if (outcome.ok) {
      run.sent += 1;
      await InsuranceNotice.updateOne({ _id: key }, { $set: { status: 'sent', updatedAt: options.clock() } });
      continue;
    }
    run.notDelivered += 1;
    options.logger?.info({ policyId: policy._id, reason: outcome.reason, detail: outcome.detail }, 'renewal reminder not delivered');
    if (outcome.reason === 'failed') {
      // A transient failure: free the key so the next run tries again.
      await InsuranceNotice.deleteOne({ _id: key });
    } else {
      await InsuranceNotice.updateOne({ _id: key }, { $set: { status: 'failed', detail: outcome.detail, updatedAt: options.clock() } });
    }
  }
  return run;
}
