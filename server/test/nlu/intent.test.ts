import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentHash, IntentClassifier, type IntentClassifierJSON } from '../../src/nlu/intent-classifier';
import { IntentModelHolder, type IntentTrainer } from '../../src/nlu/intent-model-holder';
import { intentTrainingExamples } from '../../src/nlu/knowledge-intents';
import { largerIntents, SMALL_INTENTS } from './intent-fixtures';

describe('intent classifier', () => {
  let model: IntentClassifier;
  beforeAll(async () => {
    model = await IntentClassifier.train(SMALL_INTENTS);
  });

  it('classifies unseen phrasings into the right sub-intent', () => {
    expect(model.classify('车祸了去哪报案')[0].label).toBe('claims/report/how-to-report');
    expect(model.classify('理赔需要带哪些材料啊')[0].label).toBe('claims/materials/list');
    expect(model.classify('我不想要了，要退保')[0].label).toBe('policy/surrender/how');
    expect(model.classify('受益人能改成我儿子吗')[0].label).toBe('policy/change/beneficiary');
  });

  it('returns the top k with confidences in [0, 1], best first, summing to at most 1', () => {
    const top = model.classify('退保要多久', 3);
    expect(top).toHaveLength(3);
    for (const p of top) expect(p.confidence).toBeGreaterThanOrEqual(0);
    expect(top[0].confidence).toBeLessThanOrEqual(1);
    expect(top[0].confidence).toBeGreaterThanOrEqual(top[1].confidence);
    expect(top.reduce((s, p) => s + p.confidence, 0)).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('is less confident on text unrelated to any sub-intent', () => {
    expect(model.classify('今天天气怎么样')[0].confidence).toBeLessThan(model.classify('怎么退保')[0].confidence);
  });

  it('round-trips through JSON with identical answers', () => {
    const copy = IntentClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())) as IntentClassifierJSON);
    for (const text of ['怎么报案', '保费怎么这么贵', '受益人写错了怎么办']) expect(copy.classify(text)).toEqual(model.classify(text));
    expect(copy.hash).toBe(model.hash);
  });

  it('hashes training content regardless of order', () => {
    expect(contentHash([...SMALL_INTENTS].reverse())).toBe(contentHash(SMALL_INTENTS));
    expect(contentHash(SMALL_INTENTS.slice(1))).not.toBe(contentHash(SMALL_INTENTS));
    expect(model.hash).toBe(contentHash(SMALL_INTENTS));
  });
});

describe('intent model holder', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlu-model-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const countingTrainer = () => {
    const calls: number[] = [];
    const trainer: IntentTrainer = async (examples, options) => {
      calls.push(examples.length);
      return IntentClassifier.train(examples, options);
    };
    return { calls, trainer };
  };

  it('saves a trained model and reloads it without retraining when the hash is unchanged', async () => {
    const first = countingTrainer();
    const holder = new IntentModelHolder({ trainer: first.trainer, modelDir: dir });
    expect(holder.state).toBe('missing');
    expect((await holder.ensure(SMALL_INTENTS)).trained).toBe(true);
    expect(holder.state).toBe('missing');
    await holder.whenTrained();
    expect(holder.state).toBe('current');
    expect(first.calls).toEqual([SMALL_INTENTS.length]);
    expect(fs.readdirSync(dir)).toEqual([`intent-model-${contentHash(SMALL_INTENTS)}.json`]);
    const answer = holder.classify('怎么退保');

    // A restart: same knowledge, model on disk → served at once, no training call.
    const second = countingTrainer();
    const restarted = new IntentModelHolder({ trainer: second.trainer, modelDir: dir });
    const result = await restarted.ensure([...SMALL_INTENTS].reverse());
    expect(result).toEqual({ trained: false, hash: contentHash(SMALL_INTENTS) });
    expect(restarted.training).toBe(false);
    expect(restarted.state).toBe('current');
    expect(second.calls).toEqual([]);
    expect(restarted.classify('怎么退保')).toEqual(answer);
  });

  it('serves the stored model while retraining when the knowledge changed', async () => {
    const holder = new IntentModelHolder({ modelDir: dir });
    await holder.ensure(SMALL_INTENTS);
    await holder.whenTrained();

    const changed = [...SMALL_INTENTS, { text: '发票怎么开', label: 'premium/invoice/how' }, { text: '保费发票在哪里下载', label: 'premium/invoice/how' }];
    const counting = countingTrainer();
    const restarted = new IntentModelHolder({ trainer: counting.trainer, modelDir: dir });
    const result = await restarted.ensure(changed);
    expect(result.trained).toBe(true);
    // The old model answers at once.
    expect(restarted.state).toBe('outdated');
    expect(restarted.classify('怎么退保')[0].label).toBe('policy/surrender/how');
    await restarted.whenTrained();
    expect(restarted.state).toBe('current');
    expect(counting.calls).toEqual([changed.length]);
    expect(restarted.current?.labels).toContain('premium/invoice/how');
  });

  it('keeps one model file per knowledge version, so two versions on one machine do not retrain each other', async () => {
    const changed = [...SMALL_INTENTS, { text: '发票怎么开', label: 'premium/invoice/how' }, { text: '保费发票在哪里下载', label: 'premium/invoice/how' }];
    const counting = countingTrainer();
    for (const examples of [SMALL_INTENTS, changed]) {
      const holder = new IntentModelHolder({ trainer: counting.trainer, modelDir: dir });
      await holder.ensure(examples);
      await holder.whenTrained();
    }
    expect(counting.calls).toEqual([SMALL_INTENTS.length, changed.length]);
    // Each version starts again from its own file: no training, whichever ran last.
    for (const examples of [SMALL_INTENTS, changed, SMALL_INTENTS]) {
      const holder = new IntentModelHolder({ trainer: counting.trainer, modelDir: dir });
      expect((await holder.ensure(examples)).trained).toBe(false);
      expect(holder.current?.hash).toBe(contentHash(examples));
    }
    expect(counting.calls).toHaveLength(2);
  });

  it('keeps only the newest three model files', async () => {
    const versions = [1, 2, 3, 4].map((n) => [...SMALL_INTENTS, { text: `第${n}种问法`, label: `extra/version/${n}` }, { text: `又一种问法${n}`, label: `extra/version/${n}` }]);
    for (const [i, examples] of versions.entries()) {
      const holder = new IntentModelHolder({ modelDir: dir, train: { neural: { iterations: 20 } } });
      await holder.ensure(examples);
      await holder.whenTrained();
      // File times one second apart, oldest first: what "newest" means must not hang on the file system's clock.
      const file = path.join(dir, `intent-model-${contentHash(examples, { neural: { iterations: 20 } })}.json`);
      fs.utimesSync(file, 1_000_000 + i, 1_000_000 + i);
    }
    const kept = fs.readdirSync(dir).sort();
    const expected = versions.slice(1).map((examples) => `intent-model-${contentHash(examples, { neural: { iterations: 20 } })}.json`).sort();
    expect(kept).toEqual(expected);
  });

  it('keeps answering during a background retrain, then answers from the new model', async () => {
    // A quicker node-nlp stage keeps the test short; training still spans many event-loop turns.
    const holder = new IntentModelHolder({ train: { neural: { iterations: 40 } } });
    holder.swap(await IntentClassifier.train(SMALL_INTENTS));
    const bigger = largerIntents(80);
    const newLabels = new Set(bigger.map((e) => e.label));
    const oldLabels = new Set(SMALL_INTENTS.map((e) => e.label));

    const served: string[] = [];
    let swapped = false;
    const retrain = holder.retrain(bigger).then(() => { swapped = true; });
    // Requests arriving while training runs: each must be answered by the old model, in full.
    while (!swapped) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (swapped) break;
      const top = holder.classify('怎么退保', 3);
      expect(top).toHaveLength(3);
      served.push(top[0].label);
    }
    await retrain;
    expect(served.length).toBeGreaterThan(5);
    expect(served.every((label) => oldLabels.has(label))).toBe(true);
    expect(newLabels.has(holder.classify('发票怎么办理')[0].label)).toBe(true);
    expect(holder.classify('发票怎么办理')[0].label).toBe('service/发票/0');
  });

  it('does not swap in an outdated model when a newer retrain was asked for', async () => {
    const holder = new IntentModelHolder({ train: { neural: { iterations: 20 } } });
    const older = holder.retrain(largerIntents(30));
    const newer = holder.retrain(SMALL_INTENTS);
    await Promise.all([older, newer]);
    await holder.whenTrained();
    expect(holder.current?.hash).toBe(contentHash(SMALL_INTENTS, { neural: { iterations: 20 } }));
  });
});

describe('what the intent model learns a sub-intent from', () => {
  it('its phrasings and its name, each text once', () => {
    expect(intentTrainingExamples([
      { id: 'claim/report/online', name: '线上报案', questions: ['怎么报案', '在哪报案', '怎么报案'] },
      { id: 'claim/report/phone', name: '电话报案', questions: ['电话报案', '报案电话多少'] },
    ])).toEqual([
      { text: '怎么报案', label: 'claim/report/online' },
      { text: '在哪报案', label: 'claim/report/online' },
      { text: '线上报案', label: 'claim/report/online' },
      { text: '电话报案', label: 'claim/report/phone' },
      { text: '报案电话多少', label: 'claim/report/phone' },
    ]);
  });
});
