import { z } from 'zod';

/**
 * Every per-deployment setting, read once from the environment and validated.
 * Channel groups (Official Account, WeCom, Pay) are added by their issues; each is all-or-nothing.
 */
const portNumber = z.coerce.number().int().min(0).max(65535);

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
  /** How often each instance checks whether the knowledge changed (edits made through any instance). */
  KNOWLEDGE_REFRESH_MS: z.coerce.number().int().positive().default(5_000),
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
