/**
 * Additive Holt-Winters (triple exponential smoothing) for hourly counts with a daily season: level + trend +
 * seasonal shape, each updated by its own smoothing factor. The factors are chosen by a grid search that
 * minimises the one-step-ahead squared error on the history, so no hand tuning per topic is needed.
 */

export interface HoltWintersParameters {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

/**
 * 'sqrt' stabilises Poisson noise (a quiet hour and a busy hour are equally predictable in √ space) and makes the
 * season partly proportional to the level; 'log1p' makes it fully proportional; 'none' is the textbook model.
 */
export type Transform = 'none' | 'sqrt' | 'log1p';

const FORWARD: Record<Transform, (v: number) => number> = {
  none: (v) => v,
  sqrt: (v) => Math.sqrt(Math.max(0, v)),
  log1p: (v) => Math.log1p(Math.max(0, v)),
};
const BACKWARD: Record<Transform, (v: number) => number> = {
  none: (v) => v,
  sqrt: (v) => (v > 0 ? v * v : 0),
  log1p: (v) => Math.expm1(v),
};

export interface HoltWintersModel extends HoltWintersParameters {
  seasonLength: number;
  /**
   * 'log1p': fitted on log(1 + count), so the season scales with the level (multiplicative, as traffic does: a
   * quiet day is quiet at every hour) and forecasts and intervals stay positive.
   */
  transform: Transform;
  /** Trend damping (φ): a surge in the last hours must not be extrapolated for a whole day. */
  phi: number;
  level: number;
  trend: number;
  /** Seasonal offsets, indexed by position in the season of the *next* point to forecast onwards. */
  seasonal: number[];
  /** Standard deviation of the one-step-ahead errors on the history. */
  residualSd: number;
  /** Sum of squared one-step-ahead errors (what the grid search minimised). */
  sse: number;
  /** Number of points fitted. */
  fitted: number;
}

export interface ForecastPoint {
  step: number;
  value: number;
  /** ~95 % interval, clipped at zero (counts). */
  low: number;
  high: number;
}

const DEFAULT_GRID = {
  alpha: [0.05, 0.1, 0.2, 0.3, 0.5, 0.7],
  beta: [0, 0.01, 0.05, 0.1],
  gamma: [0.05, 0.1, 0.2, 0.3, 0.5],
  phi: [0.8, 0.9, 0.98],
};
type Grid = typeof DEFAULT_GRID;

interface RunResult {
  level: number;
  trend: number;
  seasonal: number[];
  sse: number;
  errors: number;
}

/** Initial level, trend and seasonal offsets from the first two seasons (classical decomposition). */
function initialState(series: readonly number[], m: number): { level: number; trend: number; seasonal: number[] } {
  const mean = (from: number) => series.slice(from, from + m).reduce((sum, v) => sum + v, 0) / m;
  const first = mean(0);
  const second = series.length >= 2 * m ? mean(m) : first;
  const seasonal = series.slice(0, m).map((value) => value - first);
  return { level: first, trend: (second - first) / m, seasonal };
}

function run(series: readonly number[], m: number, p: HoltWintersParameters): RunResult {
  let { level, trend, seasonal } = initialState(series, m);
  seasonal = [...seasonal];
  let sse = 0;
  let errors = 0;
  // The first season only initialises; learning (and scoring) starts after it.
  for (let t = m; t < series.length; t++) {
    const s = seasonal[t % m];
    const predicted = level + p.phi * trend + s;
    const error = series[t] - predicted;
    sse += error * error;
    errors++;
    const previousLevel = level;
    level = p.alpha * (series[t] - s) + (1 - p.alpha) * (level + p.phi * trend);
    trend = p.beta * (level - previousLevel) + (1 - p.beta) * p.phi * trend;
    seasonal[t % m] = p.gamma * (series[t] - level) + (1 - p.gamma) * s;
  }
  return { level, trend, seasonal, sse, errors };
}

/** Fits a model; needs at least two full seasons of history. Counts are best fitted with `transform: 'log1p'`. */
export function fitHoltWinters(
  observed: readonly number[],
  seasonLength: number,
  options: { transform?: Transform; grid?: Grid } = {},
): HoltWintersModel {
  const transform = options.transform ?? 'none';
  const grid = options.grid ?? DEFAULT_GRID;
  const series = observed.map(FORWARD[transform]);
  if (series.length < 2 * seasonLength) {
    throw new RangeError(`Holt-Winters needs at least two seasons (${2 * seasonLength} points), got ${series.length}`);
  }
  let best: { params: HoltWintersParameters; result: RunResult } | undefined;
  for (const alpha of grid.alpha) {
    for (const beta of grid.beta) {
      for (const gamma of grid.gamma) {
        for (const phi of beta === 0 ? [1] : grid.phi) {
          const result = run(series, seasonLength, { alpha, beta, gamma, phi });
          if (!best || result.sse < best.result.sse) best = { params: { alpha, beta, gamma, phi }, result };
        }
      }
    }
  }
  const { params, result } = best!;
  // Re-index the seasonal array so that position 0 is the season slot of the next (unseen) point.
  const next = series.length % seasonLength;
  const seasonal = Array.from({ length: seasonLength }, (_, i) => result.seasonal[(next + i) % seasonLength]);
  return {
    ...params,
    seasonLength,
    transform,
    level: result.level,
    trend: result.trend,
    seasonal,
    residualSd: Math.sqrt(result.sse / Math.max(1, result.errors)),
    sse: result.sse,
    fitted: series.length,
  };
}

/** The next `horizon` points. Counts cannot be negative, so values and bounds are clipped at zero. */
export function forecastHoltWinters(model: HoltWintersModel, horizon: number): ForecastPoint[] {
  const points: ForecastPoint[] = [];
  const back = BACKWARD[model.transform];
  let dampedSteps = 0;
  for (let h = 1; h <= horizon; h++) {
    dampedSteps += model.phi ** h;
    const raw = model.level + dampedSteps * model.trend + model.seasonal[(h - 1) % model.seasonLength];
    // The interval widens with the horizon as level and trend errors accumulate (additive-model approximation).
    const spread = 1.96 * model.residualSd * Math.sqrt(1 + (h - 1) * model.alpha * model.alpha * (1 + h * model.beta) ** 2);
    points.push({ step: h, value: Math.max(0, back(raw)), low: Math.max(0, back(raw - spread)), high: Math.max(0, back(raw + spread)) });
  }
  return points;
}

export interface ForecastError {
  /** Mean absolute error. */
  mae: number;
  /** Symmetric mean absolute percentage error, in [0, 2]; defined for hours with zero actuals, but quiet hours weigh as much as busy ones. */
  smape: number;
  /**
   * Weighted absolute percentage error: total absolute error over total actual (busy hours weigh more). Null when
   * nothing happened in the scored hours: no percentage of zero exists (it had said 0 % for a forecast off by 100/h).
   */
  wape: number | null;
  /** Share of actuals inside the forecast interval (when intervals are given). */
  coverage?: number;
}

/** Scores a forecast against what really happened. */
export function scoreForecast(actual: readonly number[], predicted: ReadonlyArray<number | ForecastPoint>): ForecastError {
  const n = Math.min(actual.length, predicted.length);
  let absolute = 0;
  let symmetric = 0;
  let inside = 0;
  let intervals = 0;
  let actualTotal = 0;
  for (let i = 0; i < n; i++) {
    const p = predicted[i];
    const value = typeof p === 'number' ? p : p.value;
    absolute += Math.abs(actual[i] - value);
    actualTotal += Math.abs(actual[i]);
    const denominator = Math.abs(actual[i]) + Math.abs(value);
    symmetric += denominator === 0 ? 0 : (2 * Math.abs(actual[i] - value)) / denominator;
    if (typeof p !== 'number') {
      intervals++;
      if (actual[i] >= p.low && actual[i] <= p.high) inside++;
    }
  }
  return {
    mae: n ? absolute / n : 0, smape: n ? symmetric / n : 0, wape: actualTotal > 0 ? absolute / actualTotal : null,
    ...(intervals ? { coverage: inside / intervals } : {}),
  };
}
