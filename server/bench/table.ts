/** Prints rows as an aligned text table (the format every benchmark reports in). */
export type BenchRow = Record<string, string | number>;

export function printTable(title: string, rows: BenchRow[]): void {
  if (rows.length === 0) return;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v ?? '');
  const widths = columns.map((c) => Math.max([...c].length, ...rows.map((r) => [...cell(r[c])].length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v + ' '.repeat(widths[i] - [...v].length)).join(' | ')} |`;
  console.log(`\n## ${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c]))));
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))];
}

export function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}
