import type { Logger } from '../logging/logger';
import type { PaymentGateway } from '../payments/gateway';
import type { DocumentStorage } from '../storage';
import { createBindingCode, linkFollowerByUnionId, purgeBindingLeftovers, redeemBindingCode, unbindFollower } from './bindings';
import { Claims } from './claims';
import { insuranceFacts } from './facts';
import { NoticeQueue, type InsuranceNotifier } from './notices';
import { loadProductCatalog, type ProductCatalog } from './products';
import { Purchases } from './purchases';
import { sendRenewalReminders, type RenewalRun } from './renewals';

export { insuranceFacts } from './facts';
export type { InsuranceFacts, PolicyFact, ClaimFact } from './facts';
export type { CustomerRef } from './customers';
export { recordMiniProgramLogin } from './customers';

export interface InsuranceDeps {
  /** Defaults to knowledge/products. */
  catalog?: ProductCatalog;
  /** WeChat Pay (or its fake); absent → orders cannot be paid (503). */
  payments?: PaymentGateway;
  notifier: InsuranceNotifier;
  storage: DocumentStorage;
  maxDocumentBytes: number;
  renewalReminderDays: number;
  clock?: () => Date;
  logger?: Logger;
}

/** The insurance domain for one server instance: what routes, jobs and the bot call. */
export interface Insurance {
  catalog: ProductCatalog;
  purchases: Purchases;
  claims: Claims;
  notices: NoticeQueue;
  clock: () => Date;
  facts: typeof insuranceFacts;
  bindings: {
    createCode: typeof createBindingCode;
    redeem: typeof redeemBindingCode;
    linkByUnionId: typeof linkFollowerByUnionId;
    unbind: typeof unbindFollower;
  };
  sendRenewalReminders(withinDays?: number): Promise<RenewalRun>;
  /** Renewal reminders, unpaid orders past their window, expired binding codes, plus the extra tasks given. */
  housekeeping(extra?: Array<() => Promise<unknown>>): Promise<void>;
}

export function createInsurance(deps: InsuranceDeps): Insurance {
  const clock = deps.clock ?? (() => new Date());
  const catalog = deps.catalog ?? loadProductCatalog();
  const notices = new NoticeQueue(deps.notifier, deps.logger);
  const purchases = new Purchases({ catalog, payments: deps.payments, notices, clock, logger: deps.logger });
  const claims = new Claims({ storage: deps.storage, notices, clock, maxDocumentBytes: deps.maxDocumentBytes, logger: deps.logger });
  const reminders = (withinDays = deps.renewalReminderDays) =>
    sendRenewalReminders({ notifier: deps.notifier, clock, withinDays, logger: deps.logger });
  return {
    catalog,
    purchases,
    claims,
    notices,
    clock,
    facts: insuranceFacts,
    bindings: { createCode: createBindingCode, redeem: redeemBindingCode, linkByUnionId: linkFollowerByUnionId, unbind: unbindFollower },
    sendRenewalReminders: reminders,
    async housekeeping(extra = []) {
      const tasks: Array<[string, () => Promise<unknown>]> = [
        ['renewal reminders', () => reminders()],
        ['unpaid orders', () => purchases.closeExpiredOrders()],
        ['binding codes', () => purgeBindingLeftovers(clock())],
        ...extra.map((task, i): [string, () => Promise<unknown>] => [`extra task ${i + 1}`, task]),
      ];
      // One failing task does not stop the others.
      for (const [name, task] of tasks) {
        try {
          const result = await task();
          deps.logger?.info({ task: name, result }, 'insurance housekeeping');
        } catch (err) {
          deps.logger?.error({ err, task: name }, 'insurance housekeeping task failed');
        }
      }
    },
  };
}

/**
 * Runs housekeeping every `intervalMinutes` (0 = never) on this instance. Safe with several instances: reminders
 * are claimed by insert, order moves are conditional. Returns stop().
 */
export function startInsuranceJobs(run: () => Promise<void>, intervalMinutes: number): () => void {
  if (intervalMinutes <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void run().finally(() => {
      running = false;
    });
  }, intervalMinutes * 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
