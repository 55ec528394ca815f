/**
 * Finds phrasings of knowledge/ that another sub-intent would answer if a user put them in other words, so authors
 * can separate overlapping sub-intents or add phrasings before users meet the wrong answer.
 *
 *   npm run knowledge:check [-- --dir knowledge/] [--top 30]
 */
import { loadWechatConfig } from '../src/config/wechat-config';
import { checkKnowledge } from '../src/knowledge/check';
import { KNOWLEDGE_DIR, readKnowledgeDir } from '../src/knowledge/source';
import { CliUsageError, parseArgs, resolveUserPath, runCli } from '../src/cli/args';

const USAGE = 'usage: npm run knowledge:check [-- --dir knowledge/] [--top N]';

runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['dir', 'top'], switches: ['help'] });
  if (args.help) { console.log(USAGE); return; }
  const top = args.top === undefined ? 30 : Number(args.top);
  if (!Number.isInteger(top) || top < 0) throw new CliUsageError(`--top must be a whole number, got "${String(args.top)}"`);
  const set = readKnowledgeDir(typeof args.dir === 'string' ? resolveUserPath(args.dir) : KNOWLEDGE_DIR);
  const answerConfidence = loadWechatConfig().handoffRules.answer.minConfidence;
  const report = checkKnowledge(set, { answerConfidence });
  const names = new Map(set.subIntents.map((sub) => [sub.id, sub.name]));

  console.log(`Each phrasing left out of its sub-intent and asked (retrieval alone; confident = ≥ ${answerConfidence}, the answer threshold).`);
  console.log(`${report.conflicts.length} of ${report.phrasings} phrasings would be answered by another sub-intent; the pairs with most:\n`);
  for (const pair of report.pairs.slice(0, top)) {
    console.log(`${String(pair.count).padStart(3)}  ${names.get(pair.own)} (${pair.own})  →  ${names.get(pair.answeredBy)} (${pair.answeredBy})`);
    for (const phrasing of pair.phrasings.slice(0, 3)) console.log(`       “${phrasing}”`);
  }
  console.log(JSON.stringify({
    phrasings: report.phrasings,
    ownFirst: Number((report.ownFirst / Math.max(1, report.phrasings)).toFixed(3)),
    confidentlyElsewhere: report.conflicts.length,
  }));
});
