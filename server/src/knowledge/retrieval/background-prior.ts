import type { TermPrior } from './analyzer';

/**
 * A word's informativeness in general Chinese, from the IDF table that ships with jieba (computed over a large
 * general corpus). A knowledge base of insurance questions is too topical for its own IDF to tell "什么样" or "买"
 * (frequent everywhere) from "养老保险" (frequent only here): both look common inside the KB. Scaling a query
 * term's KB IDF by this prior keeps generic words from outvoting the topic.
 */
export interface BackgroundPriorOptions {
  /** Prior = (background IDF / median IDF) ^ sharpness, clamped to [floor, 1]. */
  sharpness?: number;
  floor?: number;
}

let table: { idfOf: Map<string, number>; median: number } | undefined;

function loadJiebaIdfTable(): { idfOf: Map<string, number>; median: number } {
  if (!table) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { idf } = require('@node-rs/jieba/dict') as { idf: Buffer };
    const idfOf = new Map<string, number>();
    const values: number[] = [];
    for (const line of idf.toString('utf8').split('\n')) {
      const space = line.lastIndexOf(' ');
      if (space <= 0) continue;
      const value = Number(line.slice(space + 1));
      if (!Number.isFinite(value)) continue;
      idfOf.set(line.slice(0, space), value);
      values.push(value);
    }
    values.sort((a, b) => a - b);
    table = { idfOf, median: values[Math.floor(values.length / 2)] ?? 1 };
  }
  return table;
}

/** Words missing from the table (product names, numbers, our own dictionary terms) count fully, as jieba does. */
export function jiebaBackgroundPrior(options: BackgroundPriorOptions = {}): TermPrior {
  const { idfOf, median } = loadJiebaIdfTable();
  const sharpness = options.sharpness ?? 1;
  const floor = options.floor ?? 0.1;
  return (word) => {
    const idf = idfOf.get(word);
    if (idf === undefined) return 1;
    return Math.min(1, Math.max(floor, (idf / median) ** sharpness));
  };
}
