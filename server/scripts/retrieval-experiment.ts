/**
 * Measures the retrieval engine on a labelled KB and prints top-1 / top-5 / ms per query and a calibration table.
 * The data is read by path only (third-party evaluation sets must never be copied into the project).
 *
 *   npx tsx scripts/retrieval-experiment.ts --kb KB.jsonl --queries QUERIES.jsonl [--folds 5] [--options JSON] [--calibration JSON]
 *   npx tsx scripts/retrieval-experiment.ts --synthetic 3000x10
 *
 * KB rows {"id","question","answer"} (rows sharing an id become one document with several questions);
 * query rows {"query","id"}.
 */
import fs from 'node:fs';
import { CliUsageError, parseArgs, runCli } from '../src/cli/args';
import {
  buildRetrievalIndex,
  RetrievalIndex,
  type RetrievalIndexSnapshot,
  fitConfidenceCalibration,
  applyCalibration,
  reliabilityTable,
  DEFAULT_CALIBRATION,
  type ConfidenceCalibration,
  type LabelledFeatures,
  type RetrievalDocument,
  type RetrievalIndexOptions,
  type ReliabilityReport,
} from '../src/knowledge/retrieval';

const USAGE =
  'usage: npx tsx scripts/retrieval-experiment.ts --kb KB.jsonl --queries QUERIES.jsonl [--folds N]\n' +
  '         [--options \'{"fillerWeight":0,"weights":{"answerWords":0.5}}\'] [--calibration \'{"intercept":…,"coefficients":{…}}\']\n' +
  '       npx tsx scripts/retrieval-experiment.ts --synthetic DOCSxQUESTIONS (e.g. 3000x10)';

function readJsonLines(file: string): Array<Record<string, unknown>> {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new CliUsageError(`${file}: line ${i + 1} is not JSON`);
      }
    });
}

function readKb(file: string): RetrievalDocument[] {
  const byId = new Map<string, RetrievalDocument>();
  for (const row of readJsonLines(file)) {
    const id = String(row.id);
    const question = typeof row.question === 'string' ? row.question : '';
    const answer = typeof row.answer === 'string' ? row.answer : undefined;
    const document = byId.get(id) ?? { id, questions: [] };
    if (question) document.questions.push(question);
    if (answer && !document.answer) document.answer = answer;
    byId.set(id, document);
  }
  return [...byId.values()];
}

function readQueries(file: string): Array<{ query: string; id: string }> {
  return readJsonLines(file).map((row) => ({ query: String(row.query), id: String(row.id) }));
}

const round = (x: number, places = 3) => Math.round(x * 10 ** places) / 10 ** places;

function printReliability(title: string, report: ReliabilityReport): void {
  console.log(`\n${title}`);
  console.log('confidence   n    meanConf  accuracy');
  for (const bin of report.bins) {
    if (bin.count === 0) continue;
    console.log(
      `${bin.from.toFixed(1)}-${bin.to.toFixed(1)}  ${String(bin.count).padStart(5)}  ${bin.meanConfidence.toFixed(3).padStart(8)}  ${bin.accuracy.toFixed(3).padStart(8)}`,
    );
  }
  console.log(`ECE ${round(report.expectedCalibrationError)}  Brier ${round(report.brierScore)}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function evaluate(kbFile: string, queriesFile: string, folds: number, options: RetrievalIndexOptions): void {
  const documents = readKb(kbFile);
  const queries = readQueries(queriesFile);
  const buildStarted = performance.now();
  const index = buildRetrievalIndex(documents, options);
  const buildMs = performance.now() - buildStarted;

  let top1 = 0;
  let top5 = 0;
  const labelled: LabelledFeatures[] = [];
  const withDefault: Array<{ confidence: number; correct: boolean }> = [];
  let answered = 0;
  const latencies: number[] = [];
  const started = performance.now();
  for (const { query, id } of queries) {
    const queryStarted = performance.now();
    const hits = index.search(query, 5);
    latencies.push(performance.now() - queryStarted);
    if (hits.length > 0) answered++;
    const correct = hits[0]?.id === id;
    if (correct) top1++;
    if (hits.some((hit) => hit.id === id)) top5++;
    withDefault.push({ confidence: hits[0]?.confidence ?? 0, correct });
  }
  const msPerQuery = (performance.now() - started) / Math.max(1, queries.length);
  latencies.sort((a, b) => a - b);
  for (const { query, id } of queries) {
    const features = index.confidenceFeatures(query);
    if (features) labelled.push({ features, correct: index.search(query, 1)[0]?.id === id });
  }

  console.log(
    JSON.stringify({
      top1: round(top1 / queries.length),
      top5: round(top5 / queries.length),
      msPerQuery: round(msPerQuery),
      p99Ms: round(percentile(latencies, 99)),
      queries: queries.length,
      answered,
      documents: documents.length,
      buildMs: Math.round(buildMs),
    }),
  );

  // Queries with no hit at all count as confidence 0, wrong.
  printReliability(options.calibration ? 'reliability, --calibration given' : 'reliability, shipped DEFAULT_CALIBRATION', reliabilityTable(withDefault));

  // Cross-validated calibration: every query's confidence comes from a model fitted without it.
  const heldOut: Array<{ confidence: number; correct: boolean }> = [];
  for (let fold = 0; fold < folds; fold++) {
    const train = labelled.filter((_, i) => i % folds !== fold);
    const test = labelled.filter((_, i) => i % folds === fold);
    const calibration = fitConfidenceCalibration(train);
    for (const example of test) heldOut.push({ confidence: applyCalibration(calibration, example.features), correct: example.correct });
  }
  printReliability(`reliability, ${folds}-fold cross-validated calibration (held-out)`, reliabilityTable(heldOut));
  const fittedOnAll: ConfidenceCalibration = fitConfidenceCalibration(labelled);
  console.log('\ncalibration fitted on all queries:', JSON.stringify(roundCalibration(fittedOnAll)));
  console.log('shipped default calibration:     ', JSON.stringify(DEFAULT_CALIBRATION));
}

function roundCalibration(c: ConfidenceCalibration): ConfidenceCalibration {
  return {
    intercept: round(c.intercept, 2),
    coefficients: {
      topScore: round(c.coefficients.topScore, 2),
      relativeMargin: round(c.coefficients.relativeMargin, 2),
      questionOverlap: round(c.coefficients.questionOverlap, 2),
      sequenceSimilarity: round(c.coefficients.sequenceSimilarity, 2),
    },
  };
}

/** Deterministic pseudo-random numbers (mulberry32) so timings are repeatable. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Synthetic sub-intents: questions built from a Zipf-skewed insurance vocabulary, so common terms ("保险") have long
 * posting lists as in real data. Queries are questions with a word dropped and one swapped.
 */
function syntheticTiming(spec: string): void {
  const match = /^(\d+)x(\d+)$/.exec(spec);
  if (!match) throw new CliUsageError(`--synthetic wants DOCSxQUESTIONS, e.g. 3000x10\n${USAGE}`);
  const [documentCount, questionsPerDocument] = [Number(match[1]), Number(match[2])];
  const random = randomSource(42);
  const vocabulary = (
    '保险 理赔 退保 犹豫期 保单 保费 保额 重疾险 医疗险 意外险 车险 交强险 报案 发票 报销 住院 门诊 续保 等待期 受益人 投保人 被保险人 ' +
    '现金价值 贷款 免赔额 宽限期 健康告知 既往症 材料 进度 电话 网上 手机 银行卡 账户 修改 变更 地址 姓名 身份证 孩子 父母 老人 ' +
    '癌症 手术 骨折 车祸 旅游 境外 签证 航班 延误 行李 丢失 赔付 拒赔 申诉 投诉 客服 人工 时间 多久 到账 金额 比例 条款 责任 免除 ' +
    '年金 分红 万能 寿险 定期 终身 缴费 年限 方式 自动 扣款 取消 暂停 恢复 复效 失效 满期 领取 生存金 身故 残疾 豁免 轻症 中症'
  ).split(' ');
  const zipfWord = () => vocabulary[Math.floor(vocabulary.length * random() ** 2.2)];
  const phrase = (length: number) => Array.from({ length }, zipfWord).join('');
  const documents: RetrievalDocument[] = [];
  for (let d = 0; d < documentCount; d++) {
    const topic = [zipfWord(), zipfWord()];
    const questions = Array.from({ length: questionsPerDocument }, () => `请问${topic[0]}${phrase(2 + Math.floor(random() * 3))}${topic[1]}怎么办`);
    documents.push({ id: `sub-${d}`, questions, answer: `您好，${topic.join('')}${phrase(20)}。` });
  }
  const buildStarted = performance.now();
  const index = buildRetrievalIndex(documents);
  const buildMs = performance.now() - buildStarted;
  const queries = Array.from({ length: 1000 }, () => {
    const document = documents[Math.floor(random() * documents.length)];
    const question = document.questions[Math.floor(random() * document.questions.length)];
    return { id: document.id, text: question.slice(0, -3) + zipfWord() + '吗' };
  });
  for (const query of queries.slice(0, 50)) index.search(query.text, 5); // warm-up (JIT, jieba dictionary)
  const timings: number[] = [];
  let sourceFirst = 0;
  for (const query of queries) {
    const started = performance.now();
    const hits = index.search(query.text, 5);
    timings.push(performance.now() - started);
    if (hits[0]?.id === query.id) sourceFirst++;
  }
  timings.sort((a, b) => a - b);
  // Incremental edits: replace one phrasing of a document at a time.
  const upsertStarted = performance.now();
  for (let i = 0; i < 200; i++) {
    const document = documents[(i * 7919) % documents.length];
    index.upsert({ ...document, questions: [...document.questions.slice(1), `${phrase(3)}怎么处理`] });
  }
  const upsertMs = (performance.now() - upsertStarted) / 200;
  const snapshotStarted = performance.now();
  const json = JSON.stringify(index.toJSON());
  const serialiseMs = performance.now() - snapshotStarted;
  const restoreStarted = performance.now();
  RetrievalIndex.fromJSON(JSON.parse(json) as RetrievalIndexSnapshot);
  const restoreMs = performance.now() - restoreStarted;
  console.log(
    JSON.stringify({
      documents: documentCount,
      questions: documentCount * questionsPerDocument,
      buildMs: Math.round(buildMs),
      p50Ms: round(percentile(timings, 50)),
      p99Ms: round(percentile(timings, 99)),
      maxMs: round(timings[timings.length - 1]),
      sourceTop1: round(sourceFirst / queries.length),
      upsertMs: round(upsertMs),
      snapshotMB: round(json.length / 1e6, 1),
      serialiseMs: Math.round(serialiseMs),
      restoreMs: Math.round(restoreMs),
      heapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    }),
  );
}

runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['kb', 'queries', 'folds', 'options', 'calibration', 'synthetic'] });
  if (typeof args.synthetic === 'string') {
    syntheticTiming(args.synthetic);
    return;
  }
  for (const flag of ['kb', 'queries'] as const) {
    if (typeof args[flag] !== 'string') throw new CliUsageError(`--${flag} is required\n${USAGE}`);
    if (!fs.existsSync(args[flag] as string)) throw new CliUsageError(`--${flag}: file not found: ${String(args[flag])}`);
  }
  // Experiments only: any JSON-expressible option (weights, bm25, fillerWeight, ngramSizes, priorOnNgrams, …).
  const options: RetrievalIndexOptions = typeof args.options === 'string' ? (JSON.parse(args.options) as RetrievalIndexOptions) : {};
  if (typeof args.calibration === 'string') options.calibration = JSON.parse(args.calibration) as ConfidenceCalibration;
  const folds = typeof args.folds === 'string' ? Number(args.folds) : 5;
  evaluate(args.kb as string, args.queries as string, folds, options);
});
