import type { Understanding } from '../conversation/types';

/** What the understanding worker is started with. */
export interface UnderstandingWorkerData {
  mongodbUri: string;
  modelDir: string;
  knowledgeRefreshMs: number;
  logLevel: string;
}

export interface UnderstandingRequest {
  id: number;
  text: string;
  /** Epoch milliseconds (dates in entities are read relative to it). */
  now: number;
}

export type UnderstandingReply =
  | { ready: true }
  | { id: number; understanding: Understanding }
  | { id: number; error: string };
