import fs from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../config';
import { loadPrivateKey, loadPublicKey } from './wechatpay/crypto';

/**
 * WeChat Pay v3 merchant settings, all-or-nothing: with none of the WECHATPAY_* variables set, payments are off
 * (orders can be quoted and created, paying answers 503); with some set, every missing one is named at start.
 */
const GROUP = [
  'WECHATPAY_MCHID',
  'WECHATPAY_SERIAL',
  'WECHATPAY_PRIVATE_KEY',
  'WECHATPAY_PLATFORM_PUBLIC_KEY',
  'WECHATPAY_PLATFORM_PUBLIC_KEY_ID',
  'WECHATPAY_APIV3_KEY',
  'WECHATPAY_NOTIFY_URL',
] as const;

/** A PEM given inline (a value containing "-----BEGIN"), or the path of a PEM file. */
const pemOrPath = z.string().min(1);
const notifyUrl = z
  .string()
  .url()
  .refine((u) => !u.includes('?') && !u.includes('#'), 'must be a full URL without a query string');

const paySchema = z.object({
  WECHATPAY_MCHID: z.string().regex(/^\d{8,12}$/, 'must be the numeric merchant id'),
  /** Merchant API certificate serial, 40 hex characters. */
  WECHATPAY_SERIAL: z.string().regex(/^[0-9A-Fa-f]{16,64}$/, 'must be the merchant certificate serial (hex)'),
  WECHATPAY_PRIVATE_KEY: pemOrPath,
  WECHATPAY_PLATFORM_PUBLIC_KEY: pemOrPath,
  /** Wechatpay-Serial of the key above: PUB_KEY_ID_… (public-key mode) or the platform certificate serial. */
  WECHATPAY_PLATFORM_PUBLIC_KEY_ID: z.string().min(8),
  WECHATPAY_APIV3_KEY: z.string().refine((k) => Buffer.byteLength(k, 'utf8') === 32, 'must be the 32-character APIv3 key'),
  WECHATPAY_API_BASE: z.string().url().default('https://api.mch.weixin.qq.com'),
  /** Where WeChat Pay posts payment results: https://<our host>/wechat/pay/notify. */
  WECHATPAY_NOTIFY_URL: notifyUrl,
  /** Where it posts refund results; defaults to …/wechat/pay/refund-notify next to the payment notify. */
  WECHATPAY_REFUND_NOTIFY_URL: notifyUrl.optional(),
  WECHATPAY_TIMEOUT_MS: z.coerce.number().int().positive().max(30_000).default(5_000),
});

export interface PaySettings {
  mchid: string;
  merchantSerialNo: string;
  merchantPrivateKey: KeyObject;
  /** WeChat Pay's verification keys by Wechatpay-Serial. */
  platformPublicKeys: ReadonlyMap<string, KeyObject>;
  apiV3Key: string;
  apiBase: string;
  notifyUrl: string;
  refundNotifyUrl: string;
  timeoutMs: number;
}

function readPem(value: string): string {
  return value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : fs.readFileSync(value, 'utf8');
}

/** Reads the WECHATPAY_* group; undefined when none is set; ConfigError naming every problem otherwise. */
export function loadPaySettings(env: NodeJS.ProcessEnv = process.env): PaySettings | undefined {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('WECHATPAY_') && v !== undefined && v !== ''));
  if (!GROUP.some((name) => cleaned[name] !== undefined)) return undefined;
  const problems: string[] = GROUP.filter((name) => cleaned[name] === undefined).map(
    (name) => `${name}: is required for WeChat Pay (another WECHATPAY_* variable is set)`,
  );
  const result = paySchema.safeParse(cleaned);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = issue.path.join('.');
      if (cleaned[name] !== undefined) problems.push(`${name}: ${issue.message}`);
    }
  }
  if (problems.length || !result.success) throw new ConfigError(problems);
  const s = result.data;
  let merchantPrivateKey: KeyObject;
  let platformKey: KeyObject;
  try {
    merchantPrivateKey = loadPrivateKey(readPem(s.WECHATPAY_PRIVATE_KEY));
  } catch {
    throw new ConfigError(['WECHATPAY_PRIVATE_KEY: is not a readable PEM private key (inline PEM or a file path)']);
  }
  try {
    platformKey = loadPublicKey(readPem(s.WECHATPAY_PLATFORM_PUBLIC_KEY));
  } catch {
    throw new ConfigError(['WECHATPAY_PLATFORM_PUBLIC_KEY: is not a readable PEM public key or certificate (inline PEM or a file path)']);
  }
  return {
    mchid: s.WECHATPAY_MCHID,
    merchantSerialNo: s.WECHATPAY_SERIAL.toUpperCase(),
    merchantPrivateKey,
    platformPublicKeys: new Map([[s.WECHATPAY_PLATFORM_PUBLIC_KEY_ID, platformKey]]),
    apiV3Key: s.WECHATPAY_APIV3_KEY,
    apiBase: s.WECHATPAY_API_BASE.replace(/\/+$/, ''),
    notifyUrl: s.WECHATPAY_NOTIFY_URL,
    refundNotifyUrl: s.WECHATPAY_REFUND_NOTIFY_URL ?? s.WECHATPAY_NOTIFY_URL.replace(/\/notify$/, '/refund-notify'),
    timeoutMs: s.WECHATPAY_TIMEOUT_MS,
  };
}
