import type { AlertCenter } from './alerts';
import { FIVE_MINUTES_MS, HOUR_MS, bucketStart, type BucketStore, type MetricName } from './buckets';
import { DEFAULT_SPIKE_OPTIONS, detectSpike, type SpikeOptions, type SpikeVerdict } from './detectors';
import { fitHoltWinters, forecastHoltWinters, scoreForecast, type ForecastError, type ForecastPoint } from './holt-winters';

/**
 * Hot issues: what customers ask about right now (per scenario, intent and unanswered-question cluster), compared
 * with the same time on previous days; spikes and emerging topics alert the managers. And where volume is heading:
 * a 24-hour Holt-Winters forecast from the hourly buckets.
 */

export const TOPIC_METRICS = ['scenario', 'intent', 'unanswered_cluster'] as const satisfies readonly MetricName[];
export type TopicMetric = (typeof TOPIC_METRICS)[number];

export interface HotIssue {
  metric: TopicMetric | 'messages';
  key: string;
  name?: string;
  /** Events in the detection window (the last `windowMinutes`). */
  windowCount: number;
  lastHour: number;
  previousHour: number;
  verdict: SpikeVerdict;
}

export interface ForecastResult {
  metric: MetricName;
  key: string;
  /** Hourly history, oldest first (complete hours only). */
  history: Array<{ start: Date; count: number }>;
  forecast: Array<ForecastPoint & { start: Date }>;
  /** Back-test: the model fitted without the last 24 h, scored on them. */
  backtest?: ForecastError;
  reason?: string;
}

export interface HotIssueMonitorOptions {
  buckets: BucketStore;
  alerts: AlertCenter;
  now: () => Date;
  recipients(): Promise<string[]>;
  /** Display name of a topic (a candidate's question, a scenario name). */
  nameOf?(metric: TopicMetric, key: string): Promise<string | undefined>;
  /** Example questions of a topic, for the alert. */
  examplesOf?(metric: TopicMetric, key: string): Promise<string[]>;
  windowMinutes?: number;
  seasonDays?: number;
  spike?: SpikeOptions;
}

const DAY_MS = 24 * HOUR_MS;
const FORECAST_HISTORY_DAYS = 14;
const SEASON = 24;
const MAX_CACHED_FORECASTS = 200;

export class HotIssueMonitor {
  private readonly windowMs: number;
  private readonly seasonDays: number;
  private readonly spike: SpikeOptions;
  private forecastCache = new Map<string, { hour: number; result: ForecastResult }>();

  constructor(private readonly options: HotIssueMonitorOptions) {
    this.windowMs = (options.windowMinutes ?? 30) * 60_000;
    this.seasonDays = options.seasonDays ?? 7;
    this.spike = options.spike ?? DEFAULT_SPIKE_OPTIONS;
  }

  /** Every active topic with its verdict, busiest first; with `raiseAlerts`, spikes are alerted (with cool-down). */
  async evaluate(options: { raiseAlerts: boolean }): Promise<HotIssue[]> {
    const now = this.options.now();
    const activeDays = await this.daysWithTraffic(now);
    const issues: HotIssue[] = [];
    for (const metric of ['messages', ...TOPIC_METRICS] as const) {
      const recent = await this.options.buckets.buckets('5m', { metric, from: new Date(now.getTime() - 2 * HOUR_MS), to: new Date(now.getTime() + 1) });
      const byKey = new Map<string, { window: number; lastHour: number; previousHour: number }>();
      for (const bucket of recent) {
        const start = new Date(bucket.start).getTime();
        const entry = byKey.get(bucket.key) ?? { window: 0, lastHour: 0, previousHour: 0 };
        // The bucket the window starts in counts for the part inside it, as the seasonal samples do: whole buckets
        // only would cover 25–30 minutes against a 30-minute baseline and miss up to a sixth of a spike.
        const windowStart = now.getTime() - this.windowMs;
        if (start + FIVE_MINUTES_MS > windowStart) entry.window += start >= windowStart ? bucket.count : (bucket.count * (start + FIVE_MINUTES_MS - windowStart)) / FIVE_MINUTES_MS;
        if (start >= now.getTime() - HOUR_MS) entry.lastHour += bucket.count;
        else entry.previousHour += bucket.count;
        byKey.set(bucket.key, entry);
      }
      if (!byKey.size) continue;
      const samples = await this.seasonalSamples(metric, [...byKey.keys()], now, activeDays);
      for (const [key, counts] of byKey) {
        issues.push({
          metric, key, windowCount: counts.window, lastHour: counts.lastHour, previousHour: counts.previousHour,
          verdict: detectSpike(counts.window, samples.get(key) ?? activeDays.map(() => 0), this.spike),
        });
      }
    }
    for (const issue of issues) {
      if (issue.metric !== 'messages') issue.name = await this.options.nameOf?.(issue.metric, issue.key);
    }
    issues.sort((a, b) => Number(b.verdict.spike) - Number(a.verdict.spike) || b.lastHour - a.lastHour);
    if (options.raiseAlerts) {
      for (const issue of issues.filter((i) => i.verdict.spike)) await this.alert(issue);
    }
    return issues;
  }

  /** Previous days (1..seasonDays back) on which the platform saw any traffic in the same window: a fresh install has none. */
  private async daysWithTraffic(now: Date): Promise<number[]> {
    const totals = await this.seasonalSamples('messages', ['all'], now, Array.from({ length: this.seasonDays }, (_, i) => i + 1));
    const all = totals.get('all') ?? [];
    const days: number[] = [];
    all.forEach((count, i) => { if (count > 0) days.push(i + 1); });
    return days;
  }

  /** Per key: the count in the same window on each of the given previous days (from hourly buckets, pro rata). */
  private async seasonalSamples(metric: MetricName, keys: string[], now: Date, days: number[]): Promise<Map<string, number[]>> {
    const result = new Map<string, number[]>();
    if (!days.length) return result;
    const maxDay = Math.max(...days);
    const hours = await this.options.buckets.buckets('1h', {
      metric, from: new Date(now.getTime() - maxDay * DAY_MS - this.windowMs - HOUR_MS), to: new Date(now.getTime() - DAY_MS + HOUR_MS),
    });
    const wanted = new Set(keys);
    const counts = new Map<string, Map<number, number>>();
    for (const bucket of hours) {
      if (!wanted.has(bucket.key)) continue;
      const map = counts.get(bucket.key) ?? new Map<number, number>();
      map.set(new Date(bucket.start).getTime(), bucket.count);
      counts.set(bucket.key, map);
    }
    for (const key of keys) {
      const map = counts.get(key) ?? new Map<number, number>();
      result.set(key, days.map((d) => {
        const to = now.getTime() - d * DAY_MS;
        const from = to - this.windowMs;
        let sum = 0;
        for (let h = bucketStart(new Date(from), HOUR_MS).getTime(); h < to; h += HOUR_MS) {
          const overlap = Math.min(to, h + HOUR_MS) - Math.max(from, h);
          if (overlap > 0) sum += ((map.get(h) ?? 0) * overlap) / HOUR_MS;
        }
        return sum;
      }));
    }
    return result;
  }

  private async alert(issue: HotIssue): Promise<void> {
    if (issue.metric === 'messages') {
      await this.options.alerts.raise({
        kind: 'topic_spike', subject: 'messages:all', severity: 'warning',
        title: '咨询量激增',
        summary: `近 ${this.windowMs / 60_000} 分钟 ${issue.windowCount} 条消息，往日同期约 ${issue.verdict.expected.toFixed(1)} 条（z=${issue.verdict.z.toFixed(1)}）`,
        evidence: { figures: this.figures(issue) }, recipients: await this.options.recipients(),
      });
      return;
    }
    const emerging = issue.verdict.kind === 'emerging';
    const label = issue.name ? `「${issue.name}」` : issue.key;
    const what = issue.metric === 'unanswered_cluster' ? '未解答问题' : issue.metric === 'scenario' ? '场景' : '意图';
    await this.options.alerts.raise({
      kind: emerging ? 'emerging_topic' : 'topic_spike', subject: `${issue.metric}:${issue.key}`, severity: emerging ? 'warning' : 'info',
      title: emerging ? `新热点${what}：${label}` : `热点${what}激增：${label}`,
      summary: `近 ${this.windowMs / 60_000} 分钟 ${issue.windowCount} 次，往日同期约 ${issue.verdict.expected.toFixed(1)} 次；近 1 小时 ${issue.lastHour}，前 1 小时 ${issue.previousHour}`,
      evidence: { figures: this.figures(issue), examples: await this.options.examplesOf?.(issue.metric, issue.key) },
      recipients: await this.options.recipients(),
    });
  }

  private figures(issue: HotIssue): Record<string, number> {
    return {
      windowCount: issue.windowCount, expected: Number(issue.verdict.expected.toFixed(2)), z: Number(issue.verdict.z.toFixed(2)),
      lastHour: issue.lastHour, previousHour: issue.previousHour,
    };
  }

  /** Hourly history and the next 24 hours (cached for the current hour: the hourly buckets only complete hourly). */
  async forecast(metric: MetricName, key: string): Promise<ForecastResult> {
    const now = this.options.now();
    const currentHour = bucketStart(now, HOUR_MS);
    const cacheKey = `${metric}:${key}`;
    const cached = this.forecastCache.get(cacheKey);
    if (cached && cached.hour === currentHour.getTime()) return cached.result;
    const history = await this.options.buckets.series('1h', {
      metric, key, from: new Date(currentHour.getTime() - FORECAST_HISTORY_DAYS * DAY_MS), to: currentHour,
    });
    // Leading empty hours are "before we existed", not "nobody asked": start at the first hour with traffic.
    const firstActive = history.findIndex((p) => p.count > 0);
    const series = firstActive < 0 ? [] : history.slice(firstActive);
    const result: ForecastResult = { metric, key, history: series, forecast: [] };
    if (series.length < 2 * SEASON) {
      result.reason = `需要至少 ${2 * SEASON} 小时的历史数据（现有 ${series.length} 小时）`;
    } else {
      const counts = series.map((p) => p.count);
      const model = fitHoltWinters(counts, SEASON, { transform: 'sqrt' });
      result.forecast = forecastHoltWinters(model, SEASON).map((p) => ({ ...p, start: new Date(currentHour.getTime() + (p.step - 1) * HOUR_MS) }));
      if (counts.length >= 3 * SEASON) {
        const held = counts.slice(-SEASON);
        const backtestModel = fitHoltWinters(counts.slice(0, -SEASON), SEASON, { transform: 'sqrt' });
        result.backtest = scoreForecast(held, forecastHoltWinters(backtestModel, SEASON));
      }
    }
    // Only this hour's forecasts are worth keeping, and a manager can ask for any key: the cache stays bounded.
    for (const [k, entry] of this.forecastCache) if (entry.hour !== currentHour.getTime()) this.forecastCache.delete(k);
    if (this.forecastCache.size >= MAX_CACHED_FORECASTS) this.forecastCache.delete(this.forecastCache.keys().next().value as string);
    this.forecastCache.set(cacheKey, { hour: currentHour.getTime(), result });
    return result;
  }
}
