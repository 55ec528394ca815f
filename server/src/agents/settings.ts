import { z } from 'zod';

/**
 * The WeCom (企业微信) self-built app the agents work in, from the environment. All-or-nothing: with none of the
 * WECOM_* variables set the agent desk is simply off; with some set, every missing one is named.
 */
export const agentDeskSettingsSchema = z.object({
  /** 企业ID: also the receive id of the encrypted callback. */
  WECOM_CORP_ID: z.string().regex(/^(ww|wx)[0-9a-zA-Z]{6,30}$/, 'must look like ww… (the CorpID)'),
  /** The self-built app's AgentId. */
  WECOM_AGENT_ID: z.coerce.number().int().positive(),
  /** The app's Secret (each self-built app has its own). */
  WECOM_SECRET: z.string().min(8),
  /** Callback Token. */
  WECOM_TOKEN: z.string().regex(/^[A-Za-z0-9]{3,32}$/, 'must be 3–32 letters or digits'),
  /** Callback EncodingAESKey. */
  WECOM_AES_KEY: z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be the 43-character EncodingAESKey'),
  WECOM_API_BASE: z.string().url().default('https://qyapi.weixin.qq.com'),
  /** Callbacks whose timestamp is further than this from our clock are refused as replays. */
  WECOM_CALLBACK_MAX_SKEW_SECONDS: z.coerce.number().int().min(0).default(300),
  /** How often each instance sweeps offers, the queue and SLA timers. */
  AGENT_DESK_SWEEP_MS: z.coerce.number().int().min(500).default(5_000),
});

export interface AgentDeskSettings {
  corpId: string;
  agentId: number;
  secret: string;
  token: string;
  aesKey: string;
  apiBase: string;
  maxClockSkewSeconds: number;
  sweepIntervalMs: number;
}

export class AgentDeskSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid WeCom / agent desk configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentDeskSettingsError';
  }
}

const REQUIRED = ['WECOM_CORP_ID', 'WECOM_AGENT_ID', 'WECOM_SECRET', 'WECOM_TOKEN', 'WECOM_AES_KEY'] as const;

/** Reads the settings; undefined when WeCom is not configured at all. Throws naming every missing or bad variable. */
export function loadAgentDeskSettings(env: NodeJS.ProcessEnv = process.env): AgentDeskSettings | undefined {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  if (!REQUIRED.some((name) => name in cleaned)) return undefined;
  const result = agentDeskSettingsSchema.safeParse(cleaned);
  if (!result.success) {
    throw new AgentDeskSettingsError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return name in cleaned ? `${name}: ${issue.message}` : `${name} is required for the WeCom agent desk (some WECOM_* variables are set)`;
      }),
    );
  }
  const s = result.data;
  return {
    corpId: s.WECOM_CORP_ID, agentId: s.WECOM_AGENT_ID, secret: s.WECOM_SECRET, token: s.WECOM_TOKEN, aesKey: s.WECOM_AES_KEY,
    apiBase: s.WECOM_API_BASE, maxClockSkewSeconds: s.WECOM_CALLBACK_MAX_SKEW_SECONDS, sweepIntervalMs: s.AGENT_DESK_SWEEP_MS,
  };
}
