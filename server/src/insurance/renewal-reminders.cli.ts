import { parseArgs, runCli, CliUsageError } from '../cli/args';
import { loadConfig } from '../config';
import { openDatabase } from '../db/open';
import { createLogger } from '../logging/logger';
import { setupInsurance } from './setup';

const USAGE = 'usage: npm run insurance:renewal-reminders [-- --days 30]';

/** Sends the renewal reminders due now, once per policy (safe to run from cron as often as you like). */
runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['days'], switches: ['help'] });
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const days = typeof args.days === 'string' ? Number(args.days) : undefined;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 90)) throw new CliUsageError('--days must be a whole number from 1 to 90');
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const db = await openDatabase(config, logger);
  try {
    const setup = setupInsurance({ config, logger, startJobs: false });
    const run = await setup.insurance.sendRenewalReminders(days);
    await setup.stop();
    console.log(`renewal reminders: ${run.due} due, ${run.sent} sent, ${run.alreadySent} sent before, ${run.notDelivered} not delivered`);
  } finally {
    await db.close();
  }
});
