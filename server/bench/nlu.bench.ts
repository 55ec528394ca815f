import { IntentClassifier, type LabelledText } from '../src/nlu/intent-classifier';
import { seededRandom } from '../src/nlu/linear-classifier';
import { percentile, printTable, rssMiB, type BenchRow } from './table';

/**
 * NLU at an insurer's scale: 3,000 sub-intents ("scenario/intent/sub", 8 scenarios × 600 intents × 5 asks)
 * with ~8 generated phrasings each. Measures training time and single-process classification throughput
 * (goals: training ≤ 120 s, ≥ 5,000 utterances/s).
 */
const SCENARIOS = ['claims', 'policy-service', 'premium', 'renewal', 'purchase', 'health', 'products', 'complaints'];
const TOPICS = [
  '报案', '理赔材料', '理赔进度', '退保', '犹豫期', '续保', '保费', '发票', '健康告知', '保单变更',
  '等待期', '免赔额', '现金价值', '受益人', '电子保单', '保单贷款', '宽限期', '缴费方式', '银行卡变更', '手机号变更',
  '地址变更', '保额调整', '复效', '减保', '加保', '体检', '核保', '拒赔', '赔付比例', '住院报销',
  '门诊报销', '押金', '垫付', '直付', '发票抬头', '投诉', '转人工', '保单查询', '保障范围', '责任免除',
];
const PRODUCTS = ['重疾险', '医疗险', '意外险', '旅行险', '少儿险', '车险', '寿险', '年金险', '百万医疗', '防癌险', '护理险', '交强险', '商业险', '定期寿险', '终身寿险'];
const ASKS = ['怎么办理', '需要多久', '在哪里查', '有什么条件', '费用怎么算'];
const ASK_VARIANTS: Record<string, string[]> = {
  怎么办理: ['怎么办理', '如何办', '要怎么弄', '办理流程是什么'],
  需要多久: ['需要多久', '要多长时间', '几天能好', '多久能处理完'],
  在哪里查: ['在哪里查', '去哪看', '哪里能查到', '在哪儿查询'],
  有什么条件: ['有什么条件', '有啥要求', '需要满足什么', '门槛是什么'],
  费用怎么算: ['费用怎么算', '要花多少钱', '收费标准是什么', '价格怎么计算'],
};
const TEMPLATES: Array<(topic: string, product: string, ask: string) => string> = [
  (t, p, a) => `${p}的${t}${a}`,
  (t, p, a) => `我想问下${t}${a}，我买的是${p}`,
  (t, p, a) => `${t}${a}啊 ${p}`,
  (t, p, a) => `请问${p}${t}${a}`,
  (t, p, a) => `你好，${p}${t}到底${a}`,
  (t, p, a) => `关于${t}，${p}${a}？`,
  (t, p, a) => `${p}${t}${a}呢`,
  (t, p, a) => `麻烦告诉我${p}的${t}${a}`,
  (t, p, a) => `我家${p}想办${t}，${a}`,
  (t, p, a) => `${t}的事：${p}${a}`,
];

export interface GeneratedIntents {
  train: LabelledText[];
  /** Unseen phrasings (other templates and ask wordings) of the same sub-intents. */
  probe: LabelledText[];
}

/** 3,000 sub-intents × `perSubIntent` training phrasings, plus probe utterances for throughput. */
export function generateSubIntents(subIntents = 3_000, perSubIntent = 8, seed = 3): GeneratedIntents {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const train: LabelledText[] = [];
  const probe: LabelledText[] = [];
  let k = 0;
  outer: for (const product of PRODUCTS) {
    for (const topic of TOPICS) {
      for (const ask of ASKS) {
        if (k >= subIntents) break outer;
        const scenario = SCENARIOS[TOPICS.indexOf(topic) % SCENARIOS.length];
        const label = `${scenario}/${topic}-${PRODUCTS.indexOf(product)}/${ASKS.indexOf(ask)}`;
        for (let n = 0; n < perSubIntent; n++) train.push({ text: TEMPLATES[n % 8](topic, product, pick(ASK_VARIANTS[ask])), label });
        probe.push({ text: TEMPLATES[8 + (k % 2)](topic, product, pick(ASK_VARIANTS[ask])), label });
        k++;
      }
    }
  }
  return { train, probe };
}

export async function runNluBench(subIntents = 3_000, utterances = 20_000): Promise<BenchRow[]> {
  const { train, probe } = generateSubIntents(subIntents);
  const trainStarted = performance.now();
  const model = await IntentClassifier.train(train);
  const trainSeconds = (performance.now() - trainStarted) / 1000;
  const shape = model.describe();

  // Warm up the JIT, then time single utterances back to back on one core.
  for (let n = 0; n < 500; n++) model.classify(probe[n % probe.length].text, 5);
  const latencies: number[] = [];
  let correct = 0;
  const started = performance.now();
  for (let n = 0; n < utterances; n++) {
    const row = probe[(n * 7919) % probe.length];
    const before = performance.now();
    const top = model.classify(row.text, 5);
    latencies.push(performance.now() - before);
    if (top[0]?.label === row.label) correct++;
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return [
    {
      measure: 'intent training',
      'sub-intents': shape.labels,
      phrasings: train.length,
      'train s': trainSeconds,
      'utterances/s': '',
      'p50 ms': '',
      'p99 ms': '',
      'top-1 on unseen phrasings': '',
      stages: `${shape.features} features · linear ${shape.linearMode} · node-nlp over ${shape.neuralGroups} groups`,
      'RSS MiB': rssMiB(),
    },
    {
      measure: 'intent classification (top-5, one process)',
      'sub-intents': shape.labels,
      phrasings: utterances,
      'train s': '',
      'utterances/s': Math.round(utterances / seconds),
      'p50 ms': percentile(latencies, 50),
      'p99 ms': percentile(latencies, 99),
      'top-1 on unseen phrasings': correct / utterances,
      stages: '',
      'RSS MiB': rssMiB(),
    },
  ];
}

if (require.main === module) {
  runNluBench().then((rows) => printTable('NLU: 3,000 sub-intents', rows), (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
