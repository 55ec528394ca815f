import { z } from 'zod';

/**
 * Every per-deployment setting, read once from the environment and validated.
 * Channel groups (Official Account, WeCom, Pay) are added by their issues; each is all-or-nothing.
 */
const portNumber = z.coerce.number().int().min(0).max(65535);

/** Settings that only make sense together: set one, and the rest of the group is required. */
const GROUPS: Record<string, { when: string; requires: string[] }> = {
  'Official Account': { when: 'WECHAT_OA_APPID', requires: ['WECHAT_OA_SECRET', 'WECHAT_OA_TOKEN'] },
};

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: portNumber.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  /** Where the embedded database keeps its files between restarts. */
  DATA_DIR: z.string().min(1).default('.data'),
  /** Largest accepted request body, in bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** How long shutdown waits for in-flight requests before closing them. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** A message claimed longer ago than this by a process that never finished it is taken over by a retry. */
  CONVERSATION_STALE_CLAIM_MS: z.coerce.number().int().positive().default(20_000),
  /** How often the server looks for answers it still owes after a crash. */
  RECOVERY_INTERVAL_MS: z.coerce.number().int().positive().default(5_000),
  /** How often each instance checks whether the knowledge changed (edits made through any instance). */
  KNOWLEDGE_REFRESH_MS: z.coerce.number().int().positive().default(5_000),
  /** Where messages are understood: a worker thread (a second core takes that work) or the serving thread. */
  UNDERSTANDING_THREAD: z.enum(['worker', 'main']).default('worker'),

  /** The mini-program's h5 build, served at /h5/ (relative to the repository root). */
  MINIPROGRAM_H5_DIR: z.string().min(1).default('miniprogram/dist-h5'),

  /** Base URL of every WeChat server API call (a local fake in tests and demos). */
  WECHAT_API_BASE: z.string().url().default('https://api.weixin.qq.com'),
  WECHAT_OA_APPID: z.string().regex(/^wx[0-9a-zA-Z]{6,30}$/, 'must look like wx…').optional(),
  WECHAT_OA_SECRET: z.string().min(8).optional(),
  WECHAT_OA_TOKEN: z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'must be 3–32 letters or digits').optional(),
  /** The EncodingAESKey: needed for compatible and safe (encrypted) mode. */
  WECHAT_OA_AES_KEY: z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be the 43-character EncodingAESKey').optional(),
  /** How long a webhook waits for the answer before replying `success` and sending it as a customer-service message. */
  WECHAT_OA_REPLY_BUDGET_MS: z.coerce.number().int().positive().max(4_500).default(4_000),
  /** Pushes whose timestamp is further from our clock are refused as replays; 0 turns the check off. */
  WECHAT_OA_MAX_CLOCK_SKEW_S: z.coerce.number().int().min(0).default(300),
}).superRefine((config, ctx) => {
  for (const [group, { when, requires }] of Object.entries(GROUPS)) {
    if (config[when as keyof typeof config] === undefined) continue;
    for (const name of requires) {
      if (config[name as keyof typeof config] === undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `is required for the ${group} (because ${when} is set)` });
      }
    }
  }
});

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment; on failure name every bad variable in one error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings mean "not set", as shells and .env files often leave them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const given = cleaned[name];
    return `${name}: ${issue.message}${given !== undefined ? ` (got "${given}")` : ''}`;
  });
  throw new ConfigError(problems);
}
