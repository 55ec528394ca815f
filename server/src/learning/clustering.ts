import { TextAnalyzer, type WordSegmenter } from '../knowledge/retrieval';

/**
 * Groups questions that ask the same thing: TF-IDF vectors over the retrieval analyzer's terms (content words and
 * character bigrams, so "疫苗反应" meets "打疫苗后的反应" and misspellings still overlap), cosine similarity to
 * each cluster's centroid, leader clustering with one reassignment pass. Existing clusters (candidates under
 * review, approved or rejected) are seeds: their new phrasings join them instead of forming a duplicate.
 */

export interface ClusterQuestion {
  id: string;
  text: string;
}

export interface SeedCluster {
  id: string;
  texts: string[];
}

export interface ClusteringOptions {
  /** Cosine similarity to a centroid needed to join it. */
  similarity: number;
  /** A new cluster needs this many distinct phrasings to be proposed. */
  minClusterSize: number;
}

export interface ClusteringResult {
  /** Question id → seed cluster id it joined. */
  joined: Map<string, string>;
  /** New clusters big enough to propose: member ids, and the most typical member first. */
  formed: Array<{ memberIds: string[] }>;
}

type Vector = Map<string, number>;

export function createQuestionAnalyzer(segment: WordSegmenter): (text: string) => string[] {
  const analyzer = new TextAnalyzer({ segment, ngramSizes: [2] });
  return (text) => {
    const { words, ngrams } = analyzer.analyse(text);
    return [...words.map((w) => `w:${w}`), ...ngrams.map((g) => `g:${g}`)];
  };
}

function normalise(vector: Vector): Vector {
  let norm = 0;
  for (const v of vector.values()) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  const out: Vector = new Map();
  for (const [term, v] of vector) out.set(term, v / norm);
  return out;
}

function dot(a: Vector, b: Vector): number {
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [term, v] of small) {
    const w = large.get(term);
    if (w !== undefined) sum += v * w;
  }
  return sum;
}

class Centroid {
  private readonly sum: Vector = new Map();
  private cached: Vector | undefined;
  readonly members: string[] = [];

  constructor(readonly id: string, readonly seeded: boolean) {}

  add(memberId: string | undefined, vector: Vector): void {
    for (const [term, v] of vector) this.sum.set(term, (this.sum.get(term) ?? 0) + v);
    if (memberId !== undefined) this.members.push(memberId);
    this.cached = undefined;
  }

  get vector(): Vector {
    this.cached ??= normalise(this.sum);
    return this.cached;
  }
}

/** The normalised text used to count distinct phrasings. */
export const phrasingKey = (text: string) => text.replace(/[\s\p{P}\p{S}]+/gu, '').toLowerCase();

/**
 * `background`: analysed texts of ordinary questions (the knowledge base's). Term weights are idf over them and
 * everything being compared, so words every insurance question shares ("保险", "赔") weigh little, while the word
 * a whole wave shares ("疫苗") keeps its weight (idf over the wave alone would discount exactly that word).
 */
export function clusterQuestions(
  questions: readonly ClusterQuestion[],
  seeds: readonly SeedCluster[],
  analyse: (text: string) => string[],
  options: ClusteringOptions,
  background: ReadonlyArray<readonly string[]> = [],
): ClusteringResult {
  const termsOf = new Map<string, string[]>();
  const documents: Array<readonly string[]> = [...background];
  for (const q of questions) {
    const terms = analyse(q.text);
    termsOf.set(q.id, terms);
    documents.push(terms);
  }
  const seedTerms = seeds.map((seed) => seed.texts.map((t) => analyse(t)));
  seedTerms.forEach((list) => documents.push(...list));
  const df = new Map<string, number>();
  for (const terms of documents) for (const term of new Set(terms)) df.set(term, (df.get(term) ?? 0) + 1);
  const n = documents.length;
  const vectorOf = (terms: string[]): Vector => {
    const tf = new Map<string, number>();
    for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + 1);
    const vector: Vector = new Map();
    for (const [term, count] of tf) vector.set(term, (1 + Math.log(count)) * (Math.log((n + 1) / ((df.get(term) ?? 0) + 1)) + 1));
    return normalise(vector);
  };

  const centroids: Centroid[] = seeds.map((seed, i) => {
    const centroid = new Centroid(seed.id, true);
    for (const terms of seedTerms[i]) centroid.add(undefined, vectorOf(terms));
    return centroid;
  });
  const vectors = new Map(questions.map((q) => [q.id, vectorOf(termsOf.get(q.id)!)]));

  const best = (vector: Vector, exclude?: Centroid) => {
    let chosen: Centroid | undefined;
    let score = -1;
    for (const c of centroids) {
      if (c === exclude || c.members.length === 0 && !c.seeded) continue;
      const s = dot(vector, c.vector);
      if (s > score) { score = s; chosen = c; }
    }
    return { chosen, score };
  };

  // Leader pass.
  const assignment = new Map<string, Centroid>();
  let counter = 0;
  for (const q of questions) {
    const vector = vectors.get(q.id)!;
    const { chosen, score } = best(vector);
    const target = chosen && score >= options.similarity ? chosen : new Centroid(`new:${counter++}`, false);
    if (target !== chosen) centroids.push(target);
    target.add(q.id, vector);
    assignment.set(q.id, target);
  }

  // One reassignment pass against the final centroids: early leaders may fit a later cluster better.
  const final = new Map<string, Centroid>();
  for (const q of questions) {
    const vector = vectors.get(q.id)!;
    const current = assignment.get(q.id)!;
    const stay = dot(vector, current.vector);
    const { chosen, score } = best(vector, current);
    final.set(q.id, chosen && score >= options.similarity && score > stay ? chosen : current);
  }

  const joined = new Map<string, string>();
  const groups = new Map<Centroid, string[]>();
  for (const [id, centroid] of final) {
    if (centroid.seeded) joined.set(id, centroid.id);
    else groups.set(centroid, [...(groups.get(centroid) ?? []), id]);
  }
  const text = new Map(questions.map((q) => [q.id, q.text]));
  const formed: ClusteringResult['formed'] = [];
  for (const [centroid, memberIds] of groups) {
    const distinct = new Set(memberIds.map((id) => phrasingKey(text.get(id)!)));
    if (distinct.size < options.minClusterSize) continue;
    const typical = [...memberIds].sort((a, b) => dot(vectors.get(b)!, centroid.vector) - dot(vectors.get(a)!, centroid.vector));
    formed.push({ memberIds: typical });
  }
  return { joined, formed };
}
