import type { LanguageModels } from '../conversation/understand';
import type { EntityMention } from '../conversation/types';
import type { Logger } from '../logging/logger';
import { buildShippedEmotionModel } from './emotion-classifier';
import { extractEntities } from './entities';
import { IntentModelHolder, type IntentModelState } from './intent-model-holder';
import { intentTrainingExamples } from './knowledge-intents';
import { trainInWorker } from './worker-trainer';

/** The sub-intents the intent model learns from (the knowledge base's published phrasings). */
export interface TrainingSource {
  allSubIntents(): Array<{ id: string; name: string; questions: string[] }>;
  onReload(listener: () => void): void;
}

/**
 * The shipped language models over the live knowledge: the intent model is trained from every published
 * sub-intent's phrasings (loaded from disk when the knowledge is unchanged, retrained in the background and
 * swapped in when it changes); the emotion model is built from knowledge/emotion; entities are rules.
 */
export async function createLanguageModels(
  knowledge: TrainingSource,
  logger: Logger,
  options: { modelDir: string; /** Told whenever the intent model's state may have changed. */ onIntentModelState?: (state: IntentModelState) => void },
): Promise<LanguageModels & { intents: IntentModelHolder }> {
  const told = () => options.onIntentModelState?.(intents.state);
  const intents: IntentModelHolder = new IntentModelHolder({
    trainer: trainInWorker,
    modelDir: options.modelDir,
    onSwap: (model) => {
      logger.info({ hash: model.hash }, 'intent model in service');
      told();
    },
    onError: (err) => logger.error({ err }, 'intent model training failed'),
  });
  const examples = () => intentTrainingExamples(knowledge.allSubIntents());
  // Never block start-up on training: until a model is in service, understanding leans on retrieval alone.
  const first = await intents.ensure(examples());
  logger.info(
    { training: first.trained, serving: Boolean(intents.current) },
    first.trained ? 'intent model training in the background' : 'intent model loaded (knowledge unchanged)',
  );
  told();
  knowledge.onReload(() => { void intents.ensure(examples()).then(told); });

  const readEmotion = await shippedEmotionReader();
  return {
    intents,
    classifyIntents: (text, k) => intents.classify(text, k),
    extractEntities: (text, now): EntityMention[] => extractEntities(text, { now }).map(({ type, value, text: written }) => ({ type, value, text: written })),
    readEmotion,
  };
}

/** The shipped emotion model (built from knowledge/emotion) as the pipeline reads it. */
export async function shippedEmotionReader(): Promise<LanguageModels['readEmotion']> {
  const emotion = await buildShippedEmotionModel();
  return (text) => {
    const { label, intensity, polarity } = emotion.classify(text);
    return { label, intensity, polarity };
  };
}
