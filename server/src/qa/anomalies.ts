import type { AlertCenter, AlertRecord } from '../analytics/alerts';
import { robustBaseline, robustZ } from '../analytics/robust';
import { AgentQaDay, Inspection, utcDayStart, type AgentFlag, type AgentQaDayRecord, type InspectionRecord } from './models';
import type { RuleHit } from './inspect';
import type { AnomalyMetricName, QaRules } from './rules';

/**
 * An agent in trouble, before a customer complains: each agent's recent inspections against their own daily
 * history and against the rest of the team, with robust z-scores. Both references must agree (when both are
 * available), so a bad day for everyone (an outage) or a naturally strict agent does not page a manager.
 */

const METRICS: AnomalyMetricName[] = ['score', 'rudeness', 'forbiddenPhrases', 'slowResponse', 'emotionWorse'];
const METRIC_TITLES: Record<AnomalyMetricName, string> = {
  score: '质检均分', rudeness: '态度问题占比', forbiddenPhrases: '违规用语占比', slowResponse: '响应超时占比', emotionWorse: '客户情绪变差占比',
};

/** The per-inspection facts about one agent that the anomaly metrics count. */
export function agentFlags(inspection: Pick<InspectionRecord, 'hits' | 'passed'>, agentId: string): Record<AgentFlag, boolean> {
  const mine = (hit: RuleHit) => hit.agentId === agentId;
  const has = (...rules: RuleHit['rule'][]) => inspection.hits.some((hit) => mine(hit) && rules.includes(hit.rule));
  return {
    rudeness: has('rudeness'),
    forbiddenPhrases: has('forbidden_phrase'),
    slowResponse: has('first_response', 'turn_response'),
    emotionWorse: has('emotion_worse'),
    failed: !inspection.passed,
  };
}

type MetricValues = Record<AnomalyMetricName, number>;

function valuesOf(inspections: readonly InspectionRecord[], agentId: string): MetricValues {
  const n = inspections.length;
  const share = (flag: AgentFlag) => inspections.filter((i) => agentFlags(i, agentId)[flag]).length / n;
  return {
    score: inspections.reduce((sum, i) => sum + i.score, 0) / n,
    rudeness: share('rudeness'),
    forbiddenPhrases: share('forbiddenPhrases'),
    slowResponse: share('slowResponse'),
    emotionWorse: share('emotionWorse'),
  };
}

function dailyValuesOf(day: AgentQaDayRecord): MetricValues {
  const n = day.inspections;
  const flag = (name: AgentFlag) => (day.flags?.[name] ?? 0) / n;
  return {
    score: day.scoreSum / n, rudeness: flag('rudeness'), forbiddenPhrases: flag('forbiddenPhrases'),
    slowResponse: flag('slowResponse'), emotionWorse: flag('emotionWorse'),
  };
}

export interface AnomalousMetric {
  metric: AnomalyMetricName;
  value: number;
  ownMedian?: number;
  ownZ?: number;
  teamMedian?: number;
  teamZ?: number;
}

export interface AgentAnomaly {
  agentId: string;
  inspections: number;
  metrics: AnomalousMetric[];
  alert?: AlertRecord;
}

export interface AgentAnomalyMonitorOptions {
  rules: QaRules['anomaly'];
  alerts: AlertCenter;
  now: () => Date;
  /** Managers to tell about this agent. */
  recipientsFor(agentId: string): Promise<string[]>;
  /** Display name for messages. */
  nameOf?(agentId: string): Promise<string | undefined>;
}

/** Days with fewer inspections than this say little about an agent's normal. */
const MIN_INSPECTIONS_PER_BASELINE_DAY = 3;

export class AgentAnomalyMonitor {
  constructor(private readonly options: AgentAnomalyMonitorOptions) {}

  /** Judges the given agents now; raises (at most) one alert per anomalous agent, subject to the cool-down. */
  async check(agentIds: readonly string[]): Promise<AgentAnomaly[]> {
    const { rules, now } = { rules: this.options.rules, now: this.options.now() };
    const windowStart = new Date(now.getTime() - rules.windowHours * 3_600_000);
    const recent = await Inspection.find(
      { endedAt: { $gt: windowStart, $lte: now } },
      { agentIds: 1, hits: 1, score: 1, passed: 1, conversationId: 1 },
    ).lean<InspectionRecord[]>();
    const byAgent = new Map<string, InspectionRecord[]>();
    for (const inspection of recent) {
      for (const agentId of inspection.agentIds) {
        const list = byAgent.get(agentId) ?? [];
        list.push(inspection);
        byAgent.set(agentId, list);
      }
    }
    const judged = new Map<string, MetricValues>();
    for (const [agentId, list] of byAgent) if (list.length >= rules.minInspections) judged.set(agentId, valuesOf(list, agentId));

    const found: AgentAnomaly[] = [];
    for (const agentId of new Set(agentIds)) {
      const mine = judged.get(agentId);
      if (!mine) continue;
      const team = [...judged.entries()].filter(([id]) => id !== agentId).map(([, values]) => values);
      const own = await this.ownDailyValues(agentId, windowStart);
      const anomalous = this.compare(mine, byAgent.get(agentId)!.length, own, team);
      if (!anomalous.length) continue;
      const anomaly: AgentAnomaly = { agentId, inspections: byAgent.get(agentId)!.length, metrics: anomalous };
      anomaly.alert = await this.alert(anomaly, byAgent.get(agentId)!);
      found.push(anomaly);
    }
    return found;
  }

  private async ownDailyValues(agentId: string, windowStart: Date): Promise<MetricValues[]> {
    const rules = this.options.rules;
    // Whole days before the window: the window itself must not be its own baseline.
    const lastDay = utcDayStart(windowStart);
    const firstDay = new Date(lastDay.getTime() - rules.baselineDays * 86_400_000);
    const days = await AgentQaDay.find({ agentId, day: { $gte: firstDay, $lt: lastDay } }).lean<AgentQaDayRecord[]>();
    return days.filter((d) => d.inspections >= MIN_INSPECTIONS_PER_BASELINE_DAY).map(dailyValuesOf);
  }

  private compare(mine: MetricValues, inspections: number, own: MetricValues[], team: MetricValues[]): AnomalousMetric[] {
    const rules = this.options.rules;
    const ownAvailable = own.length >= rules.minBaselineDays;
    const teamAvailable = team.length >= rules.minTeamAgents;
    if (!ownAvailable && !teamAvailable) return [];
    const anomalous: AnomalousMetric[] = [];
    for (const metric of METRICS) {
      const { direction, minScale } = rules.metrics[metric];
      const bad = (z: number) => (direction === 'lower' ? -z : z);
      const value = mine[metric];
      const result: AnomalousMetric = { metric, value };
      let ok = true;
      // A share over a few inspections is itself noisy (binomial): 3 of 6 is not surely worse than 2 of 6.
      // The rate's reference is the larger of the median and the mean (most agents at 0 of 6 hide a real base rate).
      const referenceOf = (values: number[]) => {
        if (metric === 'score') return robustBaseline(values, minScale);
        const first = robustBaseline(values, minScale);
        const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
        const p = Math.min(0.98, Math.max(0.02, first.centre, mean));
        return robustBaseline(values, Math.max(minScale, Math.sqrt((p * (1 - p)) / inspections)));
      };
      if (ownAvailable) {
        const baseline = referenceOf(own.map((v) => v[metric]));
        result.ownMedian = baseline.centre;
        result.ownZ = robustZ(value, baseline);
        ok &&= bad(result.ownZ) >= rules.minZ;
      }
      if (teamAvailable) {
        const baseline = referenceOf(team.map((v) => v[metric]));
        result.teamMedian = baseline.centre;
        result.teamZ = robustZ(value, baseline);
        // Judged against the team alone (a new agent), more evidence is needed.
        ok &&= bad(result.teamZ) >= (ownAvailable ? rules.minZ : rules.teamOnlyMinZ);
      }
      if (ok) anomalous.push(result);
    }
    return anomalous;
  }

  private async alert(anomaly: AgentAnomaly, inspections: InspectionRecord[]): Promise<AlertRecord | undefined> {
    const { agentId } = anomaly;
    const name = (await this.options.nameOf?.(agentId)) ?? agentId;
    const format = (metric: AnomalyMetricName, v: number | undefined) =>
      v === undefined ? '—' : metric === 'score' ? v.toFixed(1) : `${Math.round(v * 100)}%`;
    const lines = anomaly.metrics.map((m) =>
      `${METRIC_TITLES[m.metric]} ${format(m.metric, m.value)}（本人常态 ${format(m.metric, m.ownMedian)}，团队 ${format(m.metric, m.teamMedian)}${m.teamZ !== undefined ? `，z=${m.teamZ.toFixed(1)}` : ''}）`,
    );
    const worst = [...inspections].sort((a, b) => a.score - b.score).slice(0, 5);
    const messageIds = worst.flatMap((i) => i.hits.filter((h) => h.agentId === agentId).flatMap((h) => h.evidence));
    const serious = anomaly.metrics.some((m) => m.metric === 'rudeness' || m.metric === 'forbiddenPhrases');
    return this.options.alerts.raise({
      kind: 'agent_anomaly', subject: agentId, severity: serious ? 'critical' : 'warning',
      title: `坐席 ${name} 近 ${this.options.rules.windowHours} 小时服务质量异常`,
      summary: `${anomaly.inspections} 通会话：${lines.join('；')}`,
      evidence: {
        inspectionIds: worst.map((i) => i._id), messageIds: [...new Set(messageIds)].slice(0, 20),
        figures: Object.fromEntries(anomaly.metrics.map((m) => [m.metric, Number(m.value.toFixed(3))])),
      },
      recipients: await this.options.recipientsFor(agentId),
      cooldownMs: this.options.rules.cooldownHours * 3_600_000,
    });
  }
}
