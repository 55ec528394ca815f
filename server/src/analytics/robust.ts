/**
 * Robust statistics: median and MAD instead of mean and standard deviation, so one bad day or one outage in the
 * history does not hide the next anomaly (a mean and SD would be dragged toward the outlier they should flag).
 */

/** Scales a MAD to a standard deviation for normally distributed data. */
export const MAD_TO_SD = 1.4826;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median absolute deviation from the median. */
export function medianAbsoluteDeviation(values: readonly number[], centre = median(values)): number {
  return median(values.map((value) => Math.abs(value - centre)));
}

export interface RobustBaseline {
  centre: number;
  /** Standard-deviation-like spread (1.4826 × MAD), never below the floor given. */
  scale: number;
  samples: number;
}

/**
 * Centre and spread of a sample. `minScale` keeps the score finite when every sample is equal (MAD = 0), which
 * is common for small counts and for agents who always score 100.
 */
export function robustBaseline(values: readonly number[], minScale: number): RobustBaseline {
  const centre = median(values);
  const scale = Math.max(MAD_TO_SD * medianAbsoluteDeviation(values, centre), minScale);
  return { centre, scale, samples: values.length };
}

/** How many robust standard deviations `value` lies above the baseline (negative: below). */
export function robustZ(value: number, baseline: RobustBaseline): number {
  return (value - baseline.centre) / baseline.scale;
}
