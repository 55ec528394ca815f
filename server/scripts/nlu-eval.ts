/**
 * Measures the NLU on labelled data.
 *
 *   tsx scripts/nlu-eval.ts --task intent|emotion --train FILE [--train FILE2] --test FILE
 *   tsx scripts/nlu-eval.ts --task intent|emotion --model shipped --test FILE
 *
 * Options: --engine ours|nlpjs|nlpjs-jieba (default ours; nlpjs = plain node-nlp, the anchor),
 *          --no-progress (no progress bar).
 * Prints per-class F1 and the top confusions; the LAST line is one JSON object:
 *   {"accuracy","macroF1","trainSeconds","classifyPerSecond","test"}
 * For emotion, macro-F1 is over the seven emotions; rows labelled none count in accuracy only.
 * Bad flags exit with code 2 and a message naming the flag.
 */
import fs from 'node:fs';
import { progressBar } from '../src/cli/progress';
import { buildShippedEmotionModel, EmotionClassifier } from '../src/nlu/emotion-classifier';
import { EmotionLexicon, SEVEN_EMOTIONS } from '../src/nlu/emotion-lexicon';
import { evaluate, formatReport, readLabelledJsonl } from '../src/nlu/evaluation';
import { IntentClassifier, type LabelledText } from '../src/nlu/intent-classifier';
import { intentTrainingExamples, readKnowledgeIntents } from '../src/nlu/knowledge-intents';
import { createNlpjsEngine } from '../src/nlu/nlpjs-baseline';

type Task = 'intent' | 'emotion';
type Engine = 'ours' | 'nlpjs' | 'nlpjs-jieba';

interface Flags {
  task: Task;
  train: string[];
  shipped: boolean;
  test: string;
  engine: Engine;
  progress: boolean;
}

class UsageError extends Error {}

const USAGE = 'usage: nlu-eval --task intent|emotion (--train FILE [--train FILE] | --model shipped) --test FILE [--engine ours|nlpjs|nlpjs-jieba] [--no-progress]';

export function parseFlags(argv: readonly string[]): Flags {
  const flags: Partial<Flags> & { train: string[] } = { train: [], engine: 'ours', progress: true, shipped: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const take = () => (inline !== undefined ? inline : value(i++, flag));
    switch (flag) {
      case '--task': {
        const task = take();
        if (task !== 'intent' && task !== 'emotion') throw new UsageError(`--task must be intent or emotion, got "${task}"`);
        flags.task = task;
        break;
      }
      case '--train':
        flags.train.push(...take().split(',').filter(Boolean));
        break;
      case '--test':
        flags.test = take();
        break;
      case '--model': {
        const model = take();
        if (model !== 'shipped') throw new UsageError(`--model must be "shipped", got "${model}"`);
        flags.shipped = true;
        break;
      }
      case '--engine': {
        const engine = take();
        if (engine !== 'ours' && engine !== 'nlpjs' && engine !== 'nlpjs-jieba') throw new UsageError(`--engine must be ours, nlpjs or nlpjs-jieba, got "${engine}"`);
        flags.engine = engine;
        break;
      }
      case '--no-progress':
        flags.progress = false;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown flag ${arg}`);
    }
  }
  if (!flags.task) throw new UsageError('--task is required (intent or emotion)');
  if (!flags.test) throw new UsageError('--test is required');
  if (flags.shipped && flags.train.length) throw new UsageError('--train and --model shipped exclude each other');
  if (!flags.shipped && !flags.train.length) throw new UsageError('--train FILE (or --model shipped) is required');
  if (flags.shipped && flags.engine !== 'ours') throw new UsageError('--engine applies to --train only (the shipped model is ours)');
  for (const file of flags.train) if (!fs.existsSync(file)) throw new UsageError(`--train: no such file ${file}`);
  if (!fs.existsSync(flags.test)) throw new UsageError(`--test: no such file ${flags.test}`);
  return flags as Flags;
}

interface Predictor {
  trainSeconds: number;
  predict(text: string): Promise<string> | string;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function buildPredictor(flags: Flags): Promise<Predictor> {
  const bar = flags.progress ? progressBar('training') : undefined;
  try {
    if (flags.shipped && flags.task === 'emotion') {
      const { value: model, seconds } = await timed(() => buildShippedEmotionModel());
      return { trainSeconds: seconds, predict: (text) => model.classify(text).label };
    }
    let examples: LabelledText[];
    if (flags.shipped) {
      const knowledge = readKnowledgeIntents();
      for (const warning of knowledge.warnings) process.stderr.write(`knowledge: ${warning}\n`);
      if (new Set(knowledge.examples.map((e) => e.label)).size < 2) {
        throw new Error('knowledge/scenarios holds fewer than two sub-intents with questions: nothing to train the shipped intent model on');
      }
      const questionsOf = new Map<string, string[]>();
      for (const e of knowledge.examples) questionsOf.set(e.label, [...(questionsOf.get(e.label) ?? []), e.text]);
      // Trained as the server trains it: phrasings and names.
      examples = intentTrainingExamples([...knowledge.names].map(([id, name]) => ({ id, name, questions: questionsOf.get(id) ?? [] })));
      process.stderr.write(`shipped intent model: ${knowledge.names.size} sub-intents, ${examples.length} phrasings and names\n`);
    } else {
      examples = flags.train.flatMap((file) => readLabelledJsonl(file));
    }
    if (flags.engine !== 'ours') {
      const engine = createNlpjsEngine(flags.engine === 'nlpjs-jieba' ? 'jieba' : 'nlpjs');
      const { seconds } = await timed(() => engine.train(examples));
      return { trainSeconds: seconds, predict: async (text) => (await engine.classify(text)).label };
    }
    if (flags.task === 'emotion') {
      const { value: model, seconds } = await timed(() => EmotionClassifier.train(examples, EmotionLexicon.load()));
      return { trainSeconds: seconds, predict: (text) => model.classify(text).label };
    }
    const { value: model, seconds } = await timed(() => IntentClassifier.train(examples, { onProgress: bar?.update }));
    bar?.stop();
    process.stderr.write(`model: ${JSON.stringify(model.describe())}\n`);
    return { trainSeconds: seconds, predict: (text) => model.classify(text, 1)[0]?.label ?? '' };
  } finally {
    bar?.stop();
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) process.stderr.write(`nlu-eval: ${error.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const test = readLabelledJsonl(flags.test);
  const predictor = await buildPredictor(flags);
  const started = performance.now();
  const predicted: string[] = [];
  for (const row of test) predicted.push(await predictor.predict(row.text));
  const classifySeconds = (performance.now() - started) / 1000;
  const report = evaluate(test.map((r) => r.label), predicted, flags.task === 'emotion' ? SEVEN_EMOTIONS : undefined);
  for (const line of formatReport(report)) process.stdout.write(`${line}\n`);
  const summary = {
    accuracy: Number(report.accuracy.toFixed(4)),
    macroF1: Number(report.macroF1.toFixed(4)),
    trainSeconds: Number(predictor.trainSeconds.toFixed(2)),
    classifyPerSecond: Math.round(test.length / Math.max(classifySeconds, 1e-9)),
    test: flags.test,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      process.stderr.write(`nlu-eval: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
