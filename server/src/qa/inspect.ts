import type { Transcript, TranscriptTurn } from '../conversation/transcripts';
import type { EmotionReading } from '../conversation/types';
import { isValidIdCard, passesLuhn } from '../nlu/entities';
import type { QaRules } from './rules';

/**
 * The inspection itself, as a pure function of a transcript: each rule of qa-rules.yaml either passes or yields a
 * hit with its deduction, the agent it is about (when it is about one) and the message ids that prove it.
 */

export const RULE_IDS = [
  'forbidden_phrase', 'rudeness', 'selling_disclosure', 'greeting', 'closing',
  'first_response', 'turn_response', 'emotion_worse', 'unresolved', 'repeat_contact', 'personal_data',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const RULE_TITLES: Record<RuleId, string> = {
  forbidden_phrase: '违规用语',
  rudeness: '服务态度',
  selling_disclosure: '销售告知缺失',
  greeting: '未问候',
  closing: '未结束语',
  first_response: '首次响应超时',
  turn_response: '回复超时',
  emotion_worse: '客户情绪变差',
  unresolved: '问题未解决',
  repeat_contact: '24小时内重复来访',
  personal_data: '泄露个人信息',
};

export interface RuleHit {
  rule: RuleId;
  deduction: number;
  /** The agent the finding is about; absent for the bot or for the contact as a whole. */
  agentId?: string;
  /** Message ids, in transcript order. */
  evidence: string[];
  detail: string;
}

export interface InspectionInput {
  transcript: Transcript;
  /** When each agent took the session (their first-response clock starts here). */
  sessionStarts?: ReadonlyArray<{ agentId: string; at: Date }>;
  /** The same customer's previous contact, for the repeat-contact rule. */
  previousContact?: { inspectionId: string; endedAt: Date };
}

export interface InspectionMetrics {
  turns: number;
  customerTurns: number;
  firstResponseSeconds?: number;
  slowTurns: number;
  startMood?: number;
  endMood?: number;
  saleDiscussed: boolean;
}

export interface InspectionResult {
  score: number;
  passed: boolean;
  hits: RuleHit[];
  /** Agents who spoke, in order of first appearance. */
  agentIds: string[];
  handledBy: 'bot' | 'agent' | 'bot+agent';
  startedAt: Date;
  endedAt: Date;
  metrics: InspectionMetrics;
}

/**
 * Said by a customer who is done, not asking: no reply is owed. The whole message must be such words (a prefix
 * was not enough: "好几天了还没到" and "好慢啊" start with 好 and are anything but done).
 */
const CUSTOMER_SIGN_OFF = new RegExp(
  '^(?:(?:谢谢|多谢|感谢|好的|好吧|好滴|好嘞|好|行|可以|知道了|知道|明白了|明白|了解了|了解|懂了|收到|清楚了|没问题|没有了|没了|再见|拜拜|嗯嗯|嗯|恩|哦|噢|ok|okay|thanks|thankyou|我(?:再|去|先)?(?:看看|试试|想想|考虑一下|考虑考虑))'
  + '(?:你们|您们|你|您|啦|了|哈|呀|啊|哦|的|呢|吧|喔|客服|帮助|帮忙)*)+$',
  'i',
);

export function isCustomerSignOff(text: string): boolean {
  if (/[?？]/.test(text)) return false;
  const words = text.replace(/[\s\p{P}\p{S}]+/gu, '');
  return words.length > 0 && CUSTOMER_SIGN_OFF.test(words);
}

/**
 * A listed phrase denied where it is said is what an agent should say, not a violation: "不能保证赚钱",
 * "保险不是稳赚不赔的", "不存在包赔、肯定能赔的说法", "收益保证不了". Only a denial right next to the phrase
 * counts ("没事，肯定能赔" and "不用担心肯定能赔" are still promises).
 */
const NEGATED_BEFORE = /(?:不|没|没有|并非|绝非|未|无法|没法|严禁|禁止|别|勿)(?:能|会|可以|可能|敢|得|是|存在|要|用|应|该|曾)?(?:向您|对您|给您|跟您|和您)?(?:说|讲|承诺|保证|宣传|声称|说过)?(?:什么|所谓的?|任何)?$/;
const NEGATED_AFTER = /^(?:的?说法|这种话|之类的话?)?(?:是|都是)?(?:不了|不可能|不存在|不对|错误|骗人|假的|违规|误导|没有的)/;
const CLAUSE_END = /[，。！？；,.!?;:：\n]/;
const ENUMERATION = /(?:、|和|或|及|与)$/;

/** The phrases said (not denied) in a text. */
function phrasesAsserted(text: string, phrases: readonly string[]): string[] {
  const denied = (at: number, phrase: string) => {
    let clauseStart = at;
    while (clauseStart > 0 && !CLAUSE_END.test(text[clauseStart - 1])) clauseStart--;
    let before = text.slice(clauseStart, at);
    // An enumeration shares its denial: "不存在包赔、肯定能赔".
    for (let listed = true; listed && ENUMERATION.test(before);) {
      const rest = before.replace(ENUMERATION, '');
      const other = phrases.find((p) => rest.endsWith(p));
      listed = other !== undefined;
      if (other) before = rest.slice(0, rest.length - other.length);
    }
    return NEGATED_BEFORE.test(before) || NEGATED_AFTER.test(text.slice(at + phrase.length));
  };
  const occurrences = (phrase: string) => {
    const found: number[] = [];
    for (let at = text.indexOf(phrase); at >= 0; at = text.indexOf(phrase, at + 1)) found.push(at);
    return found;
  };
  // "下单" inside a denied "不能帮您下单" is denied with it.
  const deniedWithin = (at: number, phrase: string) => phrases.some((longer) => longer !== phrase && longer.includes(phrase)
    && occurrences(longer).some((from) => from <= at && from + longer.length >= at + phrase.length && denied(from, longer)));
  return phrases.filter((phrase) => occurrences(phrase).some((at) => !denied(at, phrase) && !deniedWithin(at, phrase)));
}

const isStaff = (turn: TranscriptTurn) => turn.speaker !== 'customer';
const includesAny = (text: string, phrases: readonly string[]) => phrases.filter((phrase) => text.includes(phrase));
const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

/** Signed mood: positive above zero, negative below, scaled by intensity (as the handoff rules read it). */
export function moodOf(reading: EmotionReading): number {
  if (reading.polarity === 'positive') return reading.intensity;
  if (reading.polarity === 'negative') return -reading.intensity;
  return 0;
}

/** Digit runs long enough for an ID card (18) or a bank card (16–19), spaced or hyphenated. */
const LONG_NUMBER = /(?<![0-9A-Za-z])\d(?:[\s-]?\d){14,18}(?:[\s-]?[Xx])?(?![0-9A-Za-z])/g;

const OUR_NUMBER_BEFORE = /保单|报案|案件|理赔|订单|流水|单号|编号|批单/;

/** ID card and bank card numbers written out in full (as the NLU recognises them: checksum, Luhn). */
function personalNumbersIn(text: string): string[] {
  const found = new Set<string>();
  const ascii = text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).replace(/Ｘ/g, 'X');
  for (const match of ascii.matchAll(LONG_NUMBER)) {
    const digits = match[0].replace(/[\s-]/g, '').toUpperCase();
    if (/^\d{17}[\dX]$/.test(digits) && isValidIdCard(digits)) found.add('身份证号');
    // A policy, claim or order number quoted back may pass Luhn by chance (one in ten): those are no bank cards.
    else if (/^\d{16,19}$/.test(digits) && passesLuhn(digits) && !OUR_NUMBER_BEFORE.test(ascii.slice(Math.max(0, match.index - 8), match.index))) found.add('银行卡号');
  }
  return [...found];
}

function speakerKey(turn: TranscriptTurn): string {
  return turn.speaker === 'agent' ? `agent:${turn.agentId ?? 'unknown'}` : turn.speaker;
}

/** One hit per speaker whose turns contain any phrase of the list. */
function phraseHits(
  turns: readonly TranscriptTurn[], phrases: readonly string[], rule: RuleId, deduction: number, what: string,
  find: (text: string, phrases: readonly string[]) => string[] = includesAny,
): RuleHit[] {
  const bySpeaker = new Map<string, { agentId?: string; evidence: string[]; found: Set<string> }>();
  for (const turn of turns) {
    const found = find(turn.text, phrases);
    if (!found.length) continue;
    const key = speakerKey(turn);
    const entry = bySpeaker.get(key) ?? { agentId: turn.speaker === 'agent' ? turn.agentId : undefined, evidence: [], found: new Set<string>() };
    if (!entry.evidence.includes(turn.messageId)) entry.evidence.push(turn.messageId);
    found.forEach((phrase) => entry.found.add(phrase));
    bySpeaker.set(key, entry);
  }
  return [...bySpeaker.entries()].map(([key, entry]) => ({
    rule, deduction, agentId: entry.agentId, evidence: entry.evidence,
    detail: `${key === 'bot' ? '机器人' : entry.agentId ?? '坐席'}${what}：${[...entry.found].join('、')}`,
  }));
}

export function inspectTranscript(input: InspectionInput, rules: QaRules): InspectionResult {
  const turns = input.transcript.turns;
  const r = rules.rules;
  const hits: RuleHit[] = [];
  const agentTurns = turns.filter((t) => t.speaker === 'agent');
  const agentIds = [...new Set(agentTurns.map((t) => t.agentId ?? 'unknown'))];
  const customerTurns = turns.filter((t) => t.speaker === 'customer');
  const botSpoke = turns.some((t) => t.speaker === 'bot');

  // Forbidden phrases (anyone on our side) and rudeness (agents).
  hits.push(...phraseHits(turns.filter(isStaff), r.forbiddenPhrases.phrases, 'forbidden_phrase', r.forbiddenPhrases.deduction, '使用违规用语', phrasesAsserted));
  hits.push(...phraseHits(agentTurns, r.rudeness.phrases, 'rudeness', r.rudeness.deduction, '态度恶劣'));
  // Personal data in clear from our side (a customer may type their own).
  hits.push(...phraseHits(turns.filter(isStaff), [], 'personal_data', r.personalData.deduction, '明文发送', (text) => personalNumbersIn(text)));

  // Selling disclosures: once our side pitches, every required disclosure must be said by our side.
  const pitches = turns.filter((t) => isStaff(t) && phrasesAsserted(t.text, r.sellingDisclosure.saleWords).length > 0);
  const saleDiscussed = pitches.length > 0;
  if (saleDiscussed) {
    const staffText = turns.filter(isStaff).map((t) => t.text).join('\n');
    const missing = Object.entries(r.sellingDisclosure.required)
      .filter(([, words]) => includesAny(staffText, words).length === 0)
      .map(([name]) => name);
    if (missing.length) {
      const sellers = [...new Set(pitches.map((t) => (t.speaker === 'agent' ? t.agentId ?? 'unknown' : undefined)))];
      for (const seller of sellers) {
        hits.push({
          rule: 'selling_disclosure', deduction: r.sellingDisclosure.deduction, agentId: seller,
          evidence: pitches.filter((t) => (t.speaker === 'agent' ? t.agentId ?? 'unknown' : undefined) === seller).map((t) => t.messageId),
          detail: `销售时未告知：${missing.join('、')}`,
        });
      }
    }
  }

  // Greeting (each agent's first message) and closing (the last agent message).
  for (const agentId of agentIds) {
    const first = agentTurns.find((t) => (t.agentId ?? 'unknown') === agentId)!;
    if (!includesAny(first.text, r.greeting.phrases).length) {
      hits.push({ rule: 'greeting', deduction: r.greeting.deduction, agentId, evidence: [first.messageId], detail: '坐席首句未问候' });
    }
  }
  const lastAgentTurn = agentTurns[agentTurns.length - 1];
  if (lastAgentTurn && !includesAny(lastAgentTurn.text, r.closing.phrases).length) {
    hits.push({ rule: 'closing', deduction: r.closing.deduction, agentId: lastAgentTurn.agentId ?? 'unknown', evidence: [lastAgentTurn.messageId], detail: '坐席末句无结束语' });
  }

  // First response: from the agent taking the session (or the handoff, or the call start) to their first message.
  let firstResponseSeconds: number | undefined;
  const firstAgentTurn = agentTurns[0];
  if (firstAgentTurn) {
    const agentId = firstAgentTurn.agentId ?? 'unknown';
    const accepted = (input.sessionStarts ?? [])
      .filter((s) => s.agentId === agentId && s.at.getTime() <= firstAgentTurn.at.getTime())
      .sort((a, b) => b.at.getTime() - a.at.getTime())[0];
    const before = turns.filter((t) => t.at.getTime() <= firstAgentTurn.at.getTime() && t.speaker === 'customer');
    const handoff = [...before].reverse().find((t) => t.decision?.action === 'handoff');
    const startTurn = handoff ?? before[0];
    const start = accepted?.at ?? startTurn?.at;
    if (start) {
      firstResponseSeconds = Math.max(0, seconds(start, firstAgentTurn.at));
      if (firstResponseSeconds > r.firstResponse.maxSeconds) {
        hits.push({
          rule: 'first_response', deduction: r.firstResponse.deduction, agentId,
          evidence: [...(startTurn && !accepted ? [startTurn.messageId] : []), firstAgentTurn.messageId],
          detail: `首次响应 ${Math.round(firstResponseSeconds)} 秒（上限 ${r.firstResponse.maxSeconds} 秒）`,
        });
      }
    }
  }

  // Per-turn response: once an agent is in, each customer message waits for the next agent message.
  const slow = new Map<string, { evidence: string[]; worst: number; count: number }>();
  let waiting: TranscriptTurn | undefined;
  let agentJoined = false;
  for (const turn of turns) {
    if (turn.speaker === 'agent') {
      if (agentJoined && waiting) {
        const latency = seconds(waiting.at, turn.at);
        if (latency > r.turnResponse.maxSeconds) {
          const agentId = turn.agentId ?? 'unknown';
          const entry = slow.get(agentId) ?? { evidence: [], worst: 0, count: 0 };
          entry.evidence.push(waiting.messageId, turn.messageId);
          entry.worst = Math.max(entry.worst, latency);
          entry.count++;
          slow.set(agentId, entry);
        }
      }
      agentJoined = true;
      waiting = undefined;
    } else if (turn.speaker === 'customer' && !waiting) {
      waiting = turn;
    }
  }
  let slowTurns = 0;
  for (const [agentId, entry] of slow) {
    slowTurns += entry.count;
    hits.push({
      rule: 'turn_response', agentId, evidence: entry.evidence,
      deduction: Math.min(r.turnResponse.maxDeduction, entry.count * r.turnResponse.deductionPerTurn),
      detail: `${entry.count} 次回复超过 ${r.turnResponse.maxSeconds} 秒（最长 ${Math.round(entry.worst)} 秒）`,
    });
  }

  // The customer's mood: worse at the end than at the start, and negative.
  const readings = customerTurns.filter((t) => t.emotion);
  const startMood = readings.length ? moodOf(readings[0].emotion!) : undefined;
  const endMood = readings.length ? moodOf(readings[readings.length - 1].emotion!) : undefined;
  if (readings.length >= 2 && startMood !== undefined && endMood !== undefined && endMood < 0 && startMood - endMood >= r.emotionWorse.minDrop) {
    hits.push({
      rule: 'emotion_worse', deduction: r.emotionWorse.deduction, agentId: agentIds[agentIds.length - 1],
      evidence: [readings[0].messageId, readings[readings.length - 1].messageId],
      detail: `情绪由 ${readings[0].emotion!.label}(${startMood.toFixed(2)}) 变为 ${readings[readings.length - 1].emotion!.label}(${endMood.toFixed(2)})`,
    });
  }

  // Unresolved: the last question got no answer, or the bot gave up and no agent took over.
  const lastCustomer = customerTurns[customerTurns.length - 1];
  if (lastCustomer) {
    const answeredAfter = turns.some((t) => isStaff(t) && t.at.getTime() >= lastCustomer.at.getTime() && t !== lastCustomer);
    const signOff = isCustomerSignOff(lastCustomer.text);
    const lastDecided = [...customerTurns].reverse().find((t) => t.decision && t.decision.action !== 'relay_to_agent');
    const botGaveUp = agentTurns.length === 0 && lastDecided && ['fallback', 'clarify', 'handoff'].includes(lastDecided.decision!.action);
    if ((!answeredAfter && !signOff) || botGaveUp) {
      const evidence = botGaveUp && lastDecided ? lastDecided.messageId : lastCustomer.messageId;
      hits.push({
        rule: 'unresolved', deduction: r.unresolved.deduction, agentId: agentIds[agentIds.length - 1], evidence: [evidence],
        detail: botGaveUp ? `机器人未能解答（${lastDecided!.decision!.action}），且无人工接手` : '客户最后的问题没有得到回复',
      });
    }
  }

  // Repeat contact within the window.
  const firstTurn = turns[0];
  if (firstTurn && input.previousContact) {
    const hours = seconds(input.previousContact.endedAt, firstTurn.at) / 3600;
    if (hours >= 0 && hours <= r.repeatContact.withinHours) {
      hits.push({
        rule: 'repeat_contact', deduction: r.repeatContact.deduction, evidence: [(customerTurns[0] ?? firstTurn).messageId],
        detail: `距上次来访 ${hours.toFixed(1)} 小时（上次质检 ${input.previousContact.inspectionId}）`,
      });
    }
  }

  const order = new Map(turns.map((t, i) => [t.messageId, i]));
  for (const hit of hits) {
    hit.evidence = [...new Set(hit.evidence)].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  }
  const score = Math.max(0, 100 - hits.reduce((sum, hit) => sum + hit.deduction, 0));
  return {
    score,
    passed: score >= rules.scoring.passMark,
    hits,
    agentIds,
    handledBy: agentIds.length === 0 ? 'bot' : botSpoke ? 'bot+agent' : 'agent',
    startedAt: firstTurn?.at ?? new Date(0),
    endedAt: turns[turns.length - 1]?.at ?? new Date(0),
    metrics: { turns: turns.length, customerTurns: customerTurns.length, firstResponseSeconds, slowTurns, startMood, endMood, saleDiscussed },
  };
}
