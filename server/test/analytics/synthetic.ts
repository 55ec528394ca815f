import { mulberry32 } from '../../src/util/seeded-random';

/** Seeded synthetic traffic for detector and forecast tests: reproducible Poisson counts with a daily shape. */

export const seededRandom = mulberry32;

/** A Poisson draw (Knuth for small means, a rounded normal for large ones). */
export function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 40) {
    const u = 1 - random();
    const v = random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= random();
  } while (p > limit);
  return k - 1;
}

/**
 * Customer-service traffic shape over the day (0..1 at hour h, fractional hours allowed): quiet at night,
 * a morning peak around 10:00 and an evening one around 20:00.
 */
export function dailyShape(hour: number): number {
  const bump = (centre: number, width: number) => Math.exp(-((hour - centre) ** 2) / (2 * width * width));
  return 0.06 + 0.9 * bump(10.5, 2.2) + 0.7 * bump(20, 1.8) + 0.35 * bump(15, 2.5);
}

export interface SyntheticOptions { days: number; bucketMinutes: number; peak: number; seed: number; weekendFactor?: number; trendPerDay?: number }

/** `days` days of counts per bucket of `bucketMinutes`, with mean `peak × shape` (+ a small weekly and trend effect). */
export function syntheticSeries(options: SyntheticOptions): number[] {
  return syntheticSeriesWithMeans(options).counts;
}

/** The counts and the true means they were drawn from (the best any forecast could do). */
export function syntheticSeriesWithMeans(options: SyntheticOptions): { counts: number[]; means: number[] } {
  const random = seededRandom(options.seed);
  const perDay = (24 * 60) / options.bucketMinutes;
  const series: number[] = [];
  const means: number[] = [];
  for (let d = 0; d < options.days; d++) {
    const weekday = d % 7;
    const week = weekday >= 5 ? options.weekendFactor ?? 1 : 1;
    const trend = 1 + (options.trendPerDay ?? 0) * d;
    for (let b = 0; b < perDay; b++) {
      const hour = (b * options.bucketMinutes) / 60;
      const mean = options.peak * dailyShape(hour) * week * trend;
      means.push(mean);
      series.push(poisson(mean, random));
    }
  }
  return { counts: series, means };
}
