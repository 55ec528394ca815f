import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline, type PipelineDeps } from '../../src/conversation/pipeline';
import type { PipelineResult } from '../../src/conversation/types';
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

/** Each text as the first message of a new Official Account follower (nothing carried over from another). */
export function asNewFollowers(pipeline: () => ConversationPipeline, prefix: string): (text: string) => Promise<PipelineResult> {
  let n = 0;
  return (text) => {
    n += 1;
    return pipeline().handle({ channel: 'official-account', userId: `u-${prefix}-${n}`, dedupeKey: `${prefix}-${n}`, kind: 'text', text, receivedAt: new Date() });
  };
}
