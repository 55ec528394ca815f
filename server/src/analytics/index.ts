import type Router from '@koa/router';
import { loadAgentDeskConfig, managersFor, type AgentDeskConfig } from '../agents/config';
import { Agent, type AgentDoc } from '../agents/models';
import { loadWechatConfig } from '../config/wechat-config';
import type { EmotionReading } from '../conversation/types';
import type { EventBus } from '../events/bus';
import { KNOWLEDGE_DIR } from '../knowledge/source';
import { learningRoutes } from '../learning/routes';
import { LearningService } from '../learning/service';
import type { Logger } from '../logging/logger';
import { segment } from '../nlu/segmenter';
import { AgentAnomalyMonitor } from '../qa/anomalies';
import { QaInspector } from '../qa/inspector';
import { qaRoutes } from '../qa/routes';
import { loadQaRules, type QaRules } from '../qa/rules';
import type { AccessTokenProvider } from '../wechat/access-token';
import { WeChatHttpClient } from '../wechat/api-client';
import { AlertCenter, type WeComAlertSender } from './alerts';
import { BucketStore, HOUR_MS } from './buckets';
import { DashboardAuth } from './dashboard/auth';
import { dashboardRoutes } from './dashboard/routes';
import { WeComOAuth } from './dashboard/wecom-oauth';
import { HotIssueMonitor, type TopicMetric } from './hot-issues';
import { TrafficRecorder } from './recorder';
import type { InsightSettings } from './settings';

export { loadInsightSettings, InsightSettingsError, type InsightSettings } from './settings';

/** The WeCom app managers use: alerts are sent through it and they sign in to the dashboard with it. */
export interface InsightWeCom {
  client: WeComAlertSender & { accessTokens: AccessTokenProvider; corpId: string; agentId: number };
  /** qyapi.weixin.qq.com (or a fake): for the sign-in code exchange. */
  apiBase: string;
}

export interface InsightDeps {
  events: EventBus;
  /** The published knowledge (the learning loop checks what the bot already answers). */
  knowledge: {
    search(question: string, options?: { k?: number }): Array<{ id: string; name: string; confidence: number }>;
    allSubIntents?(): Array<{ questions: string[] }>;
    /** A scenario's or intent's name, for hot issues and their alerts (ids otherwise). */
    topicName?(id: string): string | undefined;
  };
  settings: InsightSettings;
  logger: Logger;
  now?: () => Date;
  wecom?: InsightWeCom;
  /** wechat-config/qa-rules.yaml unless given. */
  rules?: QaRules;
  /** handoff-rules answer.minConfidence unless given. */
  answerConfidence?: number;
  /** Emotion of voice-call turns that come without one (the NLU's emotion model). */
  readEmotion?: (text: string) => EmotionReading;
  /** Managers to alert about an agent; the agent's team managers from agents.yaml unless given. */
  recipientsFor?: (agentId: string) => Promise<string[]>;
  /**
   * How long metric increments wait to be written together (default 1 s: far fewer bucket updates under load, a
   * dashboard at most a second behind). A replay that waits for every message's effects sets 0.
   */
  metricLingerMs?: number;
}

const BUCKET_RETENTION = { fiveMinuteMs: 3 * 24 * HOUR_MS, hourMs: 60 * 24 * HOUR_MS };
const METRIC_LINGER_MS = 1_000;

/**
 * Quality and insight, reacting to conversation events (the pipeline never calls it): automatic inspection and
 * agent anomaly alerts (qa/), traffic buckets, hot issues and forecasts (analytics/), the learning knowledge base
 * (learning/), and the manager dashboard. `start()` listens and sweeps on a timer; `sweep()` runs one pass.
 */
export function createInsight(deps: InsightDeps) {
  const now = deps.now ?? (() => new Date());
  const { events, settings, logger } = deps;
  for (const warning of settings.warnings) logger.warn(warning);
  const rules = deps.rules ?? loadQaRules();
  const answerConfidence = deps.answerConfidence ?? loadWechatConfig().handoffRules.answer.minConfidence;

  let deskConfig: AgentDeskConfig | null | undefined;
  const deskConfigOrNull = () => {
    if (deskConfig === undefined) {
      try {
        deskConfig = loadAgentDeskConfig();
      } catch (err) {
        logger.warn({ err }, 'agents.yaml unreadable: alerts go to every manager');
        deskConfig = null;
      }
    }
    return deskConfig;
  };
  const allManagers = async () => (await Agent.find({ role: 'manager' }, { _id: 1 }).lean<Array<{ _id: string }>>()).map((a) => a._id);
  const recipientsFor = deps.recipientsFor ?? (async (agentId: string) => {
    const config = deskConfigOrNull();
    const agent = await Agent.findById(agentId).lean<AgentDoc>();
    const managers = config ? managersFor(config, agent?.team ?? undefined) : [];
    return managers.length ? managers : allManagers();
  });
  const agentName = async (agentId: string) => (await Agent.findById(agentId, { name: 1 }).lean<{ name?: string }>())?.name;

  // Counts may reach the dashboards up to a second late: in exchange a busy instance writes its buckets about once
  // a second instead of after every round of messages (bucket upserts cost FerretDB a scan each).
  const buckets = new BucketStore({ lingerMs: deps.metricLingerMs ?? METRIC_LINGER_MS });
  const alerts = new AlertCenter({
    events, now, wecom: deps.wecom?.client,
    cooldownMs: { agent_anomaly: rules.anomaly.cooldownHours * HOUR_MS, topic_spike: settings.topicAlertCooldownMs, emerging_topic: settings.topicAlertCooldownMs },
    dashboardUrl: settings.publicUrl ? `${settings.publicUrl}/dashboard` : undefined,
    onNotifyError: (err) => logger.warn({ err }, 'manager alert not delivered in WeCom'),
  });
  const anomalies = new AgentAnomalyMonitor({ rules: rules.anomaly, alerts, now, recipientsFor, nameOf: agentName });
  const inspector = new QaInspector({
    events, rules, now, idleMs: settings.idleMs, anomalies, readEmotion: deps.readEmotion,
    onError: (err, what) => logger.error({ err }, `qa: ${what} failed`),
  });
  const recorder = new TrafficRecorder({ events, buckets, topicMinConfidence: answerConfidence });
  const learning = new LearningService({
    events, now, knowledge: deps.knowledge, buckets, segment, answerConfidence,
    knowledgeDir: settings.learnedKnowledgeDir ?? KNOWLEDGE_DIR,
  });
  const hotIssues = new HotIssueMonitor({
    buckets, alerts, now, recipients: allManagers,
    nameOf: async (metric: TopicMetric, key: string) => (metric === 'unanswered_cluster' ? learning.candidateName(key) : deps.knowledge.topicName?.(key)),
    examplesOf: async (metric: TopicMetric, key: string) => (metric === 'unanswered_cluster' ? learning.examples(key) : []),
  });

  const oauth = deps.wecom && settings.publicUrl
    ? new WeComOAuth({
      http: new WeChatHttpClient({ baseUrl: deps.wecom.apiBase }), accessTokens: deps.wecom.client.accessTokens,
      corpId: deps.wecom.client.corpId, agentId: deps.wecom.client.agentId, authorizeBase: settings.oauthBase,
    })
    : undefined;
  const auth = new DashboardAuth({ adminToken: settings.adminToken, oauth, publicUrl: settings.publicUrl });
  const managerOnly = auth.api();
  const routers: Router[] = [
    dashboardRoutes({ auth, sources: { buckets, hotIssues, alerts, inspector, learning, now, agentName } }),
    qaRoutes(inspector, managerOnly, now),
    learningRoutes(learning, managerOnly),
  ];

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastPurge = 0;
  let listening = false;

  /** One pass: inspect quiet conversations, judge agents, cluster new misses, look for hot issues, purge old buckets. */
  const sweep = async () => {
    const inspected = await inspector.sweepIdle();
    await inspector.checkDeferredAnomalies();
    const clustering = await learning.refreshCandidates();
    const issues = await hotIssues.evaluate({ raiseAlerts: true });
    const at = now().getTime();
    if (at - lastPurge >= HOUR_MS) {
      await buckets.purge(new Date(at), BUCKET_RETENTION);
      lastPurge = at;
    }
    return { inspected, clustering, spikes: issues.filter((i) => i.verdict.spike).length };
  };

  return {
    routers,
    inspector,
    learning,
    hotIssues,
    alerts,
    buckets,
    sweep,
    /** Subscribes to the events (once) and sweeps every INSIGHT_SWEEP_MS. */
    async start(): Promise<void> {
      if (!listening) {
        recorder.listen();
        inspector.listen();
        learning.listen();
        listening = true;
      }
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = sweep()
          .then(() => undefined, (err: unknown) => { logger.error({ err }, 'insight sweep failed'); })
          .finally(() => { running = undefined; });
      }, settings.sweepIntervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type Insight = ReturnType<typeof createInsight>;
