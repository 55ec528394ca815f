import { createNluUnderstander } from '../../src/nlu/understander';
import { buildShippedEmotionModel } from '../../src/nlu/emotion-classifier';
import { IntentClassifier } from '../../src/nlu/intent-classifier';
import { IntentModelHolder } from '../../src/nlu/intent-model-holder';
import { SMALL_INTENTS } from './intent-fixtures';

describe('NLU understander', () => {
  it('gives the pipeline candidates, entities and emotion in its own shapes', async () => {
    const intents = new IntentModelHolder();
    intents.swap(await IntentClassifier.train(SMALL_INTENTS));
    const understander = createNluUnderstander({
      intents, emotion: await buildShippedEmotionModel(), names: new Map([['policy/surrender/how', '怎么退保']]), topK: 3,
    });
    const result = await understander.understand('我要退保！气死了，昨天扣了我三千五', new Date(2026, 2, 18));
    expect(result.candidates).toHaveLength(3);
    expect(result.candidates[0]).toMatchObject({ subIntentId: 'policy/surrender/how', name: '怎么退保' });
    expect(result.entities).toEqual([
      { type: 'date', value: '2026-03-17', text: '昨天' },
      { type: 'amount', value: 3500, text: '三千五' },
    ]);
    expect(result.emotion.label).toBe('anger');
    expect(result.emotion.polarity).toBe('negative');
  });
});
