import type { ChannelName, EmotionLabel, HandoffReason } from '../conversation/types';
import { asciiDigits, maskMentions, maskPersonalData } from '../nlu/masking';

/**
 * What agents read in WeCom: the escalation card, its details, each customer message with assist, and notices.
 * Pure text rendering; WeCom limits are in bytes (textcard description 512, text 2048).
 */

export interface Suggestion {
  subIntentId: string;
  name: string;
  /** The knowledge base's answer, usable as a phrase (话术). */
  answer: string;
}

export interface EmotionSnapshot {
  label: string;
  intensity: number;
  polarity: string;
}

export interface EscalationBrief {
  sessionId: string;
  channel: ChannelName;
  /** Masked customer label. */
  customer: string;
  vip: boolean;
  reasons: readonly HandoffReason[];
  topic?: string;
  emotion?: EmotionSnapshot;
  turns: Array<{ who: 'user' | 'bot' | 'agent'; text: string }>;
  /** Already masked where personal. */
  facts: Array<{ label: string; value: string }>;
  suggestions: Suggestion[];
  waitedSeconds: number;
  transferredBy?: string;
  at: Date;
}

export const TEXT_MAX_BYTES = 2048;
const CARD_DESCRIPTION_MAX_BYTES = 512;
const CARD_TITLE_MAX_BYTES = 128;

export const REASON_LABELS: Record<HandoffReason, string> = {
  explicit_request: '客户要求人工',
  complaint: '投诉',
  regulator: '提及监管',
  negative_emotion: '情绪激动',
  emotion_worsening: '情绪持续变差',
  repeated_low_confidence: '多次未能识别',
  sensitive_intent: '敏感业务',
  large_claim: '大额理赔',
  vip: 'VIP客户',
};

const EMOTION_LABELS: Record<EmotionLabel, string> = {
  like: '满意', happiness: '开心', sadness: '难过', anger: '愤怒', disgust: '厌恶', fear: '担忧', surprise: '惊讶', none: '平静',
};

const CHANNEL_LABELS: Record<ChannelName, string> = { 'official-account': '公众号', miniprogram: '小程序', wechaty: '个人微信', wecom: '企业微信' };

export const FACT_LABELS: Record<string, string> = {
  policy_number: '保单号', claim_number: '赔案号', amount: '金额', product: '产品', phone: '手机', mobile: '手机',
  id_card: '身份证', id_number: '身份证', bank_card: '银行卡', name: '姓名', person: '姓名', date: '日期', relation: '被保险人关系',
  email: '邮箱', duration: '时长', held_for: '投保时长（天）', insurer: '提到的保险公司', age: '年龄（岁）',
};

/** Cuts at a character boundary so the UTF-8 encoding fits `maxBytes`, marking the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > budget) break;
    out += char;
    used += size;
  }
  return out + ellipsis;
}

const clip = (text: string, max: number) => ([...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text);


/** Escapes text placed inside the textcard's <div> markup. */
const html = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function emotionLabel(emotion: EmotionSnapshot | undefined): string {
  if (!emotion || emotion.label === 'none') return '平静';
  return `${EMOTION_LABELS[emotion.label as EmotionLabel] ?? emotion.label} ${emotion.intensity.toFixed(2)}`;
}

/** Signed mood: positive above zero, negative below, scaled by intensity (as the handoff rules judge it). */
const mood = (e: EmotionSnapshot | undefined) => (!e ? 0 : e.polarity === 'positive' ? e.intensity : e.polarity === 'negative' ? -e.intensity : 0);

/** "愤怒 0.85 → 愤怒 0.60（缓和）": how the customer's mood moved since their last message. */
export function emotionTrend(before: EmotionSnapshot | undefined, now: EmotionSnapshot | undefined): string {
  const delta = mood(now) - mood(before);
  const direction = Math.abs(delta) < 0.1 ? '平稳' : delta > 0 ? '缓和' : '加剧';
  return `${emotionLabel(before)} → ${emotionLabel(now)}（${direction}）`;
}

export function reasonsText(reasons: readonly HandoffReason[]): string {
  return reasons.length ? reasons.map((r) => REASON_LABELS[r] ?? r).join('、') : '转人工';
}

function timeText(at: Date): string {
  // Contact centre time is China Standard Time, whatever the server's zone.
  const cst = new Date(at.getTime() + 8 * 3_600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${cst.getUTCMonth() + 1}月${cst.getUTCDate()}日 ${pad(cst.getUTCHours())}:${pad(cst.getUTCMinutes())}`;
}

/** The textcard offered to an agent: who, why, how they feel, the key facts; the link opens the session. */
export function escalationCard(brief: EscalationBrief, url: string): { title: string; description: string; url: string; buttonText: string } {
  const title = truncateUtf8(`${brief.vip ? '【VIP】' : ''}人工客服请求 #${brief.sessionId}${brief.transferredBy ? `（${brief.transferredBy} 转接）` : ''}`, CARD_TITLE_MAX_BYTES);
  const waited = brief.waitedSeconds >= 60 ? ` · 已等待${Math.floor(brief.waitedSeconds / 60)}分钟` : '';
  const parts = [
    `<div class="gray">${timeText(brief.at)} · ${CHANNEL_LABELS[brief.channel]} · ${html(brief.customer)}${waited}</div>`,
    `<div class="highlight">原因：${html(reasonsText(brief.reasons))}；情绪：${html(emotionLabel(brief.emotion))}</div>`,
    `<div class="normal">诉求：${html(brief.topic ?? '未识别')}</div>`,
  ];
  if (brief.facts.length) parts.push(`<div class="normal">${html(brief.facts.map((f) => `${f.label}：${f.value}`).join('；'))}</div>`);
  const lastUser = [...brief.turns].reverse().find((t) => t.who === 'user');
  if (lastUser) parts.push(`<div class="gray">客户：${html(clip(maskPersonalData(lastUser.text), 60))}</div>`);
  parts.push('<div class="normal">回复「接入」或 /accept 接入</div>');
  let description = '';
  for (const part of parts) {
    // Whole <div>s only: a cut inside the markup would break the card.
    if (Buffer.byteLength(description + part, 'utf8') > CARD_DESCRIPTION_MAX_BYTES) break;
    description += part;
  }
  return { title, description, url: url.replace('{session}', encodeURIComponent(brief.sessionId)), buttonText: '详情' };
}

/** The plain-text details sent right after the card: the dialogue so far, facts, suggested answers, how to act. */
export function escalationDetails(brief: EscalationBrief): string {
  const who = { user: '客户', bot: '机器人', agent: '客服' } as const;
  const lines = [
    `#${brief.sessionId} ${brief.vip ? 'VIP ' : ''}${CHANNEL_LABELS[brief.channel]}客户 ${brief.customer}`,
    `转人工原因：${reasonsText(brief.reasons)}`,
    `客户情绪：${emotionLabel(brief.emotion)}`,
    `诉求：${brief.topic ?? '未识别'}`,
  ];
  if (brief.facts.length) lines.push(`关键信息：${brief.facts.map((f) => `${f.label} ${f.value}`).join('；')}`);
  if (brief.turns.length) {
    lines.push('—— 最近对话 ——');
    for (const turn of brief.turns) lines.push(`${who[turn.who]}：${clip(maskPersonalData(turn.text), 80)}`);
  }
  if (brief.suggestions.length) {
    lines.push('—— 建议方案 / 话术 ——');
    brief.suggestions.forEach((s, i) => lines.push(`${i + 1}. ${s.name}：${clip(s.answer, 120)}`));
  }
  lines.push('回复「接入」接入会话；直接回复文字也会接入并发给客户。');
  return truncateUtf8(lines.join('\n'), TEXT_MAX_BYTES);
}

/** A customer message relayed to the agent, with the assist: mood trend and the top knowledge for it. */
export function customerMessageForAgent(input: {
  sessionId: string;
  text: string;
  /** What the message names: masked as on the card (a policy number, a name), not only what looks like a number. */
  mentions?: ReadonlyArray<{ type: string; value: string | number; text?: string }>;
  accepted: boolean;
  before?: EmotionSnapshot;
  now?: EmotionSnapshot;
  suggestions: Suggestion[];
}): string {
  const lines = [`#${input.sessionId}${input.accepted ? '' : '（待接入）'} 客户：${maskMentions(asciiDigits(input.text), input.mentions ?? [])}`, `情绪：${emotionTrend(input.before, input.now)}`];
  if (input.suggestions.length) {
    lines.push('参考话术：');
    input.suggestions.forEach((s, i) => lines.push(`${i + 1}. ${s.name}：${clip(s.answer, 100)}`));
  }
  return truncateUtf8(lines.join('\n'), TEXT_MAX_BYTES);
}

/** Knowledge search results for `/kb`. */
export function knowledgeResults(query: string, suggestions: Suggestion[]): string {
  if (!suggestions.length) return `知识库中没有找到「${query}」相关内容。`;
  const lines = [`「${query}」的知识库结果：`];
  suggestions.forEach((s, i) => lines.push(`${i + 1}. ${s.name}（${s.subIntentId}）\n${clip(s.answer, 300)}`));
  return truncateUtf8(lines.join('\n'), TEXT_MAX_BYTES);
}

/** A label for the customer that an agent can tell apart without seeing the full id. */
export function customerLabel(userId: string): string {
  return userId.length <= 8 ? `${userId.slice(0, 2)}***` : `${userId.slice(0, 4)}…${userId.slice(-4)}`;
}
