import type { Understanding } from '../conversation/types';
import type { EmotionClassifier } from './emotion-classifier';
import { DEFAULT_PRODUCTS, extractEntities, type ProductDefinition } from './entities';
import type { IntentModelHolder } from './intent-model-holder';

export interface NluUnderstanderDeps {
  intents: IntentModelHolder;
  emotion: EmotionClassifier;
  /** Sub-intent id → display name (readKnowledgeIntents().names). */
  names: ReadonlyMap<string, string>;
  products?: ProductDefinition[];
  /** How many ranked candidates to return. */
  topK?: number;
}

/**
 * The conversation pipeline's understanding stage: ranked sub-intents from the current intent model,
 * entities relative to the message time, and the emotion reading.
 */
export function createNluUnderstander(deps: NluUnderstanderDeps): { understand(text: string, now: Date): Promise<Understanding> } {
  const products = deps.products ?? DEFAULT_PRODUCTS;
  return {
    async understand(text, now) {
      const candidates = deps.intents.classify(text, deps.topK ?? 5).map((p) => ({
        subIntentId: p.label, name: deps.names.get(p.label) ?? p.label, confidence: p.confidence,
      }));
      const entities = extractEntities(text, { now, products }).map(({ type, value, text: mention }) => ({ type, value, text: mention }));
      const { label, intensity, polarity } = deps.emotion.classify(text);
      return { candidates, entities, emotion: { label, intensity, polarity } };
    },
  };
}
