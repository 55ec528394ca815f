import type { Understander } from './pipeline';
import type { EmotionReading, EntityMention, Understanding } from './types';

/** What the pipeline needs from the language models (nlu/): intents, entities, emotion. */
export interface LanguageModels {
  /** Top intent labels (sub-intent ids) with calibrated confidences. */
  classifyIntents(text: string, k: number): Array<{ label: string; confidence: number }>;
  extractEntities(text: string, now: Date): EntityMention[];
  readEmotion(text: string): EmotionReading;
}

/** The knowledge retrieval the understanding blends the intent model into. */
export interface SubIntentSearch {
  search(
    question: string,
    options: { k?: number; classifierScores?: Map<string, number> },
  ): Array<{ id: string; name: string; confidence: number }>;
}

/** Keeps what understanding reads from the text alone, for texts seen before (see BlendedUnderstander). */
export interface UnderstandingCacheOptions {
  /** How many texts to keep (least recently used go first). */
  entries: number;
  /**
   * Changes whenever the models or the knowledge behind an answer change (for example the knowledge revision and the
   * intent model's hash); a new value empties the cache.
   */
  generation: () => string;
}

type TextReading = Pick<Understanding, 'candidates' | 'emotion'>;

/**
 * understand = classify intents → retrieve sub-intents with the classifier's opinion blended in → entities →
 * emotion. Each stage can be measured and swapped on its own.
 *
 * With `cache`, the intents, candidates and emotion of a text seen before under the same generation are reused:
 * most of what an Official Account receives is a few frequent questions and menu words, and those stages are most of
 * a message's understanding time. Entities are read every time, since dates in them are relative to `now`.
 */
export class BlendedUnderstander implements Understander {
  private readonly cache = new Map<string, TextReading>();
  private cacheGeneration: string | undefined;

  constructor(
    private readonly models: LanguageModels,
    private readonly knowledge: SubIntentSearch,
    private readonly options: { k?: number; cache?: UnderstandingCacheOptions } = {},
  ) {}

  async understand(text: string, now: Date): Promise<Understanding> {
    const reading = this.cachedReading(text) ?? this.read(text);
    return {
      // copies: the caller owns what it gets, the cache keeps its own
      candidates: reading.candidates.map((candidate) => ({ ...candidate })),
      entities: this.models.extractEntities(text, now),
      emotion: { ...reading.emotion },
    };
  }

  private read(text: string): TextReading {
    const intents = this.models.classifyIntents(text, 10);
    const classifierScores = new Map(intents.map((intent) => [intent.label, intent.confidence]));
    const candidates = this.knowledge
      .search(text, { k: this.options.k ?? 5, classifierScores })
      .map((hit) => ({ subIntentId: hit.id, name: hit.name, confidence: hit.confidence }));
    const reading = { candidates, emotion: this.models.readEmotion(text) };
    const cache = this.options.cache;
    if (cache && cache.entries > 0) {
      if (this.cache.size >= cache.entries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(text, reading);
    }
    return reading;
  }

  private cachedReading(text: string): TextReading | undefined {
    const cache = this.options.cache;
    if (!cache) return undefined;
    const generation = cache.generation();
    if (generation !== this.cacheGeneration) {
      this.cache.clear();
      this.cacheGeneration = generation;
      return undefined;
    }
    const reading = this.cache.get(text);
    if (reading) {
      // most recently used moves to the back of the eviction order
      this.cache.delete(text);
      this.cache.set(text, reading);
    }
    return reading;
  }
}
