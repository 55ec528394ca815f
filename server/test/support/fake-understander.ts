import type { Understander } from '../../src/conversation/pipeline';
import type { EmotionReading, RankedCandidate, Understanding } from '../../src/conversation/types';

/**
 * A scripted understanding stage for pipeline tests: each rule maps a substring to ranked candidates,
 * an emotion and entities, so decisions can be tested without a trained model.
 */
export interface ScriptedUnderstanding {
  when: string;
  candidates?: RankedCandidate[];
  emotion?: EmotionReading;
  entities?: Understanding['entities'];
}

export function scriptedUnderstander(rules: ScriptedUnderstanding[]): Understander & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async understand(text) {
      asked.push(text);
      const rule = rules.find((r) => text.includes(r.when));
      return {
        candidates: rule?.candidates ?? [],
        entities: rule?.entities ?? [],
        emotion: rule?.emotion ?? { label: 'none', intensity: 0, polarity: 'neutral' },
      };
    },
  };
}
