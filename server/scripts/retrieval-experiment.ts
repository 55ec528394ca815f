/**
 * Measures the retrieval engine on a labelled KB and prints top-1 / top-5 / ms per query and a calibration table.
 * The data is read by path only (third-party evaluation sets must never be copied into the project).
 *
 *   npx tsx scripts/retrieval-experiment.ts --kb KB.jsonl --queries QUERIES.jsonl [--folds 5] [--options JSON] [--calibration JSON] [--half odd|even]
 *   npx tsx scripts/retrieval-experiment.ts --synthetic 3000x10
 *   npx tsx scripts/retrieval-experiment.ts --calibrate 'faq:KB.jsonl:QUERIES.jsonl;intent:TRAIN.jsonl:TEST.jsonl' [--outside TEXTS.jsonl]
 *
 * KB rows {"id","question","answer"} (rows sharing an id become one document with several questions);
 * query rows {"query","id"}. `--half odd|even` keeps the queries whose numeric id has that parity: tune on one half,
 * report the other, so a setting is not chosen on the queries it is judged by.
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
import { mulberry32 } from '../src/util/seeded-random';

const USAGE =
  'usage: npx tsx scripts/retrieval-experiment.ts --kb KB.jsonl --queries QUERIES.jsonl [--folds N]\n' +
  '         [--options \'{"fillerWeight":0,"weights":{"answerWords":0.5}}\'] [--calibration \'{"intercept":…,"coefficients":{…}}\']\n' +
  '       npx tsx scripts/retrieval-experiment.ts --synthetic DOCSxQUESTIONS (e.g. 3000x10)\n' +
  "       npx tsx scripts/retrieval-experiment.ts --calibrate 'faq:KB:QUERIES;intent:TRAIN:TEST' [--outside TEXTS.jsonl]";

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

function evaluate(kbFile: string, queriesFile: string, folds: number, options: RetrievalIndexOptions, half: string | undefined): void {
  const documents = readKb(kbFile);
  const parity = half === 'odd' ? 1 : half === 'even' ? 0 : undefined;
  const queries = readQueries(queriesFile).filter(({ id }) => parity === undefined || Math.abs(Number(id) % 2) === parity);
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
      informativeCoverage: round(c.coefficients.informativeCoverage, 2),
    },
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
  const random = mulberry32(42);
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

interface LabelledSet {
  name: string;
  examples: LabelledFeatures[];
}

/** Intent data as retrieval: one document per label whose questions are its training texts. */
function readIntentSet(trainFile: string, testFile: string): { documents: RetrievalDocument[]; queries: Array<{ query: string; id: string }> } {
  const byLabel = new Map<string, RetrievalDocument>();
  for (const row of readJsonLines(trainFile)) {
    const label = String(row.label);
    const document = byLabel.get(label) ?? { id: label, questions: [] };
    document.questions.push(String(row.text));
    byLabel.set(label, document);
  }
  return { documents: [...byLabel.values()], queries: readJsonLines(testFile).map((row) => ({ query: String(row.text), id: String(row.label) })) };
}

function labelledFeatures(index: RetrievalIndex, queries: Array<{ query: string; id: string | undefined }>): LabelledFeatures[] {
  const examples: LabelledFeatures[] = [];
  for (const { query, id } of queries) {
    const features = index.confidenceFeatures(query);
    // id undefined: an out-of-scope question, so whatever comes first is wrong.
    if (features) examples.push({ features, correct: id !== undefined && index.search(query, 1)[0]?.id === id });
  }
  return examples;
}

/**
 * Fits the confidence model on several labelled sets pooled with equal weight, and reports each set's calibration
 * under a model fitted without it (left-one-set-out), so a coefficient that only suits one file shows up.
 * `--outside`: texts from another domain asked against every faq set's index, all labelled wrong (nothing there
 * answers them), so the model sees what out-of-scope questions look like.
 */
function calibrate(spec: string, outsideFile: string | undefined, options: RetrievalIndexOptions): void {
  const sets: LabelledSet[] = [];
  for (const part of spec.split(';').filter(Boolean)) {
    const [kind, first, second] = part.split(':');
    if (!first || !second || !fs.existsSync(first) || !fs.existsSync(second)) throw new CliUsageError(`--calibrate: bad set "${part}"\n${USAGE}`);
    const { documents, queries } = kind === 'intent' ? readIntentSet(first, second) : { documents: readKb(first), queries: readQueries(second) };
    const index = buildRetrievalIndex(documents, options);
    sets.push({ name: `${kind}:${first.split('/').slice(-2).join('/')}`, examples: labelledFeatures(index, queries) });
    if (kind === 'faq' && outsideFile) {
      const outside = readJsonLines(outsideFile).map((row) => ({ query: String(row.text ?? row.query), id: undefined }));
      sets.push({ name: `outside:${outsideFile.split('/').slice(-2).join('/')}`, examples: labelledFeatures(index, outside) });
    }
  }
  // Equal weight per set; an out-of-scope set half that, so it teaches what junk looks like without pretending that
  // a fifth of all traffic is junk.
  const weighted = (chosen: LabelledSet[]) =>
    chosen.flatMap((set) =>
      set.examples.map((e) => ({ ...e, weight: ((set.name.startsWith('outside:') ? 0.5 : 1) * 1000) / Math.max(1, set.examples.length) })),
    );
  // Experiments: DROP_FEATURES=a,b fits without those features (zeroed, so their coefficient stays 0).
  const dropped = (process.env.DROP_FEATURES ?? '').split(',').filter(Boolean);
  for (const set of sets) for (const e of set.examples) for (const name of dropped) (e.features as unknown as Record<string, number>)[name] = 0;
  const fitted = fitConfidenceCalibration(weighted(sets));
  console.log('pooled calibration (equal weight per set):', JSON.stringify(roundCalibration(fitted)));
  for (const set of sets) {
    const without = fitConfidenceCalibration(weighted(sets.filter((s) => s !== set)));
    const predict = (c: ConfidenceCalibration) => set.examples.map((e) => ({ confidence: applyCalibration(c, e.features), correct: e.correct }));
    const heldOut = reliabilityTable(predict(without));
    const pooled = reliabilityTable(predict(fitted));
    const shipped = reliabilityTable(predict(DEFAULT_CALIBRATION));
    const answered = (c: ConfidenceCalibration, threshold: number) => predict(c).filter((p) => p.confidence >= threshold);
    const precisionAt = (c: ConfidenceCalibration) => {
      const above = answered(c, 0.5);
      return `${above.length}/${set.examples.length} ≥0.5, ${above.length ? round(above.filter((p) => p.correct).length / above.length) : '-'} right`;
    };
    console.log(
      `${set.name.padEnd(36)} n=${set.examples.length} top1=${round(set.examples.filter((e) => e.correct).length / Math.max(1, set.examples.length))}` +
        `  ECE pooled ${round(pooled.expectedCalibrationError)} held-out ${round(heldOut.expectedCalibrationError)} shipped ${round(shipped.expectedCalibrationError)}` +
        ` | pooled: ${precisionAt(fitted)} | held-out: ${precisionAt(without)} | shipped: ${precisionAt(DEFAULT_CALIBRATION)}`,
    );
  }
}

runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['kb', 'queries', 'folds', 'options', 'calibration', 'synthetic', 'calibrate', 'outside', 'half'] });
  if (typeof args.synthetic === 'string') {
    syntheticTiming(args.synthetic);
    return;
  }
  if (typeof args.calibrate === 'string') {
    const options: RetrievalIndexOptions = typeof args.options === 'string' ? (JSON.parse(args.options) as RetrievalIndexOptions) : {};
    calibrate(args.calibrate, typeof args.outside === 'string' ? args.outside : undefined, options);
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
  const half = typeof args.half === 'string' ? args.half : undefined;
  if (half !== undefined && half !== 'odd' && half !== 'even') throw new CliUsageError(`--half wants odd or even\n${USAGE}`);
  evaluate(args.kb as string, args.queries as string, folds, options, half);
});
