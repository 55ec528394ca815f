import { z } from 'zod';
import { ConfigError } from '../config';
import type { NoticeTemplates } from './notices';

/**
 * Settings of the insurance domain and the mini-program it serves, read from the environment. The mini-program
 * pair (WECHAT_MP_APPID, WECHAT_MP_SECRET) is all-or-nothing: without it there is no login, so the user routes
 * answer 503; with half of it the server refuses to start and names what is missing.
 */
const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** base64 costs 4 bytes per 3; the JSON around it is small. */
const base64Budget = (bodyLimit: number) => Math.floor(((bodyLimit - 4096) * 3) / 4);

const optionalId = z.string().trim().min(1).optional();

const schema = z.object({
  WECHAT_API_BASE: z.string().url().default('https://api.weixin.qq.com'),
  WECHAT_MP_APPID: z.string().regex(/^wx[0-9a-zA-Z]{6,30}$/, 'must look like wx…').optional(),
  WECHAT_MP_SECRET: z.string().min(8, 'must be the AppSecret').optional(),
  /** Which build a subscription message opens. */
  WECHAT_MP_STATE: z.enum(['developer', 'trial', 'formal']).default('formal'),
  WECHAT_MP_TEMPLATE_POLICY_ISSUED: optionalId,
  WECHAT_MP_TEMPLATE_CLAIM_PROGRESS: optionalId,
  WECHAT_MP_TEMPLATE_RENEWAL: optionalId,
  /** A session ends after this many days without use … */
  MP_SESSION_IDLE_DAYS: z.coerce.number().int().min(1).max(30).default(7),
  /** … and in any case this many days after login. */
  MP_SESSION_MAX_DAYS: z.coerce.number().int().min(1).max(90).default(30),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(DEFAULT_BODY_LIMIT),
  /** Largest claim document (decoded); by default what fits in BODY_LIMIT_BYTES as base64. */
  CLAIM_DOCUMENT_MAX_BYTES: z.coerce.number().int().min(1024).optional(),
  /** Where claim documents are kept on disk; default <DATA_DIR>/documents. */
  DOCUMENT_STORAGE_DIR: z.string().min(1).optional(),
  /** Renewal reminders go out this many days before a renewable policy ends. */
  RENEWAL_REMINDER_DAYS: z.coerce.number().int().min(1).max(90).default(30),
  /** How often the housekeeping job runs (renewal reminders, unpaid orders, expired sessions); 0 = never. */
  INSURANCE_JOB_INTERVAL_MINUTES: z.coerce.number().int().min(0).default(60),
});

export interface MiniProgramSettings {
  appId: string;
  secret: string;
  apiBase: string;
  state: 'developer' | 'trial' | 'formal';
  templates: NoticeTemplates;
}

export interface InsuranceSettings {
  miniProgram?: MiniProgramSettings;
  sessions: { idleDays: number; maxDays: number };
  maxDocumentBytes: number;
  documentStorageDir?: string;
  renewalReminderDays: number;
  jobIntervalMinutes: number;
}

export function loadInsuranceSettings(env: NodeJS.ProcessEnv = process.env): InsuranceSettings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  const problems = result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}${cleaned[i.path.join('.')] !== undefined ? ` (got "${cleaned[i.path.join('.')]}")` : ''}`);
  if (!result.success) throw new ConfigError(problems);
  const s = result.data;
  if ((s.WECHAT_MP_APPID === undefined) !== (s.WECHAT_MP_SECRET === undefined)) {
    const missing = s.WECHAT_MP_APPID === undefined ? 'WECHAT_MP_APPID' : 'WECHAT_MP_SECRET';
    problems.push(`${missing}: is required for the mini-program (because ${missing === 'WECHAT_MP_APPID' ? 'WECHAT_MP_SECRET' : 'WECHAT_MP_APPID'} is set)`);
  }
  if (s.MP_SESSION_IDLE_DAYS > s.MP_SESSION_MAX_DAYS) problems.push('MP_SESSION_IDLE_DAYS: must not be more than MP_SESSION_MAX_DAYS');
  const budget = base64Budget(s.BODY_LIMIT_BYTES);
  if (s.CLAIM_DOCUMENT_MAX_BYTES !== undefined && s.CLAIM_DOCUMENT_MAX_BYTES > budget) {
    problems.push(
      `CLAIM_DOCUMENT_MAX_BYTES: ${s.CLAIM_DOCUMENT_MAX_BYTES} does not fit in BODY_LIMIT_BYTES (${s.BODY_LIMIT_BYTES}) as base64; raise BODY_LIMIT_BYTES to at least ${Math.ceil((s.CLAIM_DOCUMENT_MAX_BYTES * 4) / 3) + 4096}`,
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    ...(s.WECHAT_MP_APPID &&
      s.WECHAT_MP_SECRET && {
        miniProgram: {
          appId: s.WECHAT_MP_APPID,
          secret: s.WECHAT_MP_SECRET,
          apiBase: s.WECHAT_API_BASE,
          state: s.WECHAT_MP_STATE,
          templates: {
            policyIssued: s.WECHAT_MP_TEMPLATE_POLICY_ISSUED,
            claimProgress: s.WECHAT_MP_TEMPLATE_CLAIM_PROGRESS,
            renewalDue: s.WECHAT_MP_TEMPLATE_RENEWAL,
          },
        },
      }),
    sessions: { idleDays: s.MP_SESSION_IDLE_DAYS, maxDays: s.MP_SESSION_MAX_DAYS },
    maxDocumentBytes: s.CLAIM_DOCUMENT_MAX_BYTES ?? budget,
    documentStorageDir: s.DOCUMENT_STORAGE_DIR,
    renewalReminderDays: s.RENEWAL_REMINDER_DAYS,
    jobIntervalMinutes: s.INSURANCE_JOB_INTERVAL_MINUTES,
  };
}
