import type { HandoffRules } from '../config/wechat-config';
import type { Choice, Decision, EmotionReading, HandoffReason, InboundMessage, RankedCandidate, Understanding } from './types';

export type CoolingOffSide = 'within' | 'after';

/** What the decision needs to know about a sub-intent, from the knowledge base. */
export interface SubIntentFacts {
  id: string;
  name: string;
  scenarioId: string;
  sensitive: boolean;
  /** True when every solution depends on the product, so the bot must know it first. */
  needsProduct: boolean;
  /** Sub-intents its answer offers as numbered follow-ups. */
  menu?: string[];
  /** The side of the cooling-off period its answer presumes, and the sub-intent that answers the other side. */
  coolingOff?: { presumes: CoolingOffSide; otherwise: string };
  /** The ages its answer is written for, and the sub-intents of its intent written for other ages. */
  forAges?: { from: number; to: number };
  ageSiblings?: string[];
  /** A general answer that gives way to the one of its `ageSiblings` written for a stated age. */
  deferToAge?: boolean;
}

export interface DialogueState {
  pendingChoices: Choice[];
  pendingSlot?: { slot: string; subIntentId: string };
  slots: Record<string, string>;
  lowConfidenceStreak: number;
  /** Earlier readings, oldest first (the current one is in the understanding). */
  emotions: EmotionReading[];
  lastScenarioId?: string;
  vip: boolean;
}

const CHINESE_DIGITS: Record<string, number> = { 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** "2", "２", "第2个", "第二个", "选三", "2、", "2号吧", "选项2" → the number picked, when the message is just that. */
export function pickedNumber(text: string): number | undefined {
  const normalised = text.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  const match = /^(?:就|要|我选|第|选|选择|选项)?\s*([1-9]|[一二两三四五六七八九])\s*(?:个|项|条|号)?\s*(?:吧|呀|啊|的)?[、，,。.!！~～]*$/.exec(normalised);
  if (!match) return undefined;
  return CHINESE_DIGITS[match[1]] ?? Number(match[1]);
}

/** "是", "是的", "对", "嗯嗯", "好的", "没错", "yes" … and nothing more. */
export function isAffirmation(text: string): boolean {
  return /^(?:是|是的|是啊|对|对的|对啊|嗯|嗯嗯|恩|好|好的|可以|没错|就是|就是这个|ok|yes|y)[。.!！~～]*$/i.test(text.trim());
}

/** "不是", "都不是", "不对", "没有我要的" … and nothing more. */
export function isRejection(text: string): boolean {
  return /^(?:都?不是|都?不对|不是这个|都不是我要(?:问|找)的|没有我要(?:问|找)的|没有|都没有|no)[。.!！~～]*$/i.test(text.trim());
}

/** A handoff word said, not refused: "我不投诉" and "不要转人工" are not requests. */
const NEGATED_BEFORE = /(?:不|别|没|无需|勿)(?:要|用|想|需要|必|会)?(?:再)?$/;

/** Whether the user says one of the words, other than inside a longer term the rules name (曝光率 is not 曝光). */
export function saysAny(text: string, words: readonly string[], notWithin: readonly string[] = []): boolean {
  let checked = text;
  for (const term of notWithin) checked = checked.split(term).join(' ');
  return words.some((word) => {
    for (let at = checked.indexOf(word); at >= 0; at = checked.indexOf(word, at + 1)) {
      if (!NEGATED_BEFORE.test(checked.slice(Math.max(0, at - 4), at))) return true;
    }
    return false;
  });
}

/** A message this short ("怎么还没到账", "那要多久") leans on the topic being discussed. */
const FOLLOW_UP_MAX_CHARS = 8;
/** A reading of a follow-up in the topic being discussed is worth asking about from this confidence. */
const FOLLOW_UP_MIN_CONFIDENCE = 0.1;

/**
 * A short follow-up whose best reading leaves the topic being discussed, while a plausible reading stays in it
 * ("理赔进度怎么查" → "怎么还没到账": a claim's payout, or a refund?): both are offered, the topic's first.
 */
function followUpChoices(text: string, understanding: Understanding, state: DialogueState, facts: DecideInput['facts']): Choice[] | undefined {
  const topic = state.lastScenarioId;
  const [top] = understanding.candidates;
  if (!topic || !top || [...text.replace(/[\s\p{P}\p{S}]/gu, '')].length > FOLLOW_UP_MAX_CHARS) return undefined;
  if (facts(top.subIntentId)?.scenarioId === topic) return undefined;
  const inTopic = understanding.candidates.find((c) => c.confidence >= FOLLOW_UP_MIN_CONFIDENCE && facts(c.subIntentId)?.scenarioId === topic);
  if (!inTopic) return undefined;
  return [inTopic, top].map((c, i) => ({ number: i + 1, label: c.name, subIntentId: c.subIntentId }));
}

/** Nothing but punctuation, symbols and emoji ("😭😭", "？？？", "……"): no question to look up. */
export function hasNoContent(text: string): boolean {
  return !/[\p{L}\p{N}]/u.test(text);
}

/** Signed mood: positive emotions above zero, negative below, scaled by intensity. */
function mood(reading: EmotionReading): number {
  if (reading.polarity === 'positive') return reading.intensity;
  if (reading.polarity === 'negative') return -reading.intensity;
  return 0;
}

/**
 * The mood never improved over the window and ends negative, at least `minDrop` below where it began: two calm
 * messages and then an angry one is a worsening too, not only a fall at every step.
 */
export function emotionWorsening(history: EmotionReading[], current: EmotionReading, window: number, minDrop = 0): boolean {
  const recent = [...history, current].slice(-window);
  if (recent.length < window) return false;
  const moods = recent.map(mood);
  const last = moods[moods.length - 1];
  return moods.every((m, i) => i === 0 || m <= moods[i - 1]) && last < 0 && moods[0] - last >= Math.max(minDrop, Number.EPSILON);
}

function largestAmount(understanding: Understanding): number {
  return Math.max(0, ...understanding.entities.filter((e) => e.type === 'amount' && typeof e.value === 'number').map((e) => e.value as number));
}

/** The reasons this message must go to a human, in the order they are recorded. */
export function handoffReasons(
  text: string,
  understanding: Understanding,
  state: DialogueState,
  rules: HandoffRules,
  top: SubIntentFacts | undefined,
): HandoffReason[] {
  const reasons: HandoffReason[] = [];
  const topConfidence = understanding.candidates[0]?.confidence ?? 0;
  const explicitSubIntent = top && rules.explicitRequestSubIntents.includes(top.id) && topConfidence >= rules.answer.minConfidence;
  const { notWithin } = rules.words;
  if (saysAny(text, rules.words.explicitRequest, notWithin) || explicitSubIntent) reasons.push('explicit_request');
  if (saysAny(text, rules.words.complaint, notWithin)) reasons.push('complaint');
  if (saysAny(text, rules.words.regulator, notWithin)) reasons.push('regulator');
  const emotion = understanding.emotion;
  if (rules.emotion.negativeLabels.includes(emotion.label as never) && emotion.intensity >= rules.emotion.handoffIntensity) {
    reasons.push('negative_emotion');
  } else if (emotionWorsening(state.emotions, emotion, rules.emotion.worseningWindow, rules.emotion.worseningMinDrop)) {
    reasons.push('emotion_worsening');
  }
  // Sensitive intents go to a human to look at the user's own policy with them; another insurer's policy is not ours
  // to look at, so such a question is answered (with the note on whose rules apply).
  const otherInsurer = understanding.entities.some((e) => e.type === 'insurer');
  if (top?.sensitive && topConfidence >= rules.answer.minConfidence && !otherInsurer) reasons.push('sensitive_intent');
  const scenario = top?.scenarioId ?? state.lastScenarioId;
  if (scenario && rules.largeClaim.scenarios.includes(scenario) && largestAmount(understanding) >= rules.largeClaim.amountYuan) {
    reasons.push('large_claim');
  }
  if (state.vip && topConfidence < rules.vip.minConfidence && reasons.length === 0) reasons.push('vip');
  return reasons;
}

export interface DecideInput {
  inbound: InboundMessage;
  text: string;
  understanding: Understanding;
  state: DialogueState;
  rules: HandoffRules;
  facts(subIntentId: string): SubIntentFacts | undefined;
  /**
   * Days of the cooling-off period of a product line, or the longest of all for `undefined`; undefined when there is
   * none to speak of (a product without one, or one we do not sell).
   */
  coolingOffDays?(product: string | undefined): number | undefined;
}

/**
 * Candidates whose answer does not fit what the user stated give their place (and confidence) to the sub-intent that
 * does, named by `counterpartOf`; a sub-intent reached twice keeps its best confidence.
 */
function restateCandidates(
  candidates: readonly RankedCandidate[],
  counterpartOf: (candidate: SubIntentFacts | undefined) => SubIntentFacts | undefined,
  facts: (subIntentId: string) => SubIntentFacts | undefined,
): { candidates: RankedCandidate[]; restated: string[] } {
  const byId = new Map<string, RankedCandidate>();
  const restated: string[] = [];
  const keep = (candidate: RankedCandidate) => {
    const existing = byId.get(candidate.subIntentId);
    if (!existing || existing.confidence < candidate.confidence) byId.set(candidate.subIntentId, candidate);
  };
  for (const candidate of candidates) {
    const counterpart = counterpartOf(facts(candidate.subIntentId));
    if (!counterpart) {
      keep({ ...candidate });
      continue;
    }
    restated.push(`${candidate.name} → ${counterpart.name}`);
    keep({ subIntentId: counterpart.id, name: counterpart.name, confidence: candidate.confidence });
  }
  return { candidates: [...byId.values()].sort((a, b) => b.confidence - a.confidence), restated };
}

/**
 * "买了重疾险十天了，不想要了" and "买了三年的保险不想要了" share their words but not their answer: a stated time since
 * purchase settles which side of the cooling-off period the user is on. Candidates whose answer presumes the other
 * side give their place (and confidence) to the sub-intent they name for it.
 */
export function restateForHoldingPeriod(
  candidates: readonly RankedCandidate[],
  side: CoolingOffSide,
  facts: (subIntentId: string) => SubIntentFacts | undefined,
): { candidates: RankedCandidate[]; restated: string[] } {
  return restateCandidates(
    candidates,
    (sub) => (sub?.coolingOff && sub.coolingOff.presumes !== side ? facts(sub.coolingOff.otherwise) : undefined),
    facts,
  );
}

/**
 * "44岁的人上什么保险好" reads like "23岁买什么保险好" to words alone: a stated age gives a question answered for
 * other ages, or answered in general by a sub-intent that defers to age, to the sub-intent of the same intent written
 * for that age.
 */
export function restateForAge(
  candidates: readonly RankedCandidate[],
  age: number,
  facts: (subIntentId: string) => SubIntentFacts | undefined,
): { candidates: RankedCandidate[]; restated: string[] } {
  const fits = (sub: SubIntentFacts | undefined) => sub?.forAges !== undefined && sub.forAges.from <= age && age <= sub.forAges.to;
  return restateCandidates(
    candidates,
    (sub) => {
      if (!(sub?.forAges || sub?.deferToAge) || fits(sub)) return undefined;
      return (sub.ageSiblings ?? []).map((id) => facts(id)).find(fits);
    },
    facts,
  );
}

/**
 * The age of the person the question is about, when the message states one. Not when it states several, nor when
 * the age is the user's own ("我30岁") while they ask for someone else ("给爸妈买").
 */
export function statedAge(text: string, understanding: Pick<Understanding, 'entities'>): number | undefined {
  const ages = understanding.entities.filter((e) => e.type === 'age' && typeof e.value === 'number');
  if (new Set(ages.map((e) => e.value)).size !== 1) return undefined;
  const [age] = ages;
  const forSomeoneElse = understanding.entities.some((e) => e.type === 'relation' && e.value !== 'self');
  const at = text.indexOf(age.text);
  const ownAge = at >= 0 && /我(?:今年|现在|已经|都|快|才|刚|满)?$/.test(text.slice(Math.max(0, at - 4), at));
  return forSomeoneElse && ownAge ? undefined : (age.value as number);
}

/** The product a message is about: the one it names, else the one the conversation settled on. */
export function productInQuestion(understanding: Pick<Understanding, 'entities'> | undefined, state: Pick<DialogueState, 'slots'>): string | undefined {
  return understanding?.entities.find((e) => e.type === 'product')?.value?.toString() ?? state.slots.product;
}

/** The time since purchase the user stated, with the cooling-off period it is measured against (when there is one). */
function statedHoldingPeriod(input: DecideInput): { days: number; period: number; side: CoolingOffSide } | undefined {
  const { understanding, state } = input;
  const held = understanding.entities.find((e) => e.type === 'held_for' && typeof e.value === 'number');
  if (!held || !input.coolingOffDays) return undefined;
  const period = input.coolingOffDays(productInQuestion(understanding, state));
  if (!period) return undefined;
  const days = held.value as number;
  return { days, period, side: days <= period ? 'within' : 'after' };
}

/** answer · clarify · ask a slot · hand off — with the reason, from one message and the dialogue so far. */
export function decide(input: DecideInput): Decision {
  const { text, state, rules, facts } = input;
  const stated = statedHoldingPeriod(input);
  let { understanding } = input;
  let note = '';
  if (stated) {
    const { candidates, restated } = restateForHoldingPeriod(understanding.candidates, stated.side, facts);
    if (restated.length) {
      understanding = { ...understanding, candidates };
      note = `; held ${stated.days} days, ${stated.side === 'within' ? 'within' : 'past'} the ${stated.period}-day cooling-off period: ${restated.join(', ')}`;
    }
  }
  const age = statedAge(text, understanding);
  if (age !== undefined) {
    const { candidates, restated } = restateForAge(understanding.candidates, age, facts);
    if (restated.length) {
      understanding = { ...understanding, candidates };
      note += `; stated age ${age}: ${restated.join(', ')}`;
    }
  }
  const decision = decideOn(text, understanding, state, rules, facts, stated?.side);
  if (note) decision.reason += note;
  return decision;
}

/** Answers a sub-intent (with its menu), or first asks for the product when every answer depends on it. */
export function answerOrAskFor(
  subIntentId: string, confidence: number, reason: string, state: Pick<DialogueState, 'slots'>, facts: DecideInput['facts'],
): Decision {
  const sub = facts(subIntentId);
  if (sub?.needsProduct && !state.slots.product) {
    return { action: 'ask_slot', slot: 'product', subIntentId, reason: `${reason}; its answer depends on the product` };
  }
  // A topic's answer ends with its menu; the user's "2" then picks like a clarification's.
  const menu = (sub?.menu ?? []).map((id) => facts(id)).filter((target): target is SubIntentFacts => target !== undefined);
  const choices = menu.map((target, i) => ({ number: i + 1, label: target.name, subIntentId: target.id }));
  return { action: 'answer', subIntentId, solutionId: '', confidence, reason, ...(choices.length ? { choices } : {}) };
}

function decideOn(
  text: string, understanding: Understanding, state: DialogueState, rules: HandoffRules, facts: DecideInput['facts'],
  statedSide: CoolingOffSide | undefined,
): Decision {
  const answerOrAsk = (subIntentId: string, confidence: number, reason: string) => answerOrAskFor(subIntentId, confidence, reason, state, facts);

  // "都不是" to the choices offered is a miss, not a question of its own: ask again in other words, or after
  // repeated misses hand off.
  if (state.pendingChoices.length && isRejection(text)) {
    return state.lowConfidenceStreak + 1 >= rules.lowConfidence.handoffAfter
      ? { action: 'handoff', reasons: ['repeated_low_confidence'], reason: `hand off: user rejected the choices, ${state.lowConfidenceStreak + 1} misses in a row` }
      : { action: 'fallback', reason: 'user rejected the choices' };
  }
  // A reply to numbered choices; a lone choice was asked as a question, so "是的" picks it too.
  const confirmed = state.pendingChoices.length === 1 && isAffirmation(text);
  const picked = confirmed ? 1 : state.pendingChoices.length ? pickedNumber(text) : undefined;
  if (picked !== undefined) {
    const choice = state.pendingChoices.find((c) => c.number === picked);
    if (choice) return answerOrAsk(choice.subIntentId, 1, confirmed ? 'user confirmed the choice' : `user picked choice ${picked}`);
    // "4" to three choices: the same choices again, not a question about the number 4.
    return { action: 'clarify', choices: state.pendingChoices, reason: `picked ${picked}, not among the ${state.pendingChoices.length} choices` };
  }
  // A lone number with nothing offered to pick from is no question either.
  if (!state.pendingChoices.length && pickedNumber(text) !== undefined) return { action: 'fallback', reason: 'a number with no choices offered' };
  // "退保" offered 犹豫期内 · 犹豫期后, and "买了十天了" says which.
  const bySide = statedSide ? state.pendingChoices.filter((c) => facts(c.subIntentId)?.coolingOff?.presumes === statedSide) : [];
  if (bySide.length === 1) return answerOrAsk(bySide[0].subIntentId, 1, `the stated time since purchase picks choice ${bySide[0].number}`);

  // Emoji and punctuation alone match no question; whatever a model made of them is noise.
  const noContent = hasNoContent(text);
  if (noContent) understanding = { ...understanding, candidates: [] };
  const top = understanding.candidates[0];
  const topFacts = top ? facts(top.subIntentId) : undefined;
  const reasons = handoffReasons(text, understanding, state, rules, topFacts);
  if (reasons.length) {
    // The question, when it was understood: where no agent can take over, it is still answered (with where humans are).
    // Not a request for a human itself ("转人工"): its answer would only repeat where humans are.
    const answerable = top && top.confidence >= rules.answer.minConfidence && !topFacts?.needsProduct && !rules.explicitRequestSubIntents.includes(top.subIntentId);
    const understood = answerable ? { subIntentId: top.subIntentId } : {};
    return { action: 'handoff', reasons, reason: `hand off: ${reasons.join(', ')}`, ...understood };
  }
  if (noContent) return { action: 'acknowledge', reason: 'nothing but symbols or emoji' };

  // The missing slot arrived: answer the question it was asked for.
  if (state.pendingSlot && state.pendingSlot.slot === 'product') {
    const product = understanding.entities.find((e) => e.type === 'product');
    if (product) return { action: 'answer', subIntentId: state.pendingSlot.subIntentId, solutionId: '', confidence: 1, reason: 'slot product filled' };
  }

  const followUp = followUpChoices(text, understanding, state, facts);
  if (followUp) return { action: 'clarify', choices: followUp, reason: `a short follow-up: ${followUp[0].label} continues the topic, or ${followUp[1].label}` };

  if (top && top.confidence >= rules.answer.minConfidence) {
    return answerOrAsk(top.subIntentId, top.confidence, `confident (${top.confidence.toFixed(2)} ≥ ${rules.answer.minConfidence})`);
  }
  const plausible = understanding.candidates.filter((c) => c.confidence >= rules.answer.clarifyMinConfidence);
  if (plausible.length > 0) {
    const choices = plausible.slice(0, rules.answer.maxChoices).map((c, i) => ({ number: i + 1, label: c.name, subIntentId: c.subIntentId }));
    if (choices.length === 1) {
      // One plausible meaning is still a question worth confirming rather than a guess.
      return { action: 'clarify', choices, reason: `one plausible sub-intent below the answer threshold (${top!.confidence.toFixed(2)})` };
    }
    return { action: 'clarify', choices, reason: `ambiguous: ${choices.length} plausible sub-intents, best ${top!.confidence.toFixed(2)}` };
  }
  if (state.lowConfidenceStreak + 1 >= rules.lowConfidence.handoffAfter) {
    return { action: 'handoff', reasons: ['repeated_low_confidence'], reason: `hand off: ${state.lowConfidenceStreak + 1} misses in a row` };
  }
  return { action: 'fallback', reason: `no plausible answer (best ${(top?.confidence ?? 0).toFixed(2)})` };
}
