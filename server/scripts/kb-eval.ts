import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logging/logger';
import { openDatabase } from '../src/db/open';
import { importFaqFile } from '../src/knowledge/importer';
import { KnowledgeBase } from '../src/knowledge/service';
import { CliUsageError, parseArgs, resolveUserPath, runCli } from '../src/cli/args';
import { progressBar } from '../src/cli/progress';

const USAGE = 'usage: npm run kb:eval -- --kb KB.jsonl --queries QUERIES.jsonl   (kb rows {"id","question","answer"}, queries {"query","id"})';

function readQueries(file: string): Array<{ query: string; id: string }> {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((line, i) => {
    let row: { query?: unknown; id?: unknown };
    try { row = JSON.parse(line) as typeof row; } catch { throw new CliUsageError(`--queries ${file}: line ${i + 1} is not JSON`); }
    if (typeof row.query !== 'string' || (typeof row.id !== 'string' && typeof row.id !== 'number')) {
      throw new CliUsageError(`--queries ${file}: line ${i + 1} needs "query" (string) and "id"`);
    }
    return { query: row.query, id: String(row.id) };
  });
}

/** Imports a KB file into a scratch database, asks every query, prints top-1 / top-5 as the last line. */
runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['kb', 'queries'] });
  const files: Record<'kb' | 'queries', string> = { kb: '', queries: '' };
  for (const flag of ['kb', 'queries'] as const) {
    if (typeof args[flag] !== 'string') throw new CliUsageError(`--${flag} is required\n${USAGE}`);
    files[flag] = resolveUserPath(args[flag] as string);
    if (!fs.existsSync(files[flag])) throw new CliUsageError(`--${flag}: file not found: ${files[flag]}`);
  }
  const queries = readQueries(files.queries);
  const db = await openDatabase(loadConfig(), createLogger('warn'), { scratchDatabaseName: `kb_eval_${randomBytes(4).toString('hex')}` });
  try {
    const bar = progressBar('import');
    await importFaqFile(files.kb, { by: 'kb-eval', onProgress: bar.update });
    bar.stop();
    const knowledge = new KnowledgeBase();
    await knowledge.refreshIfChanged();

    // The FAQ importer keeps each row's id as the last segment of its sub-intent id.
    const kbIdOf = (subIntentId: string) => subIntentId.slice(subIntentId.lastIndexOf('/') + 1);
    let top1 = 0;
    let top5 = 0;
    const started = performance.now();
    for (const { query, id } of queries) {
      const ranked = knowledge.search(query, { k: 5 }).map((hit) => kbIdOf(hit.id));
      if (ranked[0] === id) top1++;
      if (ranked.includes(id)) top5++;
    }
    const msPerQuery = (performance.now() - started) / Math.max(1, queries.length);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    console.log(JSON.stringify({ top1: round(top1 / queries.length), top5: round(top5 / queries.length), msPerQuery: round(msPerQuery), queries: queries.length }));
  } finally {
    await db.close();
  }
});
