import { buildRetrievalIndex, type RetrievalDocument } from './retrieval';
import { menusOutOfReach, retrievalDocumentFor, topicMenuReach } from './service';
import type { KnowledgeSet } from './source';

/** A phrasing that, asked in other words, would be answered by another sub-intent. */
export interface PhrasingConflict {
  phrasing: string;
  own: string;
  answeredBy: string;
  confidence: number;
}

export interface KnowledgeCheckReport {
  phrasings: number;
  /** Phrasings whose own sub-intent still ranks first without them. */
  ownFirst: number;
  /** Phrasings another sub-intent would answer at or above the confidence the bot answers at. */
  conflicts: PhrasingConflict[];
  /** The conflicts grouped by (own → answered by), most first. */
  pairs: Array<{ own: string; answeredBy: string; count: number; phrasings: string[] }>;
}

/** Retrieval documents as the served knowledge base indexes them: name and phrasings, and the generic answer. */
export function retrievalDocumentsOf(set: KnowledgeSet): RetrievalDocument[] {
  const generic = new Map<string, string>();
  for (const solution of set.solutions) {
    if (!solution.conditions.product && !solution.conditions.userState) generic.set(solution.subIntentId, solution.text);
  }
  return set.subIntents.map((sub) => retrievalDocumentFor(sub, generic.get(sub.id)));
}

/**
 * Which phrasings of the knowledge would go to another sub-intent if a user asked them in words not in the
 * knowledge: each phrasing is left out of its sub-intent in turn and asked (retrieval alone, as in the served
 * ranking with topic menus; the trained intent model, which is blended in when serving, is not). A conflict is a
 * confident wrong answer: two sub-intents that overlap, or one that needs more phrasings.
 */
export function checkKnowledge(set: KnowledgeSet, options: { answerConfidence: number }): KnowledgeCheckReport {
  const documents = retrievalDocumentsOf(set);
  const index = buildRetrievalIndex(documents);
  const reach = topicMenuReach(set.subIntents);
  const conflicts: PhrasingConflict[] = [];
  let phrasings = 0;
  let ownFirst = 0;
  for (const document of documents) {
    // questions[0] is the name (retrievalDocumentFor), which always stays: a sub-intent is never left without a question.
    for (const phrasing of new Set(document.questions.slice(1))) {
      if (phrasing === document.questions[0]) continue;
      phrasings++;
      index.upsert({ ...document, questions: document.questions.filter((q) => q !== phrasing) });
      const [top] = index.search(phrasing, 1, { exclude: menusOutOfReach(reach, phrasing) });
      index.upsert(document);
      if (top?.id === document.id) ownFirst++;
      else if (top && top.confidence >= options.answerConfidence) {
        conflicts.push({ phrasing, own: document.id, answeredBy: top.id, confidence: top.confidence });
      }
    }
  }
  const byPair = new Map<string, KnowledgeCheckReport['pairs'][number]>();
  for (const conflict of conflicts) {
    const key = `${conflict.own}\n${conflict.answeredBy}`;
    const pair = byPair.get(key) ?? { own: conflict.own, answeredBy: conflict.answeredBy, count: 0, phrasings: [] };
    pair.count++;
    pair.phrasings.push(conflict.phrasing);
    byPair.set(key, pair);
  }
  const pairs = [...byPair.values()].sort((a, b) => b.count - a.count || a.own.localeCompare(b.own));
  return { phrasings, ownFirst, conflicts, pairs };
}
