import { Growable, growableFloat32, growableInt32, growableUint16, growableUint8 } from './growable';

/** BM25 saturation (k1) and length normalisation (b); the usual defaults, sane for short questions and long answers. */
export interface Bm25Parameters {
  k1: number;
  b: number;
}

/** A query's terms resolved against one channel: known term ids with their IDF, and the IDF mass of all terms. */
export interface ChannelQuery {
  termIds: Int32Array;
  /** IDF × the term's prior: the weight used for ranking. */
  idfs: Float64Array;
  /** Each known term's prior alone (for prior-weighted overlap counts). */
  priors: Float64Array;
  /** Sum of IDF over every distinct query term, unknown ones included: a unit matching all of them scores ≈ 1. */
  idfMass: number;
  /** Sum of priors over every distinct query term: the query's side of a weighted Dice. */
  priorMass: number;
}

/**
 * Per-unit accumulators for one query over one unit numbering. Only touched slots are reset, so a query costs
 * time proportional to the postings it reads, not to the number of units. Besides the weighted BM25 sum it counts the
 * distinct n-grams each unit matched, for the Dice overlap.
 */
export class UnitScores {
  scores = new Float64Array(0);
  matchedNgrams = new Float64Array(0);
  private seen = new Uint8Array(0);
  touched = new Int32Array(0);
  touchedCount = 0;

  ensureCapacity(units: number): void {
    if (this.scores.length >= units) return;
    const capacity = Math.max(units, this.scores.length * 2, 64);
    this.scores = new Float64Array(capacity);
    this.matchedNgrams = new Float64Array(capacity);
    this.seen = new Uint8Array(capacity);
    this.touched = new Int32Array(capacity);
    this.touchedCount = 0;
  }

  reset(): void {
    for (let i = 0; i < this.touchedCount; i++) {
      const unit = this.touched[i];
      this.scores[unit] = 0;
      this.matchedNgrams[unit] = 0;
      this.seen[unit] = 0;
    }
    this.touchedCount = 0;
  }

  /** Marks a unit touched; callers then add to the arrays directly (kept out of the posting loop's call path). */
  touch(unit: number): void {
    if (this.seen[unit] === 0) {
      this.seen[unit] = 1;
      this.touched[this.touchedCount++] = unit;
    }
  }
}

/** The serialised form of a channel: its vocabulary and each unit's (term id, frequency) list, packed. */
export interface TermChannelSnapshot {
  terms: string[];
  /** Per unit, how many distinct terms it has (units in order). */
  unitTermCounts: number[];
  /** Base64 Int32Array: every unit's distinct term ids, concatenated. */
  termIds: string;
  /** Base64 Uint16Array: the matching term frequencies. */
  termFrequencies: string;
}

/**
 * One inverted index (one field × one kind of term) scored with BM25. Units are numbered 0..n-1 by the caller's
 * order of adding, so several channels over the same field share a numbering. Postings live in a frozen CSR block
 * (typed arrays) plus a small delta for units added since the last freeze; removal is a tombstone until the next
 * rebuild. Document frequencies and average length track live units only, so IDF stays right after edits.
 */
export class TermChannel {
  private readonly vocabulary = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly documentFrequency: Growable<Int32Array> = growableInt32(1024);
  private readonly scratchCounts: Growable<Int32Array> = growableInt32(1024);

  private unitStart: Growable<Int32Array> = growableInt32(1024);
  private unitDistinctTerms: Growable<Int32Array> = growableInt32(1024);
  private unitLength: Growable<Float32Array> = growableFloat32(1024);
  private unitAlive: Growable<Uint8Array> = growableUint8(1024);
  private unitTermIds: Growable<Int32Array> = growableInt32(4096);
  private unitTermFrequencies: Growable<Uint16Array> = growableUint16(4096);

  private liveUnits = 0;
  private liveLength = 0;
  private deadPostings = 0;

  // Frozen postings: for term t < frozenTermCount, entries frozenOffsets[t] .. frozenOffsets[t+1].
  private frozenTermCount = 0;
  private frozenUnitLimit = 0;
  private frozenOffsets = new Int32Array(1);
  private frozenUnits = new Int32Array(0);
  private frozenFrequencies = new Uint16Array(0);
  // Postings of units added after the freeze: term id → [unit, frequency, unit, frequency, …].
  private delta = new Map<number, number[]>();
  private deltaPostings = 0;
  // While bulk loading, postings are only built by the closing rebuild(): no delta lists to allocate and discard.
  private bulkLoading = false;

  constructor(private readonly bm25: Bm25Parameters) {}

  get unitCount(): number {
    return this.unitStart.length;
  }

  get vocabularySize(): number {
    return this.terms.length;
  }

  /** Postings not yet in the frozen block plus postings of removed units: what a rebuild would tidy. */
  get untidyPostings(): number {
    return this.deltaPostings + this.deadPostings;
  }

  get frozenPostings(): number {
    return this.frozenUnits.length;
  }

  addUnit(termList: readonly string[]): number {
    // Count term frequencies in a reusable scratch table indexed by term id: no per-unit Map on the build path.
    const distinctIds: number[] = [];
    for (const term of termList) {
      let id = this.vocabulary.get(term);
      if (id === undefined) {
        id = this.terms.length;
        this.vocabulary.set(term, id);
        this.terms.push(term);
        this.documentFrequency.put(id, 0);
        this.scratchCounts.put(id, 0);
      }
      if (this.scratchCounts.data[id]++ === 0) distinctIds.push(id);
    }
    const frequencies = distinctIds.map((id) => {
      const frequency = this.scratchCounts.data[id];
      this.scratchCounts.data[id] = 0;
      return frequency;
    });
    return this.appendUnit(distinctIds, frequencies, termList.length);
  }

  private appendUnit(termIds: readonly number[], frequencies: readonly number[], length: number): number {
    const unit = this.unitStart.push(this.unitTermIds.length);
    this.unitDistinctTerms.push(termIds.length);
    this.unitLength.push(length);
    this.unitAlive.push(1);
    for (let i = 0; i < termIds.length; i++) {
      const termId = termIds[i];
      const capped = Math.min(frequencies[i], 0xffff);
      this.unitTermIds.push(termId);
      this.unitTermFrequencies.push(capped);
      this.documentFrequency.data[termId]++;
      if (this.bulkLoading) continue;
      let postings = this.delta.get(termId);
      if (!postings) this.delta.set(termId, (postings = []));
      postings.push(unit, capped);
      this.deltaPostings++;
    }
    this.liveUnits++;
    this.liveLength += length;
    return unit;
  }

  /** Units added from now until the next rebuild() are searchable only after it. */
  beginBulkLoad(): void {
    this.bulkLoading = true;
  }

  removeUnit(unit: number): void {
    if (unit >= this.unitCount || this.unitAlive.data[unit] === 0) return;
    this.unitAlive.data[unit] = 0;
    const start = this.unitStart.data[unit];
    const end = start + this.unitDistinctTerms.data[unit];
    for (let i = start; i < end; i++) this.documentFrequency.data[this.unitTermIds.data[i]]--;
    this.deadPostings += end - start;
    this.liveUnits--;
    this.liveLength -= this.unitLength.data[unit];
  }

  isAlive(unit: number): boolean {
    return this.unitAlive.get(unit) === 1;
  }

  /** Distinct terms of a unit (for Dice-style overlap measures). */
  distinctTermsOf(unit: number): number {
    return this.unitDistinctTerms.get(unit);
  }

  /**
   * Moves every live posting into the frozen typed-array block. With `keep`, units are also renumbered: new unit i
   * is old unit keep[i] (removed units dropped); the caller renumbers its own unit tables the same way.
   */
  rebuild(keep?: Int32Array): void {
    if (keep) this.renumberUnits(keep);
    const termCount = this.terms.length;
    const counts = new Int32Array(termCount + 1);
    const unitCount = this.unitCount;
    const alive = this.unitAlive.data;
    const starts = this.unitStart.data;
    const distinct = this.unitDistinctTerms.data;
    const termIds = this.unitTermIds.data;
    for (let unit = 0; unit < unitCount; unit++) {
      if (alive[unit] === 0) continue;
      for (let i = starts[unit], end = i + distinct[unit]; i < end; i++) counts[termIds[i] + 1]++;
    }
    for (let t = 0; t < termCount; t++) counts[t + 1] += counts[t];
    const offsets = counts;
    const fill = offsets.slice(0, termCount);
    const units = new Int32Array(offsets[termCount]);
    const frequencies = new Uint16Array(offsets[termCount]);
    const termFrequencies = this.unitTermFrequencies.data;
    // Units are visited in increasing order, so each posting list comes out sorted by unit.
    for (let unit = 0; unit < unitCount; unit++) {
      if (alive[unit] === 0) continue;
      for (let i = starts[unit], end = i + distinct[unit]; i < end; i++) {
        const slot = fill[termIds[i]]++;
        units[slot] = unit;
        frequencies[slot] = termFrequencies[i];
      }
    }
    this.frozenOffsets = offsets;
    this.frozenUnits = units;
    this.frozenFrequencies = frequencies;
    this.frozenTermCount = termCount;
    this.frozenUnitLimit = unitCount;
    this.delta = new Map();
    this.deltaPostings = 0;
    this.deadPostings = 0;
    this.bulkLoading = false;
  }

  private renumberUnits(keep: Int32Array): void {
    const oldStart = this.unitStart.data;
    const oldDistinct = this.unitDistinctTerms.data;
    const oldLength = this.unitLength.data;
    const oldTermIds = this.unitTermIds.data;
    const oldFrequencies = this.unitTermFrequencies.data;
    this.unitStart = growableInt32(keep.length);
    this.unitDistinctTerms = growableInt32(keep.length);
    this.unitLength = growableFloat32(keep.length);
    this.unitAlive = growableUint8(keep.length);
    const termIds = growableInt32(this.unitTermIds.length);
    const frequencies = growableUint16(this.unitTermIds.length);
    for (const old of keep) {
      this.unitStart.push(termIds.length);
      this.unitDistinctTerms.push(oldDistinct[old]);
      this.unitLength.push(oldLength[old]);
      this.unitAlive.push(1);
      for (let i = oldStart[old], end = i + oldDistinct[old]; i < end; i++) {
        termIds.push(oldTermIds[i]);
        frequencies.push(oldFrequencies[i]);
      }
    }
    this.unitTermIds = termIds;
    this.unitTermFrequencies = frequencies;
  }

  /** Resolves query terms: distinct, with IDF; unknown terms only add to the mass (they are unmatched evidence). */
  prepareQuery(termList: readonly string[], priors?: readonly number[]): ChannelQuery {
    // A repeated term counts once, with its largest prior.
    const priorOf = new Map<string, number>();
    termList.forEach((term, i) => priorOf.set(term, Math.max(priorOf.get(term) ?? 0, priors ? priors[i] : 1)));
    const ids: number[] = [];
    const idfs: number[] = [];
    const knownPriors: number[] = [];
    let idfMass = 0;
    let priorMass = 0;
    for (const [term, prior] of priorOf) {
      const id = this.vocabulary.get(term);
      const df = id === undefined ? 0 : this.documentFrequency.data[id];
      const idf = this.idf(df) * prior;
      idfMass += idf;
      priorMass += prior;
      if (id !== undefined && df > 0) {
        ids.push(id);
        idfs.push(idf);
        knownPriors.push(prior);
      }
    }
    return {
      termIds: Int32Array.from(ids),
      idfs: Float64Array.from(idfs),
      priors: Float64Array.from(knownPriors),
      idfMass,
      priorMass,
    };
  }

  /** Lucene's BM25 IDF: always positive, so a term in most units still counts a little. */
  idf(documentFrequency: number): number {
    const n = Math.max(this.liveUnits, 1);
    return Math.log(1 + (n - documentFrequency + 0.5) / (documentFrequency + 0.5));
  }

  /**
   * Adds weight × BM25 / idfMass for every live unit containing a query term; with `countMatches`, also each matched
   * distinct term's prior (for the weighted Dice overlap).
   */
  scoreInto(query: ChannelQuery, into: UnitScores, weight: number, countMatches: boolean): void {
    if (query.termIds.length === 0 || query.idfMass === 0) return;
    into.ensureCapacity(this.unitCount);
    const { k1, b } = this.bm25;
    const averageLength = this.liveUnits > 0 ? this.liveLength / this.liveUnits : 1;
    const lengthScale = (k1 * b) / Math.max(averageLength, 1e-9);
    const lengthBase = k1 * (1 - b);
    const lengths = this.unitLength.data;
    const alive = this.unitAlive.data;
    const scale = weight / query.idfMass;
    const scores = into.scores;
    const matched = into.matchedNgrams;
    for (let q = 0; q < query.termIds.length; q++) {
      const termId = query.termIds[q];
      const termWeight = query.idfs[q] * (k1 + 1) * scale;
      const matchIncrement = countMatches ? query.priors[q] : 0;
      if (termId < this.frozenTermCount) {
        const units = this.frozenUnits;
        const frequencies = this.frozenFrequencies;
        for (let p = this.frozenOffsets[termId], end = this.frozenOffsets[termId + 1]; p < end; p++) {
          const unit = units[p];
          if (alive[unit] === 0) continue;
          const tf = frequencies[p];
          into.touch(unit);
          scores[unit] += (termWeight * tf) / (tf + lengthBase + lengthScale * lengths[unit]);
          matched[unit] += matchIncrement;
        }
      }
      const recent = this.delta.get(termId);
      if (recent) {
        for (let p = 0; p < recent.length; p += 2) {
          const unit = recent[p];
          if (alive[unit] === 0) continue;
          const tf = recent[p + 1];
          into.touch(unit);
          scores[unit] += (termWeight * tf) / (tf + lengthBase + lengthScale * lengths[unit]);
          matched[unit] += matchIncrement;
        }
      }
    }
  }

  /** The id of a term with live units, if any (for checking which query terms a given unit contains). */
  liveTermId(term: string): number | undefined {
    const id = this.vocabulary.get(term);
    return id !== undefined && this.documentFrequency.data[id] > 0 ? id : undefined;
  }

  /** IDF of a term as a query would see it; a term no live unit has gets the largest IDF (it is the rarest). */
  termIdf(term: string): number {
    const id = this.vocabulary.get(term);
    return this.idf(id === undefined ? 0 : this.documentFrequency.data[id]);
  }

  /** Whether a live unit contains a term: a scan of its distinct terms (short for questions, ~100 for answers). */
  unitHasTerm(unit: number, termId: number): boolean {
    if (unit >= this.unitCount || this.unitAlive.data[unit] === 0) return false;
    const start = this.unitStart.data[unit];
    const end = start + this.unitDistinctTerms.data[unit];
    const ids = this.unitTermIds.data;
    for (let i = start; i < end; i++) if (ids[i] === termId) return true;
    return false;
  }

  /** Live units only, in order; the reader gets back the same numbering as `rebuild(liveUnitsInOrder)` would give. */
  snapshot(liveUnitsInOrder: Int32Array): TermChannelSnapshot {
    const counts: number[] = [];
    const ids = growableInt32(this.unitTermIds.length);
    const frequencies = growableUint16(this.unitTermIds.length);
    for (const unit of liveUnitsInOrder) {
      const start = this.unitStart.data[unit];
      const distinct = this.unitDistinctTerms.data[unit];
      counts.push(distinct);
      for (let i = start; i < start + distinct; i++) {
        ids.push(this.unitTermIds.data[i]);
        frequencies.push(this.unitTermFrequencies.data[i]);
      }
    }
    return {
      terms: this.terms.slice(),
      unitTermCounts: counts,
      termIds: toBase64(ids.view()),
      termFrequencies: toBase64(frequencies.view()),
    };
  }

  static fromSnapshot(snapshot: TermChannelSnapshot, bm25: Bm25Parameters): TermChannel {
    const channel = new TermChannel(bm25);
    for (const term of snapshot.terms) {
      channel.vocabulary.set(term, channel.terms.length);
      channel.terms.push(term);
      channel.documentFrequency.push(0);
      channel.scratchCounts.push(0);
    }
    channel.beginBulkLoad();
    const termIds = new Int32Array(fromBase64(snapshot.termIds));
    const frequencies = new Uint16Array(fromBase64(snapshot.termFrequencies));
    let cursor = 0;
    for (const distinct of snapshot.unitTermCounts) {
      const unitTermIds = Array.from(termIds.subarray(cursor, cursor + distinct));
      const unitFrequencies = Array.from(frequencies.subarray(cursor, cursor + distinct));
      cursor += distinct;
      channel.appendUnit(unitTermIds, unitFrequencies, unitFrequencies.reduce((sum, f) => sum + f, 0));
    }
    channel.rebuild();
    return channel;
  }
}

function toBase64(array: Int32Array | Uint16Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

/** Copies into a fresh, aligned buffer so typed-array views over it are always legal. */
function fromBase64(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}
