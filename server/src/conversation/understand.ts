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

/**
 * understand = classify intents → retrieve sub-intents with the classifier's opinion blended in → entities →
 * emotion. Each stage can be measured and swapped on its own.
 */
export class BlendedUnderstander implements Understander {
  constructor(private readonly models: LanguageModels, private readonly knowledge: SubIntentSearch, private readonly k = 5) {}

  async understand(text: string, now: Date): Promise<Understanding> {
    const intents = this.models.classifyIntents(text, 10);
    const classifierScores = new Map(intents.map((intent) => [intent.label, intent.confidence]));
    const candidates = this.knowledge
      .search(text, { k: this.k, classifierScores })
      .map((hit) => ({ subIntentId: hit.id, name: hit.name, confidence: hit.confidence }));
    return { candidates, entities: this.models.extractEntities(text, now), emotion: this.models.readEmotion(text) };
  }
}
