/**
 * Order-aware phrasing similarity between a query and a stored question: the longest common subsequence (LCS) of
 * their characters. Bags of n-grams see "车险怎么退保" and "退保怎么买车险" as near-equal; LCS does not, and it
 * rewards a paraphrase that keeps the question's wording in order even with words inserted ("我想问下…").
 */

const WORD_BITS = 30; // bits per chunk: sums of two chunks plus a carry stay exact in double arithmetic
const WORD_MASK = (1 << WORD_BITS) - 1;

/**
 * LCS lengths against one fixed string, by the bit-parallel algorithm of Hyyrö (2004): the fixed string's match masks
 * are built once, then each comparison costs O(|other| × ⌈|fixed| / 30⌉) additions. A search fixes the query and
 * compares it with dozens of short questions, so ~20 steps each instead of a query × question table.
 */
export class SubsequenceMatcher {
  private readonly masks = new Map<number, Int32Array>();
  private readonly chunks: number;
  private readonly lastChunkMask: number;
  private readonly state: Int32Array;

  constructor(readonly fixed: string) {
    const m = fixed.length;
    this.chunks = Math.max(1, Math.ceil(m / WORD_BITS));
    for (let i = 0; i < m; i++) {
      const code = fixed.charCodeAt(i);
      let mask = this.masks.get(code);
      if (!mask) this.masks.set(code, (mask = new Int32Array(this.chunks)));
      mask[(i / WORD_BITS) | 0] |= 1 << i % WORD_BITS;
    }
    const lastChunkBits = m - (this.chunks - 1) * WORD_BITS;
    this.lastChunkMask = lastChunkBits >= WORD_BITS ? WORD_MASK : (1 << lastChunkBits) - 1;
    this.state = new Int32Array(this.chunks);
  }

  /** Length of the longest common subsequence of the fixed string and `other`. */
  longestCommonSubsequence(other: string): number {
    const m = this.fixed.length;
    if (m === 0 || other.length === 0) return 0;
    const chunks = this.chunks;
    const v = this.state;
    v.fill(WORD_MASK);
    v[chunks - 1] = this.lastChunkMask;
    for (let t = 0; t < other.length; t++) {
      const mask = this.masks.get(other.charCodeAt(t));
      if (!mask) continue;
      // V' = (V + (V & M)) | (V & ~M), the addition carried across chunks (bits set = pattern positions unmatched).
      let carry = 0;
      for (let c = 0; c < chunks; c++) {
        const vc = v[c];
        const sum = vc + (vc & mask[c]) + carry;
        carry = sum > WORD_MASK ? 1 : 0;
        v[c] = ((sum & WORD_MASK) | (vc & ~mask[c])) & WORD_MASK;
      }
      v[chunks - 1] &= this.lastChunkMask;
    }
    let unmatched = 0;
    for (let c = 0; c < chunks; c++) unmatched += popcount(v[c]);
    return m - unmatched;
  }

  /** Share of `question`, and of the fixed query, that their common subsequence covers. */
  match(question: string): SequenceMatch {
    if (!this.fixed || !question) return { questionCoverage: 0, queryCoverage: 0 };
    const common = this.longestCommonSubsequence(question);
    return { questionCoverage: common / question.length, queryCoverage: common / this.fixed.length };
  }
}

/** One-off LCS length (builds a matcher; reuse a SubsequenceMatcher when one side is fixed). */
export function longestCommonSubsequence(a: string, b: string): number {
  return new SubsequenceMatcher(a).longestCommonSubsequence(b);
}

function popcount(x: number): number {
  let n = x - ((x >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (((n + (n >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Share of the question, and of the query, that the common subsequence covers. */
export interface SequenceMatch {
  questionCoverage: number;
  queryCoverage: number;
}
