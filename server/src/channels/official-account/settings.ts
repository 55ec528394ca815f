import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AppConfig } from '../../config';
import { WECHAT_CONFIG_DIR } from '../../config/wechat-config';
import type { OfficialAccountSettings } from './webhook';

const demoAccountSchema = z.object({
  appId: z.string(), token: z.string(), aesKey: z.string().length(43), ghId: z.string(),
});
export type DemoOfficialAccount = z.infer<typeof demoAccountSchema>;

export function readDemoOfficialAccount(dir: string = WECHAT_CONFIG_DIR): DemoOfficialAccount {
  return demoAccountSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, 'demo-official-account.json'), 'utf8')));
}

/**
 * The account the webhook serves: the configured one, or outside production the made-up demo account from
 * wechat-config/ so `npm start` + `npm run demo:oa` work with no WeChat account at all.
 */
export function officialAccountSettings(config: AppConfig): (OfficialAccountSettings & { secret?: string; demo: boolean }) | undefined {
  if (config.WECHAT_OA_APPID && config.WECHAT_OA_TOKEN) {
    return {
      appId: config.WECHAT_OA_APPID, token: config.WECHAT_OA_TOKEN, aesKey: config.WECHAT_OA_AES_KEY, secret: config.WECHAT_OA_SECRET,
      maxClockSkewSeconds: config.WECHAT_OA_MAX_CLOCK_SKEW_S, demo: false,
    };
  }
  if (config.NODE_ENV === 'production') return undefined;
  const demo = readDemoOfficialAccount();
  return { appId: demo.appId, token: demo.token, aesKey: demo.aesKey, maxClockSkewSeconds: config.WECHAT_OA_MAX_CLOCK_SKEW_S, demo: true };
}
