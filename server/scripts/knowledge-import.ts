import { loadConfig } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { openDatabase } from '../src/db/open';
import { describeChanges, importFaqFile, importKnowledgeDirectory } from '../src/knowledge/importer';
import { KNOWLEDGE_DIR } from '../src/knowledge/source';
import { parseArgs, resolveUserPath, runCli } from '../src/cli/args';
import { progressBar } from '../src/cli/progress';

const USAGE = 'usage: npm run knowledge:import [-- --dry-run] [--dir knowledge/] [--faq FILE.jsonl|FILE.csv] [--by NAME]';

runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['dir', 'faq', 'by'], switches: ['dry-run', 'help'] });
  if (args.help) { console.log(USAGE); return; }
  const config = loadConfig();
  const db = await openDatabase(config, createLogger('warn'));
  const bar = progressBar(args.faq ? 'FAQ' : 'knowledge');
  try {
    const options = { by: typeof args.by === 'string' ? args.by : `cli:${process.env.USER ?? 'operator'}`, dryRun: Boolean(args['dry-run']), onProgress: bar.update };
    const report = typeof args.faq === 'string'
      ? await importFaqFile(resolveUserPath(args.faq), options)
      : await importKnowledgeDirectory(typeof args.dir === 'string' ? resolveUserPath(args.dir) : KNOWLEDGE_DIR, options);
    bar.stop();
    console.log(args['dry-run'] ? `dry run, nothing written:\n${describeChanges(report)}` : describeChanges(report, 0));
    if (report.revision !== undefined) console.log(`knowledge revision is now ${report.revision}`);
  } finally {
    bar.stop();
    await db.close();
  }
});
