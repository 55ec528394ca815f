import { NlpManager } from 'node-nlp';
import { segment } from './segmenter';
import type { LabelledText } from './intent-classifier';

/**
 * node-nlp used as a newcomer would (language zh, NlpManager, its own tokenizer and "stemmer", which turns
 * Chinese words into English glosses or pinyin) — the anchor our classifier is measured against — and the
 * same NlpManager with jieba plugged into its pipeline, to measure what segmentation alone brings.
 */
export type NlpjsTokenizer = 'nlpjs' | 'jieba';

/** A jieba tokenizer registered as node-nlp's `tokenizer-zh`. */
export const jiebaTokenizer = {
  tokenize: (text: string): string[] => segment(text),
};

/** Replaces `stemmer-zh` (gloss/pinyin) by identity: jieba's words are the features. */
export const identityStemmer = {
  stem: (text: string, input?: { tokens?: string[] }): string[] => input?.tokens ?? segment(text),
};

/** Plugs jieba into a node-nlp container: its zh tokenizer and stemmer are replaced. */
export function useJieba(manager: NlpManager): void {
  manager.container.register('tokenizer-zh', jiebaTokenizer, true);
  manager.container.register('stemmer-zh', identityStemmer, true);
}

export interface NlpjsEngine {
  train(examples: readonly LabelledText[]): Promise<void>;
  classify(text: string): Promise<{ label: string; confidence: number }>;
}

export function createNlpjsEngine(tokenizer: NlpjsTokenizer = 'nlpjs'): NlpjsEngine {
  const manager = new NlpManager({ languages: ['zh'], forceNER: false, autoSave: false, nlu: { log: false } });
  if (tokenizer === 'jieba') useJieba(manager);
  return {
    async train(examples) {
      for (const { text, label } of examples) manager.addDocument('zh', text, label);
      await manager.train();
    },
    async classify(text) {
      const result = await manager.process('zh', text);
      return { label: result.intent === 'None' ? 'none' : result.intent, confidence: result.score };
    },
  };
}
