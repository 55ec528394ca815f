import { IntentClassifier } from '../../src/nlu/intent-classifier';
import { trainInWorker } from '../../src/nlu/worker-trainer';

const examples = [
  { text: '怎么报案', label: 'claim-report' }, { text: '出险了怎么报案', label: 'claim-report' }, { text: '在哪里报案', label: 'claim-report' },
  { text: '发票怎么开', label: 'invoice' }, { text: '电子发票在哪里下载', label: 'invoice' }, { text: '报销要发票', label: 'invoice' },
  { text: '犹豫期退保', label: 'surrender' }, { text: '我想退保', label: 'surrender' }, { text: '退保能退多少钱', label: 'surrender' },
];

describe('intent training in a worker thread', () => {
  it('gives the same model as training in the serving thread', async () => {
    const options = { neuralBudget: 0, calibrationShare: 0 };
    const [inWorker, inProcess] = await Promise.all([trainInWorker(examples, options), IntentClassifier.train(examples, options)]);
    expect(inWorker.toJSON()).toEqual(inProcess.toJSON());
    expect(inWorker.classify('车险出险报案', 1)[0].label).toBe('claim-report');
  });

  it('reports a training failure instead of hanging', async () => {
    await expect(trainInWorker([{ text: '只有一个', label: 'one' }], {})).rejects.toThrow(/at least two labels/);
  });
});
