import type { EntityMention } from '../../src/conversation/types';
import { BlendedUnderstander, type LanguageModels, type SubIntentSearch } from '../../src/conversation/understand';
import { extractEntities } from '../../src/nlu/entities';
import { UNDERSTANDING_CACHE_ENTRIES, understandingCache } from '../../src/understanding/cache';

/** Models and retrieval that count their calls and answer from the text, so a stale cache shows. */
function countingStages() {
  const calls = { classify: 0, search: 0, emotion: 0, entities: 0 };
  let answerPrefix = 'v1';
  const models: LanguageModels = {
    classifyIntents: (text) => { calls.classify++; return [{ label: `sub-${text}`, confidence: 0.9 }]; },
    extractEntities: (text, now): EntityMention[] => {
      calls.entities++;
      return extractEntities(text, { now }).map(({ type, value, text: written }) => ({ type, value, text: written }));
    },
    readEmotion: (text) => { calls.emotion++; return text.includes('气') ? { label: 'anger', intensity: 0.8, polarity: 'negative' } : { label: 'none', intensity: 0, polarity: 'neutral' }; },
  };
  const knowledge: SubIntentSearch = {
    search: (question, options) => {
      calls.search++;
      const classifier = [...(options.classifierScores?.keys() ?? [])][0] ?? '';
      return [{ id: `${answerPrefix}:${question}`, name: classifier, confidence: 0.8 }];
    },
  };
  return { calls, models, knowledge, changeKnowledge: (prefix: string) => { answerPrefix = prefix; } };
}

describe('BlendedUnderstander with a cache', () => {
  const now = new Date('2026-11-24T02:00:00Z');

  it('reads intents, candidates and emotion of a text once, and entities every time', async () => {
    const { calls, models, knowledge } = countingStages();
    const understander = new BlendedUnderstander(models, knowledge, { cache: { entries: 10, generation: () => 'g1' } });
    const first = await understander.understand('理赔进度', now);
    const second = await understander.understand('理赔进度', now);
    expect(second).toEqual(first);
    expect(first.candidates).toEqual([{ subIntentId: 'v1:理赔进度', name: 'sub-理赔进度', confidence: 0.8 }]);
    expect(calls).toEqual({ classify: 1, search: 1, emotion: 1, entities: 2 });
  });

  it('reads dates relative to each message\'s own time, even for a cached text', async () => {
    const { models, knowledge } = countingStages();
    const understander = new BlendedUnderstander(models, knowledge, { cache: { entries: 10, generation: () => 'g1' } });
    const today = await understander.understand('明天能到账吗', now);
    const aWeekLater = await understander.understand('明天能到账吗', new Date(now.getTime() + 7 * 86_400_000));
    const dateOf = (u: typeof today) => u.entities.find((e) => e.type === 'date')?.value;
    expect(dateOf(today)).toBe('2026-11-25');
    expect(dateOf(aWeekLater)).toBe('2026-12-02');
  });

  it('hands out copies: a caller changing its understanding does not change the next one', async () => {
    const { models, knowledge } = countingStages();
    const understander = new BlendedUnderstander(models, knowledge, { cache: { entries: 10, generation: () => 'g1' } });
    const first = await understander.understand('太气人了', now);
    first.candidates[0].confidence = 0;
    first.candidates.push({ subIntentId: 'x', name: 'x', confidence: 1 });
    first.emotion.label = 'happiness';
    const second = await understander.understand('太气人了', now);
    expect(second.candidates).toEqual([{ subIntentId: 'v1:太气人了', name: 'sub-太气人了', confidence: 0.8 }]);
    expect(second.emotion.label).toBe('anger');
  });

  it('forgets everything when the generation (knowledge revision or intent model) changes', async () => {
    const { calls, models, knowledge, changeKnowledge } = countingStages();
    let generation = 'revision-1';
    const understander = new BlendedUnderstander(models, knowledge, { cache: { entries: 10, generation: () => generation } });
    await understander.understand('退保', now);
    changeKnowledge('v2');
    expect((await understander.understand('退保', now)).candidates[0].subIntentId).toBe('v1:退保'); // same generation: kept
    generation = 'revision-2';
    expect((await understander.understand('退保', now)).candidates[0].subIntentId).toBe('v2:退保');
    expect(calls.search).toBe(2);
  });

  it('keeps at most `entries` texts, dropping the least recently used', async () => {
    const { calls, models, knowledge } = countingStages();
    const understander = new BlendedUnderstander(models, knowledge, { cache: { entries: 2, generation: () => 'g1' } });
    await understander.understand('a', now);
    await understander.understand('b', now);
    await understander.understand('a', now); // a is now the most recent
    await understander.understand('c', now); // drops b
    expect(calls.search).toBe(3);
    await understander.understand('a', now);
    await understander.understand('c', now);
    expect(calls.search).toBe(3);
    await understander.understand('b', now);
    expect(calls.search).toBe(4);
  });

  it('without a cache, reads every message afresh', async () => {
    const { calls, models, knowledge } = countingStages();
    const understander = new BlendedUnderstander(models, knowledge);
    await understander.understand('理赔进度', now);
    await understander.understand('理赔进度', now);
    expect(calls.search).toBe(2);
  });

  it('the shipped cache changes generation with the knowledge revision and with the intent model', () => {
    const knowledge = { revision: 3 };
    const intents: { current?: { hash: string } } = {};
    const cache = understandingCache(knowledge, intents);
    expect(cache.entries).toBe(UNDERSTANDING_CACHE_ENTRIES);
    const seen = new Set([cache.generation()]);
    intents.current = { hash: 'a' };
    seen.add(cache.generation());
    knowledge.revision = 4;
    seen.add(cache.generation());
    intents.current = { hash: 'b' };
    seen.add(cache.generation());
    expect(seen.size).toBe(4);
  });
});
