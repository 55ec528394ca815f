import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { openDatabase } from '../src/db/open';
import { withDatabaseName } from '../src/db/connection';
import { parseArgs, runCli } from '../src/cli/args';
import { LARGE_INSURER, runKnowledgeBench } from './knowledge.bench';
import { runWebhookBench, webhookPhaseSeconds } from './webhook.bench';
import { runNluBench } from './nlu.bench';
import { printTable } from './table';

const SUITES = ['nlu', 'knowledge', 'webhook'] as const;
type Suite = (typeof SUITES)[number];

/**
 * `npm run bench [-- --only knowledge,webhook] [--small] [--webhook-seconds N]`: every benchmark against the
 * configured database (MONGODB_URI, or the embedded one), each in a scratch database, printed as tables.
 * `--webhook-seconds` sets the length of each webhook load (default 15, 5 with --small; longer runs show sustained load).
 */
runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['only', 'webhook-seconds'], switches: ['small'] });
  const only = typeof args.only === 'string' ? (args.only.split(',') as Suite[]) : [...SUITES];
  const unknown = only.filter((name) => !SUITES.includes(name));
  if (unknown.length) throw new Error(`--only: unknown suite(s) ${unknown.join(', ')} (known: ${SUITES.join(', ')})`);
  const webhookSeconds = webhookPhaseSeconds(args['webhook-seconds'], Boolean(args.small));
  const config = loadConfig();
  const logger = createLogger('warn');
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);

  if (only.includes('nlu')) printTable('Understanding: 3,000 sub-intents (classification on one core, training)', await runNluBench());
  if (only.includes('knowledge')) {
    const db = await openDatabase(config, logger, { scratchDatabaseName: `bench_kb_${randomBytes(3).toString('hex')}` });
    try {
      console.log(`database: ${db.database.description}`);
      const scale = args.small ? { scenarios: 23, intents: 350, subIntents: 3_000, solutions: 30_000 } : LARGE_INSURER;
      printTable('Knowledge base at scale (import, answer selection, memory)', await runKnowledgeBench(scale));
    } finally {
      await db.close();
    }
  }
  if (only.includes('webhook')) {
    const scratch = `bench_oa_${randomBytes(3).toString('hex')}`;
    const db = await openDatabase(config, logger, { scratchDatabaseName: scratch });
    try {
      // The server under load writes into the same scratch database, dropped afterwards (never the configured one).
      printTable('Official Account webhook, safe mode, 100 connections', await runWebhookBench(withDatabaseName(db.database.uri, scratch, { replace: true }), webhookSeconds));
    } finally {
      await db.close();
    }
  }
});
