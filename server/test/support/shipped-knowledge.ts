import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline, type PipelineDeps } from '../../src/conversation/pipeline';
import { BlendedUnderstander } from '../../src/conversation/understand';
import { EventBus } from '../../src/events/bus';
import { importKnowledgeDirectory } from '../../src/knowledge/importer';
import { KnowledgeBase } from '../../src/knowledge/service';
import { KNOWLEDGE_DIR } from '../../src/knowledge/source';
import { extractEntities } from '../../src/nlu/entities';

/**
 * The pipeline over the shipped knowledge/, imported into the test database, with no trained NLU: retrieval over
 * the knowledge alone must route what a test asks. Entities are read as the server reads them (rules, not a model).
 */
export async function shippedKnowledgePipeline(options: Partial<Omit<PipelineDeps, 'understander' | 'knowledge'>> = {}): Promise<ConversationPipeline> {
  await importKnowledgeDirectory(KNOWLEDGE_DIR, { by: 'test' });
  const knowledge = new KnowledgeBase();
  await knowledge.refreshIfChanged();
  const understander = new BlendedUnderstander(
    {
      classifyIntents: () => [],
      extractEntities: (text, now) => extractEntities(text, { now }).map(({ type, value, text: written }) => ({ type, value, text: written })),
      readEmotion: () => ({ label: 'none', intensity: 0, polarity: 'neutral' }),
    },
    knowledge,
  );
  return new ConversationPipeline({ understander, knowledge, config: loadWechatConfig(), events: new EventBus(), ...options });
}
