import type { UnderstandingCacheOptions } from '../conversation/understand';

/** Texts whose understanding a server instance keeps (a few KB each; see BlendedUnderstander). */
export const UNDERSTANDING_CACHE_ENTRIES = 10_000;

/** The cache over a knowledge base and its intent model: emptied when either changes. */
export function understandingCache(
  knowledge: { readonly revision: number },
  intents: { readonly current?: { readonly hash: string } },
): UnderstandingCacheOptions {
  return { entries: UNDERSTANDING_CACHE_ENTRIES, generation: () => `${knowledge.revision}/${intents.current?.hash ?? 'none'}` };
}
