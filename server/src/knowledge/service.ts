import { currentKnowledgeRevision } from './importer';
import { Solution, SubIntent, type SolutionDoc } from './models';
import { solutionKey, type LiveAnswerKind, type SolutionConditions, type SolutionVariants } from './source';
import { buildRetrievalIndex, type RetrievalIndex } from './retrieval';

/** A sub-intent as the rest of the server sees it. */
export interface SubIntentSummary {
  id: string;
  scenarioId: string;
  intentId: string;
  name: string;
  sensitive: boolean;
  questions: string[];
  live?: LiveAnswerKind;
  /** True when every solution depends on the product, so the bot must know it before answering. */
  needsProduct: boolean;
  variants: SolutionVariants;
}

export interface RankedSubIntent extends SubIntentSummary {
  /** Calibrated: roughly the probability that this is the right sub-intent. */
  confidence: number;
  score: number;
  matchedQuestion: string;
}

export type PublishedSolution = Pick<SolutionDoc, 'name' | 'text' | 'rich' | 'conditions' | 'subIntentId'> & { id: string };

export interface SearchOptions {
  k?: number;
  /** The intent model's probabilities per sub-intent id, blended into the ranking. */
  classifierScores?: Map<string, number>;
}

/**
 * The published knowledge as this instance serves it: an in-memory retrieval index over sub-intents and the published
 * solutions keyed by their selection key, both rebuilt when the store's revision moves (so an edit anywhere reaches
 * every instance without a restart). Answer selection never waits on the database: one lookup per question would
 * be a round trip on MongoDB and, on FerretDB, a scan of the whole solutions table (it does not use the `_id` index).
 */
export class KnowledgeBase {
  private index: RetrievalIndex = buildRetrievalIndex([]);
  private subIntents = new Map<string, SubIntentSummary>();
  /** Published solutions by selection key (`_id`); derived from the store, replaced whole on every reload. */
  private solutions = new Map<string, PublishedSolution>();
  private loadedRevision = -1;
  private refreshing: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly reloadListeners: Array<(subIntents: SubIntentSummary[]) => void> = [];

  get revision(): number {
    return this.loadedRevision;
  }

  get size(): number {
    return this.subIntents.size;
  }

  onReload(listener: (subIntents: SubIntentSummary[]) => void): void {
    this.reloadListeners.push(listener);
  }

  /** Reloads when the stored revision differs from the loaded one; true when it reloaded. */
  refreshIfChanged(): Promise<boolean> {
    this.refreshing ??= this.refresh().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  private async refresh(): Promise<boolean> {
    const revision = await currentKnowledgeRevision();
    if (revision === this.loadedRevision) return false;
    const subIntents = new Map<string, SubIntentSummary>();
    for await (const doc of SubIntent.find({ status: 'published' }).lean().cursor()) {
      subIntents.set(doc._id, {
        id: doc._id, scenarioId: doc.scenarioId, intentId: doc.intentId, name: doc.name,
        sensitive: Boolean(doc.sensitive), questions: doc.questions, ...(doc.live ? { live: doc.live as LiveAnswerKind } : {}),
        needsProduct: !doc.solutionVariants.hasGeneric && (doc.solutionVariants.products ?? []).length > 0,
        variants: {
          hasGeneric: Boolean(doc.solutionVariants.hasGeneric), products: doc.solutionVariants.products ?? [],
          userStates: doc.solutionVariants.userStates ?? [], fallbackKey: doc.solutionVariants.fallbackKey ?? solutionKey(doc._id, {}),
        },
      });
    }
    // One pass over the published solutions (a cursor, not a lookup per sub-intent).
    const solutions = new Map<string, PublishedSolution>();
    const projection = { subIntentId: 1, name: 1, text: 1, rich: 1, conditions: 1 };
    for await (const doc of Solution.find({ status: 'published' }, projection).lean<SolutionDoc[]>().cursor()) {
      if (!subIntents.has(doc.subIntentId)) continue;
      solutions.set(doc._id, compactSolution(doc));
    }
    // The generic answer's words help retrieval (a user often asks in the answer's terms, not the question's).
    this.index = buildRetrievalIndex(
      [...subIntents.values()].map((s) => ({
        id: s.id, questions: [s.name, ...s.questions], answer: s.variants.hasGeneric ? solutions.get(solutionKey(s.id, {}))?.text : undefined,
      })),
    );
    this.subIntents = subIntents;
    this.solutions = solutions;
    this.loadedRevision = revision;
    const list = [...subIntents.values()];
    for (const listener of this.reloadListeners) listener(list);
    return true;
  }

  /** Polls the revision so edits made through any instance (or an import) are picked up. */
  startAutoRefresh(intervalMs: number, onError: (err: unknown) => void): void {
    this.stopAutoRefresh();
    this.timer = setInterval(() => { this.refreshIfChanged().catch(onError); }, intervalMs);
    this.timer.unref();
  }

  stopAutoRefresh(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  getSubIntent(id: string): SubIntentSummary | undefined {
    return this.subIntents.get(id);
  }

  allSubIntents(): SubIntentSummary[] {
    return [...this.subIntents.values()];
  }

  /** Ranked sub-intents for a user question, best first. */
  search(question: string, options: SearchOptions = {}): RankedSubIntent[] {
    const hits = this.index.search(question, options.k ?? 5, { classifierScores: options.classifierScores });
    const ranked: RankedSubIntent[] = [];
    for (const hit of hits) {
      const summary = this.subIntents.get(hit.id);
      if (summary) ranked.push({ ...summary, confidence: hit.confidence, score: hit.score, matchedQuestion: hit.matchedQuestion });
    }
    return ranked;
  }

  /**
   * The solution for a sub-intent under the user's circumstances: the most specific variant that exists
   * (product + user state, then product, then user state, then the generic one, then any), from memory.
   */
  async selectSolution(subIntentId: string, context: SolutionConditions = {}): Promise<PublishedSolution | undefined> {
    const variants = this.subIntents.get(subIntentId)?.variants;
    if (!variants) return undefined;
    const product = context.product && variants.products.includes(context.product) ? context.product : undefined;
    const userState = context.userState && variants.userStates.includes(context.userState) ? context.userState : undefined;
    const candidates = [
      product && userState ? solutionKey(subIntentId, { product, userState }) : undefined,
      product ? solutionKey(subIntentId, { product }) : undefined,
      userState ? solutionKey(subIntentId, { userState }) : undefined,
      variants.hasGeneric ? solutionKey(subIntentId, {}) : undefined,
      variants.fallbackKey,
    ].filter((key, i, all): key is string => Boolean(key) && all.indexOf(key) === i);
    for (const key of candidates) {
      const solution = this.solutions.get(key);
      if (solution) return solution;
    }
    return undefined;
  }
}

/** One shared object for the many solutions that apply under no condition (780,000 solutions at an insurer's scale). */
const NO_CONDITIONS = Object.freeze({}) as SolutionDoc['conditions'];

/** A solution as it is held in memory: only what answering needs. */
function compactSolution(doc: SolutionDoc): PublishedSolution {
  const conditions = doc.conditions as SolutionConditions | undefined;
  const solution: PublishedSolution = {
    id: doc._id, subIntentId: doc.subIntentId, name: doc.name, text: doc.text,
    conditions: conditions && (conditions.product || conditions.userState) ? doc.conditions : NO_CONDITIONS,
  };
  if (doc.rich && (doc.rich.text || doc.rich.links?.length)) solution.rich = doc.rich;
  return solution;
}
