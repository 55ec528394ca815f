import { importKnowledge, publishKnowledgeRevision } from '../src/knowledge/importer';
import { Solution } from '../src/knowledge/models';
import { KnowledgeBase } from '../src/knowledge/service';
import { solutionKey, variantsOf, type KnowledgeSet } from '../src/knowledge/source';
import { progressBar } from '../src/cli/progress';
import { percentile, rssMiB, type BenchRow } from './table';

export interface KnowledgeScale { scenarios: number; intents: number; subIntents: number; solutions: number }
export const LARGE_INSURER: KnowledgeScale = { scenarios: 23, intents: 350, subIntents: 3_000, solutions: 780_000 };

const TOPICS = ['报案', '理赔材料', '理赔进度', '退保', '犹豫期', '续保', '保费', '发票', '健康告知', '保单变更', '等待期', '免赔额', '现金价值', '受益人', '电子保单'];
const PRODUCTS = ['重疾险', '医疗险', '意外险', '旅行险', '少儿险', '车险', '寿险', '年金险'];
const ASKS = ['怎么办理', '需要什么', '多久能好', '在哪里查', '可以吗', '有什么要求', '怎么算', '为什么不行'];

/**
 * A synthetic knowledge base at an insurer's scale: every sub-intent has 8 phrasings and
 * solutions/sub-intents variants keyed by product × user state (260 per sub-intent at 780k).
 */
export function generateKnowledge(scale: KnowledgeScale): KnowledgeSet {
  const set: KnowledgeSet = { scenarios: [], intents: [], subIntents: [], solutions: [] };
  const source = 'bench.yaml';
  for (let s = 0; s < scale.scenarios; s++) set.scenarios.push({ id: `s${s}`, name: `场景${s}`, source });
  for (let i = 0; i < scale.intents; i++) set.intents.push({ id: `s${i % scale.scenarios}/i${i}`, scenarioId: `s${i % scale.scenarios}`, name: `意图${i}`, source });
  const perSub = Math.ceil(scale.solutions / scale.subIntents);
  let solutions = 0;
  for (let k = 0; k < scale.subIntents; k++) {
    const intent = set.intents[k % scale.intents];
    const id = `${intent.id}/k${k}`;
    const topic = TOPICS[k % TOPICS.length];
    const product = PRODUCTS[Math.floor(k / TOPICS.length) % PRODUCTS.length];
    const tag = `编号${k}`;
    const questions = ASKS.map((ask, q) => (q % 2 ? `${product}${topic}${ask}${tag}` : `我的${topic}${ask}，${tag}${product}`));
    const conditionsList: Array<{ product?: string; userState?: string }> = [];
    for (let v = 0; v < perSub && solutions < scale.solutions; v++, solutions++) {
      const conditions = v === 0 ? {} : { product: `p${v % 26}`, userState: `u${Math.floor(v / 26)}` };
      const key = solutionKey(id, conditions);
      conditionsList.push(conditions);
      set.solutions.push({ id: key, subIntentId: id, name: `v${v}`, text: `${product}${topic}的答复（${tag}，版本${v}）：请按页面提示办理。`, conditions, source });
    }
    set.subIntents.push({ id, scenarioId: intent.scenarioId, intentId: intent.id, name: `${product}${topic}${tag}`, questions, sensitive: false, source, solutionVariants: variantsOf(id, conditionsList) });
  }
  return set;
}

export async function runKnowledgeBench(scale: KnowledgeScale = LARGE_INSURER, queries = 2_000): Promise<BenchRow[]> {
  const set = generateKnowledge(scale);
  const bar = progressBar('import');
  const importStarted = performance.now();
  const report = await importKnowledge(set, { by: 'bench', owns: () => true, onProgress: bar.update });
  bar.stop();
  const importSeconds = (performance.now() - importStarted) / 1000;

  const knowledge = new KnowledgeBase();
  const loadStarted = performance.now();
  await knowledge.refreshIfChanged();
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  const latencies: number[] = [];
  for (let n = 0; n < queries; n++) {
    const sub = set.subIntents[(n * 7919) % set.subIntents.length];
    const question = sub.questions[n % sub.questions.length];
    const started = performance.now();
    const best = knowledge.search(question, { k: 5 })[0];
    if (best) await knowledge.selectSolution(best.id, { product: `p${n % 26}`, userState: `u${n % 10}` });
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);

  // An editor changes one answer: what the import writes for it, then every instance refreshes.
  const edited = set.solutions[set.solutions.length - 1];
  await Solution.updateOne({ _id: edited.id }, { $set: { text: `${edited.text}（已更新）` }, $inc: { version: 1 } });
  await publishKnowledgeRevision([edited.id]);
  const refreshStarted = performance.now();
  await knowledge.refreshIfChanged();
  const refreshSeconds = (performance.now() - refreshStarted) / 1000;
  if (!knowledge.lastReload?.incremental) throw new Error('the refresh after one edit read every solution');

  return [{
    scale: `${scale.scenarios}/${scale.intents}/${scale.subIntents}/${scale.solutions}`,
    'documents written': report.changes.length,
    'import s': importSeconds,
    'index load s': loadSeconds,
    'refresh after 1 edit s': refreshSeconds,
    'answer p50 ms': percentile(latencies, 50),
    'answer p99 ms': percentile(latencies, 99),
    'RSS MiB': rssMiB(),
  }];
}
