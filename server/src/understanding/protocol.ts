import type { Understanding } from '../conversation/types';
import type { KnowledgeSnapshot } from '../knowledge/service';
import type { IntentModelState } from '../nlu/intent-model-holder';

/** What the understanding worker is started with. */
export interface UnderstandingWorkerData {
  knowledge: KnowledgeSnapshot;
  modelDir: string;
  logLevel: string;
}

/** Serving thread → worker: a message to understand, or the knowledge after a reload. */
export type UnderstandingRequest =
  | { type: 'understand'; id: number; text: string; /** Epoch milliseconds (dates in entities are read relative to it). */ now: number }
  | { type: 'knowledge'; snapshot: KnowledgeSnapshot };

export type UnderstandingReply =
  | { ready: true }
  | { intentModel: IntentModelState }
  | { id: number; understanding: Understanding }
  | { id: number; error: string };
