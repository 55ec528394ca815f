import { buildShippedEmotionModel, EmotionClassifier, type EmotionClassifierJSON } from '../../src/nlu/emotion-classifier';
import { EmotionLexicon, SEVEN_EMOTIONS } from '../../src/nlu/emotion-lexicon';

describe('emotion lexicon stage', () => {
  const lexicon = EmotionLexicon.load();
  const anger = SEVEN_EMOTIONS.indexOf('anger');

  it('cancels an emotion word after a negator', () => {
    const reading = lexicon.read('我不生气');
    expect(reading.scores[anger]).toBe(0);
    expect(reading.negated[anger]).toBeGreaterThan(0);
  });

  it('scales by degree adverbs: 太 > plain > 有点', () => {
    const strong = lexicon.read('太生气了').scores[anger];
    const plain = lexicon.read('生气').scores[anger];
    const mild = lexicon.read('有点生气').scores[anger];
    expect(strong).toBeGreaterThan(plain);
    expect(plain).toBeGreaterThan(mild);
  });

  it('flips words that have a negated meaning (不开心 is sadness)', () => {
    const reading = lexicon.read('不开心');
    expect(reading.scores[SEVEN_EMOTIONS.indexOf('sadness')]).toBeGreaterThan(0);
    expect(reading.scores[SEVEN_EMOTIONS.indexOf('happiness')]).toBe(0);
  });

  it('reads emoji, WeChat codes and repeated punctuation', () => {
    expect(lexicon.read('😡').scores[anger]).toBeGreaterThan(0);
    expect(lexicon.read('[发怒]').scores[anger]).toBeGreaterThan(0);
    expect(lexicon.read('👍').scores[SEVEN_EMOTIONS.indexOf('like')]).toBeGreaterThan(0);
    expect(lexicon.read('😭').scores[SEVEN_EMOTIONS.indexOf('sadness')]).toBeGreaterThan(0);
    expect(lexicon.read('气死了！！！').scores[anger]).toBeGreaterThan(lexicon.read('气死了').scores[anger]);
  });
});

describe('shipped emotion model', () => {
  let model: EmotionClassifier;
  beforeAll(async () => {
    model = await buildShippedEmotionModel();
  });

  it('does not read 不生气 as anger', () => {
    expect(model.classify('不生气').label).not.toBe('anger');
    expect(model.classify('我不生气，就是想问下进度').label).not.toBe('anger');
  });

  it('reads 太生气了 as anger, stronger than 有点生气', () => {
    const strong = model.classify('太生气了');
    const mild = model.classify('有点生气');
    expect(strong.label).toBe('anger');
    expect(mild.label).toBe('anger');
    expect(strong.intensity).toBeGreaterThan(mild.intensity);
    expect(strong.polarity).toBe('negative');
  });

  it.each([
    ['你们拖了两个月还不赔，我要投诉！😡', 'anger', 'negative'],
    ['理赔款到账了，太开心了哈哈', 'happiness', 'positive'],
    ['客服很耐心，给你们点赞👍', 'like', 'positive'],
    ['我好害怕手术会出问题', 'fear', 'negative'],
    ['我爸走了，心里很难过😭', 'sadness', 'negative'],
    ['保费怎么涨了这么多？？没想到', 'surprise', 'neutral'],
    ['又是推销短信，烦死了', 'disgust', 'negative'],
    ['请问理赔需要哪些材料', 'none', 'neutral'],
  ])('%s → %s', (text, label, polarity) => {
    const reading = model.classify(text);
    expect(reading.label).toBe(label);
    expect(reading.polarity).toBe(polarity);
    expect(reading.intensity).toBeGreaterThanOrEqual(0);
    expect(reading.intensity).toBeLessThanOrEqual(1);
    if (label === 'none') expect(reading.intensity).toBe(0);
  });

  it('round-trips through JSON', () => {
    const copy = EmotionClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())) as EmotionClassifierJSON);
    expect(copy.classify('太生气了')).toEqual(model.classify('太生气了'));
  });
});

describe('emotion engine on an insurer’s own labels', () => {
  it('trains on any {text,label} set', async () => {
    const rows = [
      ...['太慢了', '怎么还不处理', '等了好久', '到底什么时候好', '催了好几次了', '还要等多久'].map((text) => ({ text, label: 'impatient' })),
      ...['谢谢你', '太感谢了', '辛苦了', '多谢帮忙', '感谢客服', '谢谢耐心解答'].map((text) => ({ text, label: 'grateful' })),
      ...['怎么退保', '保单在哪查', '理赔材料有哪些', '保费多少', '怎么改地址', '等待期多久'].map((text) => ({ text, label: 'none' })),
    ];
    const model = await EmotionClassifier.train(rows, EmotionLexicon.load());
    expect(model.labels).toEqual(['grateful', 'impatient', 'none']);
    expect(model.classify('非常感谢你').label).toBe('grateful');
    expect(model.classify('还要等多久啊').label).toBe('impatient');
  });

  it('pools an optional node-nlp neural stage and keeps it through JSON', async () => {
    const rows = [
      ...['太慢了', '怎么还不处理', '等了好久', '到底什么时候好', '催了好几次了', '还要等多久'].map((text) => ({ text, label: 'impatient' })),
      ...['谢谢你', '太感谢了', '辛苦了', '多谢帮忙', '感谢客服', '谢谢耐心解答'].map((text) => ({ text, label: 'grateful' })),
    ];
    const model = await EmotionClassifier.train(rows, EmotionLexicon.load(), { neuralIterations: 20 });
    const json = JSON.parse(JSON.stringify(model.toJSON())) as EmotionClassifierJSON;
    expect(json.neural).toBeDefined();
    expect(EmotionClassifier.fromJSON(json).classify('非常感谢你')).toEqual(model.classify('非常感谢你'));
    expect(model.classify('非常感谢你').label).toBe('grateful');
  });
});
