import fs from 'node:fs';
import type { LabelledText } from './intent-classifier';

/** Reads a `{"text","label"}` JSONL file; a bad line names the file and line. */
export function readLabelledJsonl(file: string): LabelledText[] {
  const rows: LabelledText[] = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${file}: line ${i + 1}: not valid JSON`);
    }
    const row = value as Partial<LabelledText>;
    if (typeof row.text !== 'string' || typeof row.label !== 'string') throw new Error(`${file}: line ${i + 1}: needs string "text" and "label"`);
    rows.push({ text: row.text, label: row.label });
  });
  return rows;
}

export interface ClassScore {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluationReport {
  accuracy: number;
  macroF1: number;
  perClass: ClassScore[];
  /** Most frequent (truth → predicted) mistakes. */
  confusions: Array<{ truth: string; predicted: string; count: number }>;
}

/**
 * Accuracy over every row; precision/recall/F1 per class; macro-F1 over `macroLabels` (default: every gold
 * label). For emotion, macroLabels are the seven emotions, so "none" counts in accuracy only.
 */
export function evaluate(truth: readonly string[], predicted: readonly string[], macroLabels?: readonly string[]): EvaluationReport {
  const labels = macroLabels ?? [...new Set(truth)].sort();
  let correct = 0;
  const pairs = new Map<string, number>();
  const truePositive = new Map<string, number>();
  const goldCount = new Map<string, number>();
  const predictedCount = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  truth.forEach((gold, i) => {
    const guess = predicted[i];
    bump(goldCount, gold);
    bump(predictedCount, guess);
    if (gold === guess) {
      correct++;
      bump(truePositive, gold);
    } else {
      bump(pairs, `${gold}\u0000${guess}`);
    }
  });
  const perClass = labels.map((label) => {
    const tp = truePositive.get(label) ?? 0;
    const precision = tp / (predictedCount.get(label) || 1);
    const recall = tp / (goldCount.get(label) || 1);
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: goldCount.get(label) ?? 0 };
  });
  const confusions = [...pairs.entries()]
    .map(([key, count]) => {
      const [gold, guess] = key.split('\u0000');
      return { truth: gold, predicted: guess, count };
    })
    .sort((a, b) => b.count - a.count)
    .slice(0, 10);
  return {
    accuracy: truth.length ? correct / truth.length : 0,
    macroF1: perClass.length ? perClass.reduce((sum, c) => sum + c.f1, 0) / perClass.length : 0,
    perClass,
    confusions,
  };
}

/** The report as text lines: per-class table then top confusions. */
export function formatReport(report: EvaluationReport): string[] {
  const lines = ['label                         precision  recall     f1  support'];
  for (const c of report.perClass) {
    lines.push(`${c.label.padEnd(28)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(5)}  ${String(c.support).padStart(7)}`);
  }
  lines.push('', 'top confusions (truth → predicted: count)');
  for (const c of report.confusions) lines.push(`  ${c.truth} → ${c.predicted}: ${c.count}`);
  lines.push('', `accuracy ${report.accuracy.toFixed(4)}  macro-F1 ${report.macroF1.toFixed(4)}`);
  return lines;
}
