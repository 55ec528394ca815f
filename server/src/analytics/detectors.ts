import { median, robustBaseline, robustZ } from './robust';

/**
 * Spike detection against a seasonal baseline. The expected count for "the last 30 minutes" is the median of the
 * same 30 minutes on previous days (customer-service traffic has a strong daily shape: 10:00 is not 03:00).
 * Counts are compared on the Anscombe scale, 2·√(x + 3/8), where Poisson noise has unit variance whatever the
 * level: a quiet topic does not fire on a handful of extra questions, a busy one needs a real surge. The spread
 * is the larger of that Poisson noise and the day-to-day MAD (overdispersed topics need more to fire).
 */

export interface SpikeOptions {
  /** Robust z (on the Anscombe scale) at or above which the window is a spike. */
  minZ: number;
  /** The window must hold at least this many events (a jump from 0 to 2 is noise). */
  minCount: number;
  /** ... and at least this multiple of the expected count. */
  minRatio: number;
  /** Below this many seasonal samples (previous days with traffic) there is no baseline and nothing fires. */
  minSamples: number;
}

export const DEFAULT_SPIKE_OPTIONS: SpikeOptions = { minZ: 4, minCount: 8, minRatio: 2, minSamples: 3 };

export interface SpikeVerdict {
  spike: boolean;
  /** 'emerging': little or no history (a new topic growing fast); 'spike': well above its usual level. */
  kind?: 'spike' | 'emerging';
  observed: number;
  /** The usual count for this window: the median of the seasonal samples. */
  expected: number;
  z: number;
}

/** Expected counts below this are judged on Poisson noise alone. */
const LOW_COUNT = 5;

/** Variance-stabilising transform for Poisson counts. */
export const anscombe = (count: number) => 2 * Math.sqrt(count + 3 / 8);

/**
 * Is `observed` (events in the current window) a spike, given `seasonalSamples` (events in the same window on
 * previous days)? A topic whose history sums to almost nothing is reported as emerging rather than spiking.
 */
export function detectSpike(observed: number, seasonalSamples: readonly number[], options: SpikeOptions = DEFAULT_SPIKE_OPTIONS): SpikeVerdict {
  const expected = seasonalSamples.length ? median(seasonalSamples) : 0;
  // Without enough previous days nothing is unusual yet: a fresh install must not call every topic "emerging".
  if (seasonalSamples.length < options.minSamples) return { spike: false, observed, expected, z: 0 };
  const baseline = robustBaseline(seasonalSamples.map(anscombe), 1);
  // Below a handful of events a MAD of a few small integers measures rounding, not day-to-day swings: use the
  // Poisson spread alone there.
  if (expected < LOW_COUNT) baseline.scale = 1;
  const z = robustZ(anscombe(observed), baseline);
  const spike = observed >= options.minCount && observed >= options.minRatio * Math.max(expected, 0.5) && z >= options.minZ;
  const historyTotal = seasonalSamples.reduce((sum, v) => sum + v, 0);
  const kind = spike ? (historyTotal < options.minCount / 2 ? 'emerging' : 'spike') : undefined;
  return { spike, kind, observed, expected, z };
}

/**
 * Runs the detector over a whole series of fixed buckets, as it would run live: at each bucket only the past is
 * known. `windowBuckets` buckets are summed for the window; the seasonal samples are the same window shifted by
 * whole seasons (`seasonBuckets`) up to `seasons` times back. Returns the indexes (window ends) that fired,
 * suppressing repeats of one episode within `cooldownBuckets` as the alert centre does.
 */
export function scanForSpikes(
  series: readonly number[],
  params: { windowBuckets: number; seasonBuckets: number; seasons: number; cooldownBuckets: number },
  options: SpikeOptions = DEFAULT_SPIKE_OPTIONS,
): Array<{ index: number; verdict: SpikeVerdict }> {
  const { windowBuckets, seasonBuckets, seasons, cooldownBuckets } = params;
  const prefix = [0];
  for (const value of series) prefix.push(prefix[prefix.length - 1] + value);
  const windowSum = (end: number) => prefix[end + 1] - prefix[Math.max(0, end + 1 - windowBuckets)];
  const fired: Array<{ index: number; verdict: SpikeVerdict }> = [];
  let lastFired = -Infinity;
  for (let end = windowBuckets - 1; end < series.length; end++) {
    const samples: number[] = [];
    for (let s = 1; s <= seasons; s++) {
      const past = end - s * seasonBuckets;
      if (past - windowBuckets + 1 < 0) break;
      samples.push(windowSum(past));
    }
    const verdict = detectSpike(windowSum(end), samples, options);
    if (verdict.spike && end - lastFired > cooldownBuckets) {
      fired.push({ index: end, verdict });
      lastFired = end;
    }
  }
  return fired;
}
