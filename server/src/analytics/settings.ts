import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * Settings of quality & insight (inspection, alerts, hot issues, the learning knowledge base, the manager
 * dashboard), from the environment. Every problem is named in one error. Nothing is required: without
 * ADMIN_TOKEN and without WeCom sign-in the dashboard says which variables to set.
 */
export const insightSettingsSchema = z.object({
  /** A shared secret for signing in to the dashboard without WeCom (local use, scripts). */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters (it guards every conversation)').optional(),
  /** The server's public base URL: the WeCom sign-in returns here, and alerts link to the dashboard. */
  DASHBOARD_PUBLIC_URL: z.string().url().optional(),
  /** Where WeCom's sign-in page lives (a local fake in tests). */
  WECOM_OAUTH_BASE: z.string().url().default('https://open.weixin.qq.com'),
  /** A conversation silent this long is finished and inspected. */
  QA_IDLE_MINUTES: z.coerce.number().positive().default(30),
  /** How often each instance sweeps: idle conversations, hot issues, unanswered-question clusters. */
  INSIGHT_SWEEP_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** At most one alert per topic in this time. */
  TOPIC_ALERT_COOLDOWN_MINUTES: z.coerce.number().positive().default(360),
  /** Where approved knowledge is exported (its `scenarios/learned.yaml`); the repository's knowledge/ by default. */
  LEARNED_KNOWLEDGE_DIR: z.string().min(1).optional(),
});

export interface InsightSettings {
  /** Things that work but not fully (logged at start). */
  warnings: string[];
  adminToken?: string;
  publicUrl?: string;
  oauthBase: string;
  idleMs: number;
  sweepIntervalMs: number;
  topicAlertCooldownMs: number;
  learnedKnowledgeDir?: string;
}

export class InsightSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid quality & insight configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InsightSettingsError';
  }
}

/**
 * Reads the settings; throws naming every invalid variable. `wecomSignIn`: the WeCom app is configured (WECOM_*
 * set), so managers may sign in with WeCom, which also needs DASHBOARD_PUBLIC_URL for the return address (without
 * it sign-in through WeCom is off and a warning says so). `demo`: outside production, where nobody could otherwise
 * sign in, a random admin token is made for this run and shown in the start-up log (like the other demos).
 */
export function loadInsightSettings(env: NodeJS.ProcessEnv = process.env, options: { wecomSignIn?: boolean; demo?: boolean } = {}): InsightSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = insightSettingsSchema.safeParse(cleaned);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return `${name}: ${issue.message}${cleaned[name] !== undefined && name !== 'ADMIN_TOKEN' ? ` (got "${cleaned[name]}")` : ''}`;
    });
  if (problems.length || !result.success) throw new InsightSettingsError(problems);
  const s = result.data;
  const warnings: string[] = [];
  // Not fatal: the agent desk works without the dashboard; say what is missing instead of refusing to start.
  if (options.wecomSignIn && !s.DASHBOARD_PUBLIC_URL) warnings.push('dashboard: WeCom sign-in is off until DASHBOARD_PUBLIC_URL is set (the WECOM_* variables are)');
  let adminToken = s.ADMIN_TOKEN;
  if (!adminToken && !(options.wecomSignIn && s.DASHBOARD_PUBLIC_URL)) {
    if (options.demo) {
      adminToken = randomBytes(18).toString('base64url');
      warnings.push(`dashboard: no ADMIN_TOKEN, so this run signs in with the token ${adminToken} (outside production only; set ADMIN_TOKEN to choose one)`);
    } else {
      warnings.push('dashboard: nobody can sign in: set ADMIN_TOKEN, or WECOM_* and DASHBOARD_PUBLIC_URL');
    }
  }
  return {
    warnings,
    adminToken,
    publicUrl: s.DASHBOARD_PUBLIC_URL?.replace(/\/+$/, ''),
    oauthBase: s.WECOM_OAUTH_BASE.replace(/\/+$/, ''),
    idleMs: s.QA_IDLE_MINUTES * 60_000,
    sweepIntervalMs: s.INSIGHT_SWEEP_MS,
    topicAlertCooldownMs: s.TOPIC_ALERT_COOLDOWN_MINUTES * 60_000,
    learnedKnowledgeDir: s.LEARNED_KNOWLEDGE_DIR,
  };
}
