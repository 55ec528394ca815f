import { FILLER_WORDS, INSURANCE_SYNONYMS, TextAnalyzer, type AnalysedText, type TermPrior, type WeightedAnalysedText, type WordSegmenter } from './analyzer';
import { jiebaBackgroundPrior } from './background-prior';
import { applyCalibration, type ConfidenceCalibration, type ConfidenceFeatures } from './calibration';
import { growableInt32, Growable } from './growable';
import { SubsequenceMatcher } from './sequence-similarity';
import { TermChannel, UnitScores, type Bm25Parameters, type ChannelQuery, type TermChannelSnapshot } from './term-channel';

/** One retrievable thing: a sub-intent or FAQ entry with its user phrasings and, optionally, its answer. */
export interface RetrievalDocument {
  id: string;
  questions: string[];
  answer?: string;
  meta?: Record<string, string>;
}

export interface RetrievalHit {
  id: string;
  /** Ranking score (larger is better; comparable within one query only). */
  score: number;
  /** Calibrated probability that this hit is the right one (top-1 from the model; lower ranks get a share of the rest). */
  confidence: number;
  /** The document's question closest to the query (its first question when only the answer matched). */
  matchedQuestion: string;
  meta?: Record<string, string>;
}

export interface RetrievalSearchOptions {
  /** An external classifier's probabilities per document id, blended into the ranking and the confidence. */
  classifierScores?: ReadonlyMap<string, number>;
  /** Documents not to return for this query: the rest are ranked and calibrated among themselves (term statistics still count them). */
  exclude?: ReadonlySet<string>;
}

/**
 * How much each piece of evidence counts. Channel scores are each normalised by the query's IDF mass, so a weight is
 * "how much a full match on this channel is worth".
 */
export interface RankingWeights {
  /** BM25 over jieba words of the best-matching question. */
  questionWords: number;
  /** BM25 over character n-grams of the best-matching question. */
  questionNgrams: number;
  /** Character n-gram Dice between query and the best-matching question (rewards near-identical phrasing). */
  questionOverlap: number;
  /** LCS of query and question characters ÷ question length: the question's wording reappears, in order. */
  questionSequence: number;
  /** The same LCS ÷ query length: how much of what the user wrote that question accounts for. */
  querySequence: number;
  /** BM25 over the answer's words. */
  answerWords: number;
  /** BM25 over the answer's character n-grams. */
  answerNgrams: number;
  /** Bonus for evidence spread over several of a document's questions (sub-intents with many phrasings). */
  otherQuestions: number;
  /** Weight of an external classifier's probability. */
  classifier: number;
}

export const DEFAULT_RANKING_WEIGHTS: Readonly<RankingWeights> = {
  questionWords: 1,
  questionNgrams: 1,
  questionOverlap: 0.5,
  questionSequence: 0.7,
  querySequence: 1,
  answerWords: 0.3,
  answerNgrams: 0.3,
  otherQuestions: 0.1,
  classifier: 1,
};

/** A filler word in a query counts this much (see FILLER_WORDS); documents index filler at full weight. */
export const DEFAULT_FILLER_WEIGHT = 0.3;

/** Questions are short and near-uniform in length; answers vary a lot, so they get the full length penalty. */
export const DEFAULT_BM25: Readonly<{ question: Bm25Parameters; answer: Bm25Parameters }> = {
  question: { k1: 1.2, b: 0.5 },
  answer: { k1: 1.2, b: 0.75 },
};

/**
 * Logistic calibration fitted with `scripts/retrieval-experiment.ts --calibrate` on three labelled Chinese sets pooled
 * with equal weight (real insurance questions from Baidu Zhidao, and two intent sets used as retrieval with many
 * phrasings per document) plus, at half weight, general-domain requests asked of the insurance knowledge base, every
 * answer to which is wrong: without them the model never sees an out-of-scope question and trusts any lone match.
 * Pooled ECE 0.05–0.10 on the in-scope sets. Re-fit with `fitConfidenceCalibration` on a deployment's own labelled
 * questions, and after changing ranking weights (the features' scale moves with them).
 */
export const DEFAULT_CALIBRATION: Readonly<ConfidenceCalibration> = {
  intercept: -3.45,
  coefficients: { topScore: -0.72, relativeMargin: 4.63, questionOverlap: 2.32, sequenceSimilarity: 6.8, informativeCoverage: 0.22 },
};

export interface RetrievalIndexOptions {
  segment?: WordSegmenter;
  synonyms?: ReadonlyArray<readonly [string, string]>;
  fillerWords?: readonly string[];
  /** Character n-gram sizes (default bigrams and trigrams). */
  ngramSizes?: readonly number[];
  /**
   * Query-side word informativeness. Default: jieba's general-language IDF table when the default segmenter is used,
   * none when a segmenter is injected; `null` switches it off.
   */
  termPrior?: TermPrior | null;
  /** Whether n-grams inherit the prior of the words they come from (words always do). */
  priorOnNgrams?: boolean;
  /** Query-side weight of filler words (0: ignored unless the query is nothing else). */
  fillerWeight?: number;
  weights?: Partial<RankingWeights>;
  bm25?: Partial<{ question: Bm25Parameters; answer: Bm25Parameters }>;
  calibration?: ConfidenceCalibration;
}

export interface RetrievalIndexSnapshot {
  format: 'retrieval-index/1';
  synonyms: Array<[string, string]>;
  fillerWords: string[];
  ngramSizes: number[];
  /** 'custom' snapshots must be restored with the same `termPrior` function. */
  termPrior: 'jieba-idf' | 'none' | 'custom';
  priorOnNgrams: boolean;
  fillerWeight: number;
  weights: RankingWeights;
  bm25: { question: Bm25Parameters; answer: Bm25Parameters };
  calibration: ConfidenceCalibration;
  documents: RetrievalDocument[];
  questionWords: TermChannelSnapshot;
  questionNgrams: TermChannelSnapshot;
  answerWords: TermChannelSnapshot;
  answerNgrams: TermChannelSnapshot;
}

interface DocumentRecord {
  document: RetrievalDocument;
  /** Each question as a plain character sequence, for order-aware matching. */
  questionSurfaces: string[];
  slot: number;
  questionUnits: number[];
  /** -1 when the document has no answer text. */
  answerUnit: number;
}

/** Evidence gathered for one candidate document during a search. */
interface Candidate {
  slot: number;
  score: number;
  bestQuestionUnit: number;
  questionOverlap: number;
  /** Positions (in the document's question list) of the questions that shared a term with the query. */
  matchedQuestions: number[];
  /** Order-aware similarity of the closest question in [0, 1] (0 until re-ranked). */
  sequenceSimilarity: number;
  /** Share of the query's informative word mass this candidate contains (measured for the top-1 only). */
  informativeCoverage: number;
}

/**
 * A field (questions or answers) indexed twice, by words and by n-grams, over one unit numbering, with each unit's
 * owning document slot.
 */
class Field {
  readonly words: TermChannel;
  readonly ngrams: TermChannel;
  owner: Growable<Int32Array> = growableInt32(1024);
  readonly scores = new UnitScores();

  constructor(bm25: Bm25Parameters) {
    this.words = new TermChannel(bm25);
    this.ngrams = new TermChannel(bm25);
  }

  add(slot: number, analysed: AnalysedText): number {
    this.words.addUnit(analysed.words);
    this.ngrams.addUnit(analysed.ngrams);
    return this.owner.push(slot);
  }

  remove(unit: number): void {
    this.words.removeUnit(unit);
    this.ngrams.removeUnit(unit);
  }

  get untidyShare(): number {
    const untidy = this.words.untidyPostings + this.ngrams.untidyPostings;
    return untidy / Math.max(1, this.words.frozenPostings + this.ngrams.frozenPostings);
  }

  get untidyPostings(): number {
    return this.words.untidyPostings + this.ngrams.untidyPostings;
  }
}

/** Rebuild the frozen postings when the delta and tombstones exceed this share of them (and this absolute size). */
const REBUILD_SHARE = 0.2;
const REBUILD_MIN_POSTINGS = 4096;
/** How many lexical candidates get the (costlier) order-aware re-scoring. */
const RERANK_DEPTH = 50;
/** Bound on the questions compared for a candidate none of whose questions shared a term with the query. */
const MAX_UNMATCHED_QUESTIONS_COMPARED = 32;

/**
 * In-memory retrieval over documents with several questions and an answer. Ranking, per document:
 *   max over its questions of (BM25 on words + BM25 on character n-grams + n-gram Dice)
 *   + a small bonus for further matching questions + BM25 on the answer (words, n-grams) + classifier probability,
 * then the top 50 re-scored with order-aware similarity (LCS) against each of their questions. Each term lookup
 * reads one posting list from typed arrays, so a query costs time in proportion to the postings of its terms, never
 * a scan over all documents.
 */
export class RetrievalIndex {
  private readonly analyzer: TextAnalyzer;
  private readonly weights: RankingWeights;
  private readonly bm25: { question: Bm25Parameters; answer: Bm25Parameters };
  private calibration: ConfidenceCalibration;
  private readonly synonyms: Array<[string, string]>;
  private readonly fillerWords: string[];
  private readonly ngramSizes: number[];
  private readonly termPriorKind: RetrievalIndexSnapshot['termPrior'];
  private readonly priorOnNgrams: boolean;
  private readonly fillerWeight: number;

  private questions: Field;
  private answers: Field;
  private readonly records = new Map<string, DocumentRecord>();
  private slotRecords: Array<DocumentRecord | undefined> = [];

  // Per-document accumulators for one search, indexed by slot.
  private questionBest = new Float64Array(0);
  private questionBestUnit = new Int32Array(0);
  private questionBestOverlap = new Float64Array(0);
  private questionSum = new Float64Array(0);
  private documentScore = new Float64Array(0);
  private slotSeen = new Uint8Array(0);
  private touchedSlots: number[] = [];
  // The question units each document matched, as linked lists (head per slot, next per unit): the re-ranker reads
  // only those, so a document with a thousand phrasings costs what its matching ones cost.
  private matchedQuestionHead = new Int32Array(0);
  private matchedQuestionNext = new Int32Array(0);

  constructor(options: RetrievalIndexOptions = {}) {
    this.synonyms = (options.synonyms ?? INSURANCE_SYNONYMS).map(([variant, canonical]) => [variant, canonical]);
    this.fillerWords = options.fillerWords ? [...options.fillerWords] : [...FILLER_WORDS];
    this.ngramSizes = options.ngramSizes ? [...options.ngramSizes] : [2, 3];
    this.priorOnNgrams = options.priorOnNgrams ?? true;
    this.fillerWeight = options.fillerWeight ?? DEFAULT_FILLER_WEIGHT;
    let termPrior: TermPrior | undefined;
    if (options.termPrior === null) this.termPriorKind = 'none';
    else if (options.termPrior) {
      this.termPriorKind = 'custom';
      termPrior = options.termPrior;
    } else if (options.segment) this.termPriorKind = 'none';
    else {
      this.termPriorKind = 'jieba-idf';
      termPrior = jiebaBackgroundPrior();
    }
    this.analyzer = new TextAnalyzer({
      termPrior,
      segment: options.segment ?? defaultSegmenter(),
      synonyms: this.synonyms,
      fillerWords: new Set(this.fillerWords),
      ngramSizes: this.ngramSizes,
      fillerWeight: this.fillerWeight,
    });
    this.weights = { ...DEFAULT_RANKING_WEIGHTS, ...options.weights };
    this.bm25 = { question: options.bm25?.question ?? DEFAULT_BM25.question, answer: options.bm25?.answer ?? DEFAULT_BM25.answer };
    this.calibration = options.calibration ?? DEFAULT_CALIBRATION;
    this.questions = new Field(this.bm25.question);
    this.answers = new Field(this.bm25.answer);
  }

  get size(): number {
    return this.records.size;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  get(id: string): Readonly<RetrievalDocument> | undefined {
    return this.records.get(id)?.document;
  }

  setCalibration(calibration: ConfidenceCalibration): void {
    this.calibration = calibration;
  }

  /** Adds a document, or replaces the one with the same id; no full rebuild. */
  upsert(document: RetrievalDocument): void {
    this.removeWithoutTidying(document.id);
    this.insert(document);
    this.tidyIfNeeded();
  }

  remove(id: string): boolean {
    const removed = this.removeWithoutTidying(id);
    if (removed) this.tidyIfNeeded();
    return removed;
  }

  /** Bulk load: add everything, then freeze the postings once. */
  addAll(documents: Iterable<RetrievalDocument>): void {
    for (const field of [this.questions, this.answers]) {
      field.words.beginBulkLoad();
      field.ngrams.beginBulkLoad();
    }
    for (const document of documents) {
      this.removeWithoutTidying(document.id);
      this.insert(document);
    }
    this.compact();
  }

  private insert(document: RetrievalDocument): void {
    const copy: RetrievalDocument = {
      id: document.id,
      questions: [...document.questions],
      ...(document.answer !== undefined ? { answer: document.answer } : {}),
      ...(document.meta ? { meta: { ...document.meta } } : {}),
    };
    const slot = this.slotRecords.length;
    const record: DocumentRecord = { document: copy, questionSurfaces: copy.questions.map((q) => this.analyzer.surface(q)), slot, questionUnits: [], answerUnit: -1 };
    for (const question of copy.questions) record.questionUnits.push(this.questions.add(slot, this.analyzer.analyse(question)));
    if (copy.answer && copy.answer.trim()) record.answerUnit = this.answers.add(slot, this.analyzer.analyse(copy.answer));
    this.slotRecords.push(record);
    this.records.set(copy.id, record);
  }

  private removeWithoutTidying(id: string): boolean {
    const record = this.records.get(id);
    if (!record) return false;
    for (const unit of record.questionUnits) this.questions.remove(unit);
    if (record.answerUnit >= 0) this.answers.remove(record.answerUnit);
    this.slotRecords[record.slot] = undefined;
    this.records.delete(id);
    return true;
  }

  private tidyIfNeeded(): void {
    for (const field of [this.questions, this.answers]) {
      if (field.untidyPostings > REBUILD_MIN_POSTINGS && field.untidyShare > REBUILD_SHARE) {
        this.compact();
        return;
      }
    }
  }

  /**
   * Renumbers slots and units densely (dropping removed ones) and moves every posting into the frozen typed arrays.
   * Costs one pass over stored term ids; no text is re-analysed.
   */
  compact(): void {
    const liveRecords = this.slotRecords.filter((r): r is DocumentRecord => r !== undefined);
    const keepQuestions: number[] = [];
    const keepAnswers: number[] = [];
    const questionOwner = growableInt32(this.questions.owner.length);
    const answerOwner = growableInt32(liveRecords.length);
    liveRecords.forEach((record, slot) => {
      record.slot = slot;
      record.questionUnits = record.questionUnits.map((unit) => {
        keepQuestions.push(unit);
        return questionOwner.push(slot);
      });
      if (record.answerUnit >= 0) {
        keepAnswers.push(record.answerUnit);
        record.answerUnit = answerOwner.push(slot);
      }
    });
    for (const [field, keep, owner] of [
      [this.questions, keepQuestions, questionOwner],
      [this.answers, keepAnswers, answerOwner],
    ] as const) {
      const order = Int32Array.from(keep);
      field.words.rebuild(order);
      field.ngrams.rebuild(order);
      field.owner = owner;
    }
    this.slotRecords = liveRecords;
  }

  search(query: string, k: number, options: RetrievalSearchOptions = {}): RetrievalHit[] {
    if (k <= 0) return [];
    const ranked = this.rank(query, Math.max(k, 2), options);
    if (ranked.length === 0) return [];
    return this.toHits(ranked.slice(0, k), ranked, options.classifierScores);
  }

  /** Exposed for calibration fitting: the features the confidence model sees for this query's top-1. */
  confidenceFeatures(query: string, options: RetrievalSearchOptions = {}): ConfidenceFeatures | undefined {
    const ranked = this.rank(query, 2, options);
    return ranked.length === 0 ? undefined : featuresOf(ranked);
  }

  /**
   * Lexical retrieval over the inverted indexes, then the best `RERANK_DEPTH` documents re-scored with order-aware
   * phrasing similarity against each of their questions (too costly for every document, cheap for fifty).
   */
  private rank(query: string, k: number, options: RetrievalSearchOptions): Candidate[] {
    const w = this.weights;
    const sequenceWeight = w.questionSequence + w.querySequence;
    const analysed = this.analyzer.analyseQuery(query);
    this.scoreDocuments(analysed, options.classifierScores);
    const shortlist = this.takeTopCandidates(sequenceWeight > 0 ? Math.max(k, RERANK_DEPTH) : k, options.exclude);
    if (shortlist.length === 0) return shortlist;
    if (sequenceWeight === 0) {
      this.measureCoverage(analysed, shortlist[0]);
      return shortlist;
    }
    const matcher = new SubsequenceMatcher(this.analyzer.surface(query));
    for (const candidate of shortlist) {
      const record = this.slotRecords[candidate.slot] as DocumentRecord;
      let bestSimilarity = 0;
      let bestQuestion = -1;
      // Questions that shared no term are compared only when none did (a document found by its answer alone).
      const positions =
        candidate.matchedQuestions.length > 0
          ? candidate.matchedQuestions
          : record.questionSurfaces.slice(0, MAX_UNMATCHED_QUESTIONS_COMPARED).map((_, i) => i);
      for (const i of positions) {
        const match = matcher.match(record.questionSurfaces[i]);
        const similarity = w.questionSequence * match.questionCoverage + w.querySequence * match.queryCoverage;
        // Ties go to the earlier question, whatever order the matches were collected in.
        if (similarity > bestSimilarity || (similarity === bestSimilarity && similarity > 0 && i < bestQuestion)) {
          bestSimilarity = similarity;
          bestQuestion = i;
        }
      }
      candidate.score += bestSimilarity;
      candidate.sequenceSimilarity = bestSimilarity / sequenceWeight;
      // The question that keeps most of the query's wording is the one to show.
      if (bestQuestion >= 0) candidate.bestQuestionUnit = record.questionUnits[bestQuestion];
    }
    shortlist.sort((a, b) => compareCandidates(a.score, this.idOfSlot(a.slot), b.score, this.idOfSlot(b.slot)));
    this.measureCoverage(analysed, shortlist[0]);
    return shortlist.slice(0, k);
  }

  /**
   * How much of the query's informative content the candidate actually contains, for the confidence: each distinct
   * query word weighs its IDF among questions times its general-language prior (filler scaled down), and counts as
   * matched when one of the candidate's matching questions, or its answer, has it. A word no question has gets the
   * largest IDF, so "航班延误补偿" against a knowledge base that never mentions flights keeps most of its mass
   * unmatched however well "补偿" matched. Only the top-1 is measured: a few short scans, no per-document storage.
   */
  private measureCoverage(analysed: WeightedAnalysedText, candidate: Candidate): void {
    const record = this.slotRecords[candidate.slot] as DocumentRecord;
    const weightOf = new Map<string, number>();
    analysed.words.forEach((word, i) => weightOf.set(word, Math.max(weightOf.get(word) ?? 0, analysed.wordWeights[i])));
    const questionWords = this.questions.words;
    const answerWords = this.answers.words;
    let total = 0;
    let matched = 0;
    for (const [word, weight] of weightOf) {
      const mass = weight * questionWords.termIdf(word);
      total += mass;
      const questionId = questionWords.liveTermId(word);
      let found = false;
      if (questionId !== undefined) {
        for (const position of candidate.matchedQuestions) {
          if (questionWords.unitHasTerm(record.questionUnits[position], questionId)) {
            found = true;
            break;
          }
        }
      }
      if (!found && record.answerUnit >= 0) {
        const answerId = answerWords.liveTermId(word);
        found = answerId !== undefined && answerWords.unitHasTerm(record.answerUnit, answerId);
      }
      if (found) matched += mass;
    }
    candidate.informativeCoverage = total > 0 ? matched / total : 0;
  }

  private idOfSlot(slot: number): string {
    return this.slotRecords[slot]?.document.id ?? '';
  }

  /** Fills the per-slot accumulators and `touchedSlots` with every document that matched at least one term. */
  private scoreDocuments(analysed: WeightedAnalysedText, classifierScores: ReadonlyMap<string, number> | undefined): void {
    const w = this.weights;
    this.ensureSlotCapacity(this.slotRecords.length);

    // Questions: per question unit, words + n-grams + n-gram Dice; a document keeps its best question.
    const ngramPriors = this.priorOnNgrams ? analysed.ngramWeights : undefined;
    const questionNgramQuery = this.questions.ngrams.prepareQuery(analysed.ngrams, ngramPriors);
    const questionWordQuery = this.questions.words.prepareQuery(analysed.words, analysed.wordWeights);
    this.scoreField(this.questions, questionWordQuery, questionNgramQuery, w.questionWords, w.questionNgrams);
    const questionScores = this.questions.scores;
    const queryNgramMass = questionNgramQuery.priorMass;
    const owner = this.questions.owner.data;
    if (this.matchedQuestionNext.length < this.questions.owner.length) {
      this.matchedQuestionNext = new Int32Array(Math.max(this.questions.owner.length, this.matchedQuestionNext.length * 2));
    }
    for (let i = 0; i < questionScores.touchedCount; i++) {
      const unit = questionScores.touched[i];
      const slot = owner[unit];
      this.matchedQuestionNext[unit] = this.matchedQuestionHead[slot];
      this.matchedQuestionHead[slot] = unit;
      const overlap = dice(questionScores.matchedNgrams[unit], queryNgramMass, this.questions.ngrams.distinctTermsOf(unit));
      const unitScore = questionScores.scores[unit] + w.questionOverlap * overlap;
      this.touchSlot(slot);
      this.questionSum[slot] += unitScore;
      if (unitScore > this.questionBest[slot]) {
        this.questionBest[slot] = unitScore;
        this.questionBestUnit[slot] = unit;
        this.questionBestOverlap[slot] = overlap;
      }
    }
    questionScores.reset();

    // Answers: one unit per document.
    this.scoreField(
      this.answers,
      this.answers.words.prepareQuery(analysed.words, analysed.wordWeights),
      this.answers.ngrams.prepareQuery(analysed.ngrams, ngramPriors),
      w.answerWords,
      w.answerNgrams,
    );
    const answerScores = this.answers.scores;
    const answerOwner = this.answers.owner.data;
    for (let i = 0; i < answerScores.touchedCount; i++) {
      const unit = answerScores.touched[i];
      const slot = answerOwner[unit];
      this.touchSlot(slot);
      this.documentScore[slot] += answerScores.scores[unit];
    }
    answerScores.reset();

    if (classifierScores && w.classifier !== 0) {
      for (const [id, probability] of classifierScores) {
        const record = this.records.get(id);
        if (!record || !Number.isFinite(probability)) continue;
        this.touchSlot(record.slot);
        this.documentScore[record.slot] += w.classifier * probability;
      }
    }

    for (const slot of this.touchedSlots) {
      const best = this.questionBest[slot];
      // Several matching phrasings are extra evidence, but with diminishing weight.
      this.documentScore[slot] += best + w.otherQuestions * Math.log1p(this.questionSum[slot] - best);
    }
  }

  /** The best `depth` touched documents as candidates (a bounded heap, no full sort), then clears the accumulators. */
  private takeTopCandidates(depth: number, exclude: ReadonlySet<string> | undefined): Candidate[] {
    const scores = this.documentScore;
    // Min-heap on (score, then reverse id) so the root is the weakest kept document.
    const heap: number[] = [];
    const weaker = (a: number, b: number) => compareCandidates(scores[a], this.idOfSlot(a), scores[b], this.idOfSlot(b)) > 0;
    for (const slot of this.touchedSlots) {
      if (exclude?.size && exclude.has(this.idOfSlot(slot))) continue;
      if (heap.length < depth) {
        heap.push(slot);
        siftUp(heap, heap.length - 1, weaker);
      } else if (depth > 0 && weaker(heap[0], slot)) {
        heap[0] = slot;
        siftDown(heap, 0, weaker);
      }
    }
    const candidates = heap.map((slot): Candidate => {
      const record = this.slotRecords[slot] as DocumentRecord;
      const matchedQuestions: number[] = [];
      // A document's question units are consecutive, so a unit's position in its list is an offset from the first.
      for (let unit = this.matchedQuestionHead[slot]; unit >= 0; unit = this.matchedQuestionNext[unit]) {
        matchedQuestions.push(unit - record.questionUnits[0]);
      }
      return {
        slot,
        score: scores[slot],
        bestQuestionUnit: this.questionBestUnit[slot],
        questionOverlap: this.questionBestOverlap[slot],
        matchedQuestions,
        sequenceSimilarity: 0,
        informativeCoverage: 0,
      };
    });
    for (const slot of this.touchedSlots) {
      this.matchedQuestionHead[slot] = -1;
      this.documentScore[slot] = 0;
      this.questionBest[slot] = 0;
      this.questionBestUnit[slot] = -1;
      this.questionBestOverlap[slot] = 0;
      this.questionSum[slot] = 0;
      this.slotSeen[slot] = 0;
    }
    this.touchedSlots = [];
    candidates.sort((a, b) => compareCandidates(a.score, this.idOfSlot(a.slot), b.score, this.idOfSlot(b.slot)));
    return candidates;
  }

  private scoreField(field: Field, words: ChannelQuery, ngrams: ChannelQuery, wordWeight: number, ngramWeight: number): void {
    field.scores.ensureCapacity(field.owner.length);
    field.words.scoreInto(words, field.scores, wordWeight, false);
    field.ngrams.scoreInto(ngrams, field.scores, ngramWeight, true);
  }

  private touchSlot(slot: number): void {
    if (this.slotSeen[slot] === 0) {
      this.slotSeen[slot] = 1;
      this.touchedSlots.push(slot);
    }
  }

  private ensureSlotCapacity(slots: number): void {
    if (this.slotSeen.length >= slots) return;
    const capacity = Math.max(slots, this.slotSeen.length * 2, 64);
    this.questionBest = new Float64Array(capacity);
    this.questionBestUnit = new Int32Array(capacity).fill(-1);
    this.questionBestOverlap = new Float64Array(capacity);
    this.questionSum = new Float64Array(capacity);
    this.documentScore = new Float64Array(capacity);
    this.slotSeen = new Uint8Array(capacity);
    this.matchedQuestionHead = new Int32Array(capacity).fill(-1);
  }

  private toHits(top: Candidate[], ranked: Candidate[], classifierScores: ReadonlyMap<string, number> | undefined): RetrievalHit[] {
    const features = featuresOf(ranked);
    let topConfidence = applyCalibration(this.calibration, features);
    // Until a joint calibration exists, a classifier's opinion moves confidence half-way towards its probability
    // (an id missing from its top-k counts as 0: the classifier did not back it).
    if (classifierScores && classifierScores.size > 0) {
      const classifierTop = classifierScores.get(this.idOfSlot(top[0].slot)) ?? 0;
      topConfidence = (topConfidence + Math.min(1, Math.max(0, classifierTop))) / 2;
    }
    const restScore = top.slice(1).reduce((sum, c) => sum + Math.max(c.score, 0), 0);
    return top.map((candidate, rank) => {
      const record = this.slotRecords[candidate.slot] as DocumentRecord;
      const matchedQuestion =
        candidate.bestQuestionUnit >= 0
          ? record.document.questions[record.questionUnits.indexOf(candidate.bestQuestionUnit)] ?? record.document.questions[0] ?? ''
          : record.document.questions[0] ?? '';
      // Lower ranks share the top-1's missing probability mass in proportion to their scores, but never above the
      // top-1's confidence scaled by their score: a lone runner-up must not look surer than the winner.
      const share = restScore > 0 ? ((1 - topConfidence) * Math.max(candidate.score, 0)) / restScore : 0;
      const scaled = top[0].score > 0 ? (topConfidence * Math.max(candidate.score, 0)) / top[0].score : 0;
      const confidence = rank === 0 ? topConfidence : Math.min(share, scaled);
      return {
        id: record.document.id,
        score: candidate.score,
        confidence,
        matchedQuestion,
        ...(record.document.meta ? { meta: { ...record.document.meta } } : {}),
      };
    });
  }

  /** A plain-JSON snapshot (compacts first, so the numbering it records is dense); `JSON.stringify(index)` works. */
  toJSON(): RetrievalIndexSnapshot {
    this.compact();
    const liveRecords = this.slotRecords as DocumentRecord[];
    const questionUnits = Int32Array.from(liveRecords.flatMap((r) => r.questionUnits));
    const answerUnits = Int32Array.from(liveRecords.filter((r) => r.answerUnit >= 0).map((r) => r.answerUnit));
    return {
      format: 'retrieval-index/1',
      synonyms: this.synonyms,
      fillerWords: this.fillerWords,
      ngramSizes: this.ngramSizes,
      termPrior: this.termPriorKind,
      priorOnNgrams: this.priorOnNgrams,
      fillerWeight: this.fillerWeight,
      weights: { ...this.weights },
      bm25: { question: { ...this.bm25.question }, answer: { ...this.bm25.answer } },
      calibration: this.calibration,
      documents: liveRecords.map((r) => r.document),
      questionWords: this.questions.words.snapshot(questionUnits),
      questionNgrams: this.questions.ngrams.snapshot(questionUnits),
      answerWords: this.answers.words.snapshot(answerUnits),
      answerNgrams: this.answers.ngrams.snapshot(answerUnits),
    };
  }

  /** Restores a snapshot without re-segmenting any text (only future upserts and queries use the segmenter). */
  static fromJSON(snapshot: RetrievalIndexSnapshot, options: Pick<RetrievalIndexOptions, 'segment' | 'termPrior'> = {}): RetrievalIndex {
    if (snapshot.format !== 'retrieval-index/1') throw new Error(`unknown retrieval index format: ${String(snapshot.format)}`);
    if (snapshot.termPrior === 'custom' && !options.termPrior) throw new Error('this snapshot was built with a custom termPrior: pass it to fromJSON');
    const termPrior =
      snapshot.termPrior === 'custom' ? options.termPrior : snapshot.termPrior === 'jieba-idf' ? jiebaBackgroundPrior() : null;
    const index = new RetrievalIndex({
      segment: options.segment,
      termPrior,
      priorOnNgrams: snapshot.priorOnNgrams,
      fillerWeight: snapshot.fillerWeight,
      synonyms: snapshot.synonyms,
      fillerWords: snapshot.fillerWords,
      ngramSizes: snapshot.ngramSizes,
      weights: snapshot.weights,
      bm25: snapshot.bm25,
      calibration: snapshot.calibration,
    });
    index.questions = restoreField(snapshot.questionWords, snapshot.questionNgrams, snapshot.bm25.question);
    index.answers = restoreField(snapshot.answerWords, snapshot.answerNgrams, snapshot.bm25.answer);
    snapshot.documents.forEach((document, slot) => {
      const record: DocumentRecord = { document, questionSurfaces: document.questions.map((q) => index.analyzer.surface(q)), slot, questionUnits: [], answerUnit: -1 };
      for (let i = 0; i < document.questions.length; i++) record.questionUnits.push(index.questions.owner.push(slot));
      if (document.answer && document.answer.trim()) record.answerUnit = index.answers.owner.push(slot);
      index.slotRecords.push(record);
      index.records.set(document.id, record);
    });
    return index;
  }
}

function restoreField(words: TermChannelSnapshot, ngrams: TermChannelSnapshot, bm25: Bm25Parameters): Field {
  const field = new Field(bm25);
  (field as { words: TermChannel }).words = TermChannel.fromSnapshot(words, bm25);
  (field as { ngrams: TermChannel }).ngrams = TermChannel.fromSnapshot(ngrams, bm25);
  return field;
}

function dice(matched: number, queryTerms: number, unitTerms: number): number {
  const total = queryTerms + unitTerms;
  return total > 0 ? (2 * matched) / total : 0;
}

function featuresOf(ranked: Candidate[]): ConfidenceFeatures {
  const top = ranked[0];
  const second = ranked[1];
  const topScore = top.score;
  // Relative to the top score, but never to less than one full channel match (≈1): a lone faint match (nothing
  // else touched the query) is no clear winner, though top ÷ top would call it one.
  const relativeMargin = topScore > 0 ? (topScore - Math.max(second?.score ?? 0, 0)) / Math.max(topScore, 1) : 0;
  return {
    topScore,
    relativeMargin,
    questionOverlap: top.questionOverlap,
    sequenceSimilarity: top.sequenceSimilarity,
    informativeCoverage: top.informativeCoverage,
  };
}

/** Orders by score (higher first), then id, so equal scores rank the same way in every index. */
function compareCandidates(scoreA: number, idA: string, scoreB: number, idB: string): number {
  if (scoreA !== scoreB) return scoreB - scoreA;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

function siftUp(heap: number[], index: number, weaker: (a: number, b: number) => boolean): void {
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (!weaker(heap[index], heap[parent])) return;
    [heap[index], heap[parent]] = [heap[parent], heap[index]];
    index = parent;
  }
}

function siftDown(heap: number[], index: number, weaker: (a: number, b: number) => boolean): void {
  for (;;) {
    const left = 2 * index + 1;
    const right = left + 1;
    let weakest = index;
    if (left < heap.length && weaker(heap[left], heap[weakest])) weakest = left;
    if (right < heap.length && weaker(heap[right], heap[weakest])) weakest = right;
    if (weakest === index) return;
    [heap[index], heap[weakest]] = [heap[weakest], heap[index]];
    index = weakest;
  }
}

let sharedSegmenter: WordSegmenter | undefined;

/** The server's jieba segmenter, loaded on first use so tests that inject their own never pay for the dictionary. */
function defaultSegmenter(): WordSegmenter {
  if (!sharedSegmenter) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { segment } = require('../../nlu/segmenter') as { segment: WordSegmenter };
    sharedSegmenter = segment;
  }
  return sharedSegmenter;
}

export function buildRetrievalIndex(documents: Iterable<RetrievalDocument>, options: RetrievalIndexOptions = {}): RetrievalIndex {
  const index = new RetrievalIndex(options);
  index.addAll(documents);
  return index;
}
