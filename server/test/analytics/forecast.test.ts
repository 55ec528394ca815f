import { fitHoltWinters, forecastHoltWinters, scoreForecast } from '../../src/analytics/holt-winters';
import { syntheticSeries, syntheticSeriesWithMeans } from './synthetic';

const SEASON = 24;
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

describe('Holt-Winters forecast, scored against held-back data', () => {
  it('forecasts the next 24 hours close to the noise floor, better than "same hour yesterday"', () => {
    const results: string[] = [];
    for (const seed of [21, 22, 23]) {
      // 17 days of hourly counts (a daily shape, quieter weekends, 1 % growth a day); the last day (a Wednesday) is held back.
      const { counts, means } = syntheticSeriesWithMeans({ days: 17, bucketMinutes: 60, peak: 60, seed, weekendFactor: 0.75, trendPerDay: 0.01 });
      const training = counts.slice(0, -SEASON);
      const heldBack = counts.slice(-SEASON);

      const model = fitHoltWinters(training, SEASON, { transform: 'sqrt' });
      const holtWinters = scoreForecast(heldBack, forecastHoltWinters(model, SEASON));
      const logModel = scoreForecast(heldBack, forecastHoltWinters(fitHoltWinters(training, SEASON, { transform: 'log1p' }), SEASON));
      const additive = scoreForecast(heldBack, forecastHoltWinters(fitHoltWinters(training, SEASON), SEASON));
      const seasonalNaive = scoreForecast(heldBack, training.slice(-SEASON));
      // The true means: the error no forecast can beat (Poisson noise).
      const oracle = scoreForecast(heldBack, means.slice(-SEASON));

      results.push(
        `seed ${seed}: Holt-Winters(√) MAE ${holtWinters.mae.toFixed(2)} WAPE ${pct(holtWinters.wape)} sMAPE ${pct(holtWinters.smape)} ` +
        `95%-coverage ${pct(holtWinters.coverage!)} | log HW MAE ${logModel.mae.toFixed(2)} WAPE ${pct(logModel.wape)} | additive HW MAE ${additive.mae.toFixed(2)} WAPE ${pct(additive.wape)} | ` +
        `seasonal naive MAE ${seasonalNaive.mae.toFixed(2)} WAPE ${pct(seasonalNaive.wape)} | noise floor MAE ${oracle.mae.toFixed(2)} WAPE ${pct(oracle.wape)} ` +
        `(α=${model.alpha} β=${model.beta} γ=${model.gamma} φ=${model.phi})`,
      );
      expect(holtWinters.mae).toBeLessThan(seasonalNaive.mae);
      expect(holtWinters.wape!).toBeLessThan(0.25);
      expect(holtWinters.mae).toBeLessThan(1.5 * oracle.mae);
      expect(holtWinters.coverage!).toBeGreaterThanOrEqual(0.75);
    }
    console.log(`forecast error on the held-back day:\n${results.join('\n')}`);
  });

  it('needs two seasons of history and never forecasts negative counts', () => {
    expect(() => fitHoltWinters(new Array(30).fill(1), SEASON)).toThrow(RangeError);
    const sparse = syntheticSeries({ days: 4, bucketMinutes: 60, peak: 1, seed: 5 });
    const forecast = forecastHoltWinters(fitHoltWinters(sparse, SEASON, { transform: 'sqrt' }), SEASON);
    expect(forecast.every((p) => p.value >= 0 && p.low >= 0 && p.high >= p.value)).toBe(true);
  });

  it('scores a day with no traffic without a percentage: WAPE is null, not 0 % beside an error of 100 an hour', () => {
    const quietDay = new Array(SEASON).fill(0);
    const score = scoreForecast(quietDay, new Array(SEASON).fill(100));
    expect(score).toMatchObject({ mae: 100, wape: null });
    expect(Number.isFinite(score.smape)).toBe(true);
    expect(scoreForecast([], [])).toEqual({ mae: 0, smape: 0, wape: null });
  });
});
