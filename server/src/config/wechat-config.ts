import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Platform assets kept as code in wechat-config/: handoff rules, reply texts, the menu and what it does. */
export const WECHAT_CONFIG_DIR = path.resolve(__dirname, '../../../wechat-config');

const probability = z.number().min(0).max(1);
const words = z.array(z.string().min(1)).default([]);

export const handoffRulesSchema = z.object({
  answer: z.object({ minConfidence: probability, clarifyMinConfidence: probability, maxChoices: z.number().int().min(1).max(9) }),
  lowConfidence: z.object({ handoffAfter: z.number().int().min(1) }),
  emotion: z.object({
    negativeLabels: z.array(z.enum(['like', 'happiness', 'sadness', 'anger', 'disgust', 'fear', 'surprise'])),
    handoffIntensity: probability,
    worseningWindow: z.number().int().min(2),
    /** How far the mood must fall over the window to count as worsening (mood: −intensity for negative readings). */
    worseningMinDrop: probability.default(0),
  }),
  /** `notWithin`: longer terms that contain a word but mean something else (曝光率 is not 曝光). */
  words: z.object({ explicitRequest: words, complaint: words, regulator: words, notWithin: words }),
  explicitRequestSubIntents: z.array(z.string()).default([]),
  largeClaim: z.object({ amountYuan: z.number().positive(), scenarios: z.array(z.string()) }),
  vip: z.object({ minConfidence: probability }),
  conversation: z.object({ resetAfterMinutes: z.number().positive() }),
});
export type HandoffRules = z.infer<typeof handoffRulesSchema>;

export const repliesSchema = z.object({
  welcome: z.string().min(1),
  /** To a follower who scans one of the account's codes again (a SCAN event, not a new subscription). */
  welcomeBack: z.string().min(1),
  fallback: z.string().min(1),
  clarify: z.string().min(1),
  /** Instead of `clarify` when only one meaning is plausible: a question to confirm, not a choice. */
  clarifyOne: z.string().min(1),
  askSlot: z.record(z.string(), z.string().min(1)),
  handoff: z.string().min(1),
  handoffQueued: z.string().min(1),
  handoffNoAgent: z.string().min(1),
  /** Said instead of `handoff` where no agent desk is set up (no WECOM_*): nobody would ever answer there. */
  handoffUnavailable: z.string().min(1),
  voiceUnrecognised: z.string().min(1),
  image: z.string().min(1),
  video: z.string().min(1),
  /** A message of nothing but emoji or punctuation, answered by the polarity of the feeling it carries. */
  symbolsOnly: z.object({ positive: z.string().min(1), negative: z.string().min(1), neutral: z.string().min(1) }),
  location: z.string().min(1),
  link: z.string().min(1),
  menuUnknown: z.string().min(1),
  goodbyeAfterAgent: z.string().min(1),
  /** Put before an answer to a message naming another insurer ({insurer}): our answer describes our own rules. */
  otherInsurer: z.string().min(1),
});
export type ReplyTexts = z.infer<typeof repliesSchema>;

const menuButton = z.object({
  type: z.enum(['click', 'view', 'miniprogram', 'scancode_push']).optional(),
  name: z.string().min(1).max(16),
  key: z.string().max(128).optional(),
  url: z.string().url().optional(),
  appid: z.string().optional(),
  pagepath: z.string().optional(),
});
export const menuSchema = z.object({
  button: z.array(menuButton.extend({ sub_button: z.array(menuButton).max(5).optional() })).min(1).max(3),
});
export type MenuDefinition = z.infer<typeof menuSchema>;

/** What a CLICK on a menu key does: stands for a question (understood like typed text), or answers a sub-intent. */
export type MenuAction = { question: string } | { subIntentId: string };
const menuActionSchema = z.union([
  z.string().min(1).transform((question): MenuAction => ({ question })),
  z.object({ subIntent: z.string().min(1) }).strict().transform(({ subIntent }): MenuAction => ({ subIntentId: subIntent })),
]);

export interface WechatConfig {
  handoffRules: HandoffRules;
  replies: ReplyTexts;
  menu: MenuDefinition;
  /** By menu key (a Map: keys come from WeChat's pushes and must not find Object's own properties). */
  menuActions: ReadonlyMap<string, MenuAction>;
}

export class WechatConfigError extends Error {}

function readValidated<T extends z.ZodType>(dir: string, file: string, schema: T): z.infer<T> {
  const full = path.join(dir, file);
  let data: unknown;
  try {
    const text = fs.readFileSync(full, 'utf8');
    data = file.endsWith('.json') ? (JSON.parse(text) as unknown) : parseYaml(text);
  } catch (err) {
    throw new WechatConfigError(`wechat-config/${file}: cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new WechatConfigError(`wechat-config/${file}: ${problems}`);
  }
  return result.data;
}

export function loadWechatConfig(dir: string = WECHAT_CONFIG_DIR): WechatConfig {
  const menu = readValidated(dir, 'menu.json', menuSchema);
  const menuActions = new Map(Object.entries(readValidated(dir, 'menu-actions.yaml', z.record(z.string(), menuActionSchema))));
  const clickKeys = menu.button.flatMap((button) => [button, ...(button.sub_button ?? [])]).filter((b) => b.type === 'click').map((b) => b.key);
  const missing = clickKeys.filter((key) => !key || !menuActions.has(key));
  if (missing.length) throw new WechatConfigError(`wechat-config/menu-actions.yaml: no action for the menu's click key(s) ${missing.map((k) => `"${k ?? ''}"`).join(', ')}`);
  return {
    handoffRules: readValidated(dir, 'handoff-rules.yaml', handoffRulesSchema),
    replies: readValidated(dir, 'replies.yaml', repliesSchema),
    menu,
    menuActions,
  };
}

/** Fills `{name}` placeholders of a reply text. */
export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
