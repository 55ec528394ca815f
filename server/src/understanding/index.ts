import { BlendedUnderstander } from '../conversation/understand';
import type { Understander } from '../conversation/pipeline';
import type { EmotionReading } from '../conversation/types';
import type { KnowledgeBase } from '../knowledge/service';
import type { Logger } from '../logging/logger';
import type { IntentModelState } from '../nlu/intent-model-holder';
import { createLanguageModels, shippedEmotionReader } from '../nlu/language-models';
import { understandingCache } from './cache';
import { WorkerUnderstander, type UnderstandingWorkerSettings } from './worker-understander';

/** How a server instance understands messages, built over its loaded knowledge. */
export interface Understanding {
  understander: Understander;
  /** The emotion of any text (quality inspection reads transcripts with it). */
  readEmotion(text: string): EmotionReading;
  /** Whether the intent model in service was trained from the current knowledge (until it is, retrieval leads). */
  intentModel(): IntentModelState;
  stop(): void | Promise<void>;
}

export type UnderstandingFactory = (knowledge: KnowledgeBase, logger: Logger) => Promise<Understanding>;

/** Understanding in the serving thread, over the instance's own knowledge base. */
export function inServingThread(options: { modelDir: string }): UnderstandingFactory {
  return async (knowledge, logger) => {
    const models = await createLanguageModels(knowledge, logger, options);
    return {
      understander: new BlendedUnderstander(models, knowledge, { cache: understandingCache(knowledge, models.intents) }),
      readEmotion: models.readEmotion,
      intentModel: () => models.intents.state,
      stop: () => {},
    };
  };
}

/**
 * Understanding in a worker thread, over the serving thread's knowledge (sent at start and after every reload); the
 * serving thread keeps only the emotion model (for quality inspection).
 */
export function inWorkerThread(settings: UnderstandingWorkerSettings): UnderstandingFactory {
  return async (knowledge, logger) => {
    const [worker, readEmotion] = await Promise.all([WorkerUnderstander.start(knowledge, settings, logger), shippedEmotionReader()]);
    return { understander: worker, readEmotion, intentModel: () => worker.intentModel, stop: () => worker.stop() };
  };
}
