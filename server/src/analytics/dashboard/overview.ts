import type { AlertCenter, AlertRecord } from '../alerts';
import { FIVE_MINUTES_MS, type BucketStore } from '../buckets';
import type { HotIssue, HotIssueMonitor, ForecastResult } from '../hot-issues';
import type { AgentQaSummary, QaInspector } from '../../qa/inspector';
import { lastUtcDays, type InspectionRecord } from '../../qa/models';
import type { KnowledgeCandidateRecord } from '../../learning/models';
import type { LearningService } from '../../learning/service';

/** Everything the manager dashboard shows, in one read: volumes and rates from the buckets, QA, alerts, topics. */
export interface DashboardOverview {
  generatedAt: Date;
  window: { from: Date; to: Date; hours: number };
  volume: Array<{ start: Date; messages: number; handoffs: number; unanswered: number }>;
  totals: { messages: number; sessions: number; botQuestions: number; botAnswered: number; handoffs: number; unanswered: number };
  /** Share of the questions the bot decided on that it answered. */
  botResolutionRate: number | null;
  /** Handoffs per session. */
  handoffRate: number | null;
  handoffReasons: Array<{ reason: string; count: number }>;
  emotions: Array<{ label: string; count: number }>;
  qaByAgent: Array<AgentQaSummary & { name?: string }>;
  lowestInspections: Array<Pick<InspectionRecord, '_id' | 'conversationId' | 'agentIds' | 'score' | 'endedAt'> & { rules: string[] }>;
  alerts: AlertRecord[];
  hotIssues: HotIssue[];
  forecast: ForecastResult;
  reviewQueue: Array<Pick<KnowledgeCandidateRecord, '_id' | 'name' | 'questionCount' | 'questions' | 'suggestedAnswers' | 'firstSeenAt' | 'lastSeenAt' | 'nearestExisting'>>;
  /** Learned knowledge in service (approved candidates), most asked first: a manager can take one out. */
  learnedKnowledge: Array<Pick<KnowledgeCandidateRecord, '_id' | 'name' | 'questions' | 'answer' | 'reviewedBy' | 'reviewedAt'>>;
}

export interface OverviewSources {
  buckets: BucketStore;
  hotIssues: HotIssueMonitor;
  alerts: AlertCenter;
  inspector: QaInspector;
  learning: LearningService;
  now: () => Date;
  agentName?(agentId: string): Promise<string | undefined>;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const sum = (map: Map<string, number>) => [...map.values()].reduce((s, v) => s + v, 0);

export async function dashboardOverview(sources: OverviewSources, hours: number): Promise<DashboardOverview> {
  const now = sources.now();
  const to = new Date(now.getTime() + 1);
  const from = new Date(Math.floor((now.getTime() - hours * 3_600_000) / FIVE_MINUTES_MS) * FIVE_MINUTES_MS);
  const { buckets } = sources;
  const totalOf = async (metric: Parameters<BucketStore['totals']>[1]['metric']) => buckets.totals('5m', { metric, from, to });

  const [messages, handoffs, unanswered] = await Promise.all([
    buckets.series('5m', { metric: 'messages', key: 'all', from, to }),
    buckets.series('5m', { metric: 'handoffs', key: 'all', from, to }),
    buckets.series('5m', { metric: 'unanswered', key: 'all', from, to }),
  ]);
  const [sessions, botQuestions, botAnswered, reasons, emotions] = await Promise.all([
    totalOf('sessions'), totalOf('bot_questions'), totalOf('bot_answered'), totalOf('handoff_reason'), totalOf('emotion'),
  ]);
  const totals = {
    messages: messages.reduce((s, p) => s + p.count, 0),
    sessions: sum(sessions),
    botQuestions: sum(botQuestions),
    botAnswered: sum(botAnswered),
    handoffs: handoffs.reduce((s, p) => s + p.count, 0),
    unanswered: unanswered.reduce((s, p) => s + p.count, 0),
  };

  // 近 7 天: the last seven UTC days, today included (agents' QA is kept per UTC day).
  const qaDays = lastUtcDays(now, 7);
  const qaByAgent = await Promise.all(
    (await sources.inspector.agentSummaries(qaDays.from, qaDays.to)).map(async (s) => ({ ...s, name: await sources.agentName?.(s.agentId) })),
  );
  // Over the whole window (picking from the latest 200 missed the worst of a busy day).
  const lowest = await sources.inspector.lowestInspections(new Date(now.getTime() - hours * 3_600_000), now, 8);
  const lowestInspections = lowest
    .map((i) => ({ _id: i._id, conversationId: i.conversationId, agentIds: i.agentIds, score: i.score, endedAt: i.endedAt, rules: [...new Set(i.hits.map((h) => h.rule))] }));

  const [alerts, hotIssues, forecast, pending, published] = await Promise.all([
    sources.alerts.recent(20),
    sources.hotIssues.evaluate({ raiseAlerts: false }),
    sources.hotIssues.forecast('messages', 'all'),
    sources.learning.candidates('pending', 20),
    sources.learning.candidates('approved', 50),
  ]);

  return {
    generatedAt: now,
    window: { from, to: now, hours },
    volume: messages.map((p, i) => ({ start: p.start, messages: p.count, handoffs: handoffs[i]?.count ?? 0, unanswered: unanswered[i]?.count ?? 0 })),
    totals,
    botResolutionRate: ratio(totals.botAnswered, totals.botQuestions),
    handoffRate: ratio(totals.handoffs, totals.sessions),
    handoffReasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    emotions: [...emotions].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count),
    qaByAgent,
    lowestInspections,
    alerts,
    hotIssues: hotIssues.filter((i) => i.metric !== 'messages').slice(0, 15),
    forecast,
    reviewQueue: pending.map((c) => ({
      _id: c._id, name: c.name, questionCount: c.questionCount, questions: c.questions.slice(0, 5), suggestedAnswers: c.suggestedAnswers.slice(0, 2),
      firstSeenAt: c.firstSeenAt, lastSeenAt: c.lastSeenAt, nearestExisting: c.nearestExisting,
    })),
    learnedKnowledge: published.map((c) => ({
      _id: c._id, name: c.name, questions: c.questions.slice(0, 5), answer: c.answer, reviewedBy: c.reviewedBy, reviewedAt: c.reviewedAt,
    })),
  };
}
