/**
 * Order-aware phrasing similarity between a query and a stored question: the longest common subsequence (LCS) of
 * their characters. Bags of n-grams see "车险怎么退保" and "退保怎么买车险" as near-equal; LCS does not, and it
 * rewards a paraphrase that keeps the question's wording in order even with words inserted ("我想问下…").
 */

const WORD_BITS = 30; // bits per chunk: sums of two chunks plus a carry stay exact in double arithmetic
const WORD_MASK = (1 << WORD_BITS) - 1;

/**
 * LCS length by the bit-parallel algorithm of Hyyrö (2004): O(|text| × ⌈|pattern| / 30⌉) additions, so a 200-character
 * query against a 30-character question is ~200 steps instead of a 6,000-cell table.
 */
export function longestCommonSubsequence(text: string, pattern: string): number {
  const m = pattern.length;
  if (m === 0 || text.length === 0) return 0;
  const chunks = Math.ceil(m / WORD_BITS);
  // Match masks: bit i of the mask of c is set when pattern[i] === c.
  const masks = new Map<number, Int32Array>();
  for (let i = 0; i < m; i++) {
    const code = pattern.charCodeAt(i);
    let mask = masks.get(code);
    if (!mask) masks.set(code, (mask = new Int32Array(chunks)));
    mask[(i / WORD_BITS) | 0] |= 1 << i % WORD_BITS;
  }
  const v = new Int32Array(chunks).fill(WORD_MASK);
  const lastChunkBits = m - (chunks - 1) * WORD_BITS;
  v[chunks - 1] = lastChunkBits === WORD_BITS ? WORD_MASK : (1 << lastChunkBits) - 1;
  for (let t = 0; t < text.length; t++) {
    const mask = masks.get(text.charCodeAt(t));
    if (!mask) continue;
    // V' = (V + (V & M)) | (V & ~M), with the addition carried across chunks.
    let carry = 0;
    for (let c = 0; c < chunks; c++) {
      const vc = v[c];
      const matched = vc & mask[c];
      const sum = vc + matched + carry;
      carry = sum > WORD_MASK ? 1 : 0;
      v[c] = ((sum & WORD_MASK) | (vc & ~mask[c])) & WORD_MASK;
    }
    v[chunks - 1] &= lastChunkBits === WORD_BITS ? WORD_MASK : (1 << lastChunkBits) - 1;
  }
  let ones = 0;
  for (let c = 0; c < chunks; c++) ones += popcount(v[c]);
  return m - ones;
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

export function sequenceMatch(querySurface: string, questionSurface: string): SequenceMatch {
  if (!querySurface || !questionSurface) return { questionCoverage: 0, queryCoverage: 0 };
  const common = longestCommonSubsequence(querySurface, questionSurface);
  return { questionCoverage: common / questionSurface.length, queryCoverage: common / querySurface.length };
}
