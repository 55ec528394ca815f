import { currentKnowledgeRevision } from './importer';
import { Intent, KnowledgeRevisionNote, revisionNoteId, Scenario, Solution, SubIntent, type SolutionDoc } from './models';
import { solutionKey, type AgeBand, type CoolingOffPresumption, type LiveAnswerKind, type SolutionConditions, type SolutionVariants } from './source';
import { buildRetrievalIndex, type RetrievalDocument, type RetrievalIndex } from './retrieval';

/** How much longer than its longest phrasing a message may be and still get a topic's menu. */
export const MENU_SLACK_CHARS = 3;
/** A greeting or "may I ask" before the question ("你好，我想问下续保") does not make it a longer question. */
const LEADING_COURTESY = /^(?:你好|您好|哈喽|在吗|请问|麻烦(?:问)?(?:一)?下|我?想(?:问|咨询)(?:一)?下?|(?:问|咨询)(?:一)?下|我?想了解(?:一)?下?)+/;
/** Characters that carry content: punctuation, spaces and a leading courtesy do not make a message longer. */
const contentLength = (text: string) => [...text.replace(/[\s\p{P}\p{S}]/gu, '').replace(LEADING_COURTESY, '')].length;

export type TopicMenuReach = Array<{ id: string; maxLength: number }>;

/** The topic menus among these sub-intents, each with the longest message it still answers. */
export function topicMenuReach(subIntents: Iterable<{ id: string; name: string; questions: string[]; menu?: string[] }>): TopicMenuReach {
  return [...subIntents]
    .filter((s) => s.menu?.length)
    .map((s) => ({ id: s.id, maxLength: Math.max(...[s.name, ...s.questions].map(contentLength)) + MENU_SLACK_CHARS }));
}

/**
 * The menus a question is too long for. A topic menu answers only a message that is little more than the topic
 * ("理赔", "我要理赔怎么弄"): a short phrasing of it is contained in many longer questions ("女儿骨折了想申请理赔"),
 * which the specific sub-intents answer better.
 */
export function menusOutOfReach(reach: TopicMenuReach, question: string): Set<string> {
  const length = contentLength(question);
  return new Set(reach.filter((menu) => length > menu.maxLength).map((menu) => menu.id));
}

/**
 * A sub-intent as retrieval indexes it: its name first (a short canonical phrasing), then its phrasings, and its
 * generic answer, whose words help (a user often asks in the answer's terms, not the question's).
 */
export function retrievalDocumentFor(sub: { id: string; name: string; questions: readonly string[] }, genericAnswer: string | undefined): RetrievalDocument {
  return { id: sub.id, questions: [sub.name, ...sub.questions], answer: genericAnswer };
}

/** A sub-intent as the rest of the server sees it. */
export interface SubIntentSummary {
  id: string;
  scenarioId: string;
  intentId: string;
  name: string;
  sensitive: boolean;
  questions: string[];
  live?: LiveAnswerKind;
  /** Sub-intents its answer offers as numbered follow-ups. */
  menu?: string[];
  /** The side of the cooling-off period its answer presumes, and the sub-intent for the other side. */
  coolingOff?: CoolingOffPresumption;
  /** The ages its answer is written for, and the other sub-intents of its intent written for other ages. */
  forAges?: AgeBand;
  ageSiblings?: string[];
  /** A general answer that gives way to the sibling written for a stated age (its `ageSiblings`). */
  deferToAge?: true;
  /** True when every solution depends on the product, so the bot must know it before answering. */
  needsProduct: boolean;
  variants: SolutionVariants;
}

/**
 * Each sub-intent written for some ages, or deferring to them, learns those of its intent written for other ages, so
 * a stated age can find its answer.
 */
function linkAgeSiblings(subIntents: Iterable<SubIntentSummary>): void {
  const byIntent = new Map<string, SubIntentSummary[]>();
  const deferring: SubIntentSummary[] = [];
  for (const sub of subIntents) {
    if (sub.forAges) byIntent.set(sub.intentId, [...(byIntent.get(sub.intentId) ?? []), sub]);
    else if (sub.deferToAge) deferring.push(sub);
  }
  for (const banded of byIntent.values()) {
    for (const sub of banded) sub.ageSiblings = banded.filter((other) => other !== sub).map((other) => other.id);
  }
  for (const sub of deferring) sub.ageSiblings = (byIntent.get(sub.intentId) ?? []).map((other) => other.id);
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
 * What retrieval is built from — the published sub-intents and each one's generic answer — for a thread that only
 * understands (see understanding/): one answer per sub-intent, not every variant.
 */
export interface KnowledgeSnapshot {
  revision: number;
  subIntents: SubIntentSummary[];
  /** Sub-intent id → its generic answer's text. */
  genericAnswers: Array<[string, string]>;
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
  /** Topic menus by the longest message each still answers (see `menusOutOfReach`). */
  private menuReach: TopicMenuReach = [];
  /** Names of the published scenarios and intents, for what people read (hot issues, alerts). */
  private topicNames = new Map<string, string>();
  private refreshing: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly reloadListeners: Array<(subIntents: SubIntentSummary[]) => void> = [];
  /** What the last reload read: every published solution, or only those the revisions in between changed. */
  lastReload: { revision: number; solutionsRead: number; incremental: boolean } | undefined;

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
        ...(doc.menu?.length ? { menu: [...doc.menu] } : {}),
        ...(doc.coolingOff?.presumes && doc.coolingOff.otherwise
          ? { coolingOff: { presumes: doc.coolingOff.presumes as CoolingOffPresumption['presumes'], otherwise: doc.coolingOff.otherwise } }
          : {}),
        ...(doc.forAges && typeof doc.forAges.from === 'number' && typeof doc.forAges.to === 'number'
          ? { forAges: { from: doc.forAges.from, to: doc.forAges.to } }
          : {}),
        ...(doc.deferToAge ? { deferToAge: true as const } : {}),
        needsProduct: !doc.solutionVariants.hasGeneric && (doc.solutionVariants.products ?? []).length > 0,
        variants: {
          hasGeneric: Boolean(doc.solutionVariants.hasGeneric), products: doc.solutionVariants.products ?? [],
          userStates: doc.solutionVariants.userStates ?? [], fallbackKey: doc.solutionVariants.fallbackKey ?? solutionKey(doc._id, {}),
        },
      });
    }
    linkAgeSiblings(subIntents.values());
    let changed = this.loadedRevision >= 0 ? await solutionsChangedBetween(this.loadedRevision, revision) : undefined;
    // A sub-intent published again whose answers did not change has answers this instance never loaded: read all.
    if (changed && [...subIntents.values()].some((sub) => !this.subIntents.has(sub.id) && !changed!.includes(sub.variants.fallbackKey))) changed = undefined;
    const solutions = changed ? await this.patchedSolutions(changed, subIntents) : await loadPublishedSolutions(subIntents);
    const topicNames = new Map<string, string>();
    const named = [
      ...(await Scenario.find({ status: 'published' }, { name: 1 }).lean<Array<{ _id: string; name: string }>>()),
      ...(await Intent.find({ status: 'published' }, { name: 1 }).lean<Array<{ _id: string; name: string }>>()),
    ];
    for (const doc of named) topicNames.set(doc._id, doc.name);
    this.topicNames = topicNames;
    this.install(revision, subIntents, solutions);
    this.lastReload = { revision, solutionsRead: changed ? changed.length : solutions.size, incremental: Boolean(changed) };
    return true;
  }

  /** The published sub-intents and their generic answers, as of the loaded revision. */
  snapshot(): KnowledgeSnapshot {
    const genericAnswers: Array<[string, string]> = [];
    for (const sub of this.subIntents.values()) {
      const text = this.genericAnswer(sub);
      if (text !== undefined) genericAnswers.push([sub.id, text]);
    }
    return { revision: this.loadedRevision, subIntents: [...this.subIntents.values()], genericAnswers };
  }

  /** Serves a snapshot taken from another KnowledgeBase, reading no database (its only answers are the generic ones). */
  load(snapshot: KnowledgeSnapshot): void {
    const subIntents = new Map(snapshot.subIntents.map((sub) => [sub.id, sub]));
    const solutions = new Map<string, PublishedSolution>();
    for (const [subIntentId, text] of snapshot.genericAnswers) {
      const id = solutionKey(subIntentId, {});
      solutions.set(id, { id, subIntentId, name: subIntents.get(subIntentId)?.name ?? subIntentId, text, conditions: NO_CONDITIONS });
    }
    this.install(snapshot.revision, subIntents, solutions);
  }

  private genericAnswer(sub: SubIntentSummary, solutions: ReadonlyMap<string, PublishedSolution> = this.solutions): string | undefined {
    return sub.variants.hasGeneric ? solutions.get(solutionKey(sub.id, {}))?.text : undefined;
  }

  private install(revision: number, subIntents: Map<string, SubIntentSummary>, solutions: Map<string, PublishedSolution>): void {
    this.index = buildRetrievalIndex([...subIntents.values()].map((s) => retrievalDocumentFor(s, this.genericAnswer(s, solutions))));
    this.subIntents = subIntents;
    this.solutions = solutions;
    this.menuReach = topicMenuReach(subIntents.values());
    this.loadedRevision = revision;
    const list = [...subIntents.values()];
    for (const listener of this.reloadListeners) listener(list);
  }

  /**
   * The solutions as they were, with the changed ones read again (one `_id` lookup each) and those of sub-intents
   * no longer published dropped.
   */
  private async patchedSolutions(changed: readonly string[], subIntents: ReadonlyMap<string, SubIntentSummary>): Promise<Map<string, PublishedSolution>> {
    const solutions = new Map(this.solutions);
    for (const id of changed) {
      const doc = await Solution.findById(id, { ...SOLUTION_PROJECTION, status: 1 }).lean<SolutionDoc & { status: string }>();
      if (doc && doc.status === 'published' && subIntents.has(doc.subIntentId)) solutions.set(id, compactSolution(doc));
      else solutions.delete(id);
    }
    for (const [id, solution] of solutions) if (!subIntents.has(solution.subIntentId)) solutions.delete(id);
    return solutions;
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

  /** The name of a published scenario or intent (by its id), as of the loaded revision. */
  topicName(id: string): string | undefined {
    return this.topicNames.get(id);
  }

  getSubIntent(id: string): SubIntentSummary | undefined {
    return this.subIntents.get(id);
  }

  allSubIntents(): SubIntentSummary[] {
    return [...this.subIntents.values()];
  }

  /** Ranked sub-intents for a user question, best first (topic menus only within their reach). */
  search(question: string, options: SearchOptions = {}): RankedSubIntent[] {
    const exclude = menusOutOfReach(this.menuReach, question);
    const hits = this.index.search(question, options.k ?? 5, { classifierScores: options.classifierScores, exclude });
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

const SOLUTION_PROJECTION = { subIntentId: 1, name: 1, text: 1, rich: 1, conditions: 1 };
/** Above this many changed solutions one pass over all of them is cheaper than a lookup each. */
const MAX_SOLUTIONS_PATCHED = 200;
/** Above this many revisions behind, reload everything rather than read each revision's note. */
const MAX_REVISIONS_PATCHED = 50;

/** Every published solution of a published sub-intent: one cursor pass, not a lookup per sub-intent. */
async function loadPublishedSolutions(subIntents: ReadonlyMap<string, SubIntentSummary>): Promise<Map<string, PublishedSolution>> {
  const solutions = new Map<string, PublishedSolution>();
  for await (const doc of Solution.find({ status: 'published' }, SOLUTION_PROJECTION).lean<SolutionDoc[]>().cursor()) {
    if (subIntents.has(doc.subIntentId)) solutions.set(doc._id, compactSolution(doc));
  }
  return solutions;
}

/**
 * The solutions changed after revision `from` up to `to`, from the revisions' notes; undefined when a note is
 * missing (published before notes existed) or says "too many", or when the list is long: then reload everything.
 */
async function solutionsChangedBetween(from: number, to: number): Promise<string[] | undefined> {
  if (to <= from || to - from > MAX_REVISIONS_PATCHED) return undefined;
  const changed = new Set<string>();
  for (let revision = from + 1; revision <= to; revision++) {
    const note = await KnowledgeRevisionNote.findById(revisionNoteId(revision)).lean();
    if (!note?.solutionIds) return undefined;
    for (const id of note.solutionIds) changed.add(id);
    if (changed.size > MAX_SOLUTIONS_PATCHED) return undefined;
  }
  return [...changed];
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
