import { loadWechatConfig } from '../../src/config/wechat-config';
import { decide, emotionWorsening, isAffirmation, isRejection, pickedNumber, restateForAge, restateForHoldingPeriod, statedAge, type DialogueState, type SubIntentFacts } from '../../src/conversation/decide';
import type { InboundMessage, Understanding } from '../../src/conversation/types';

const rules = loadWechatConfig().handoffRules;
const inbound: InboundMessage = { channel: 'official-account', userId: 'u1', dedupeKey: 'k', kind: 'text', receivedAt: new Date() };
const calm = { label: 'none' as const, intensity: 0, polarity: 'neutral' as const };
const state = (over: Partial<DialogueState> = {}): DialogueState => ({
  pendingChoices: [], slots: {}, lowConfidenceStreak: 0, emotions: [], vip: false, ...over,
});
const facts: Record<string, SubIntentFacts> = {
  'a/b/answerable': { id: 'a/b/answerable', name: '可答', scenarioId: 'a', sensitive: false, needsProduct: false },
  'a/b/by-product': { id: 'a/b/by-product', name: '看产品', scenarioId: 'a', sensitive: false, needsProduct: true },
  'surrender/x/y': { id: 'surrender/x/y', name: '退保', scenarioId: 'surrender', sensitive: true, needsProduct: false },
  'claim-progress/x/y': { id: 'claim-progress/x/y', name: '进度', scenarioId: 'claim-progress', sensitive: false, needsProduct: false },
  'small-talk/human/request': { id: 'small-talk/human/request', name: '转人工', scenarioId: 'small-talk', sensitive: false, needsProduct: false },
  'surrender/cooling-off/cancel': {
    id: 'surrender/cooling-off/cancel', name: '犹豫期内取消保单', scenarioId: 'surrender', sensitive: false, needsProduct: false,
    coolingOff: { presumes: 'within', otherwise: 'surrender/after/how-to' },
  },
  'surrender/after/how-to': {
    id: 'surrender/after/how-to', name: '退保怎么办理', scenarioId: 'surrender', sensitive: true, needsProduct: false,
    coolingOff: { presumes: 'after', otherwise: 'surrender/cooling-off/cancel' },
  },
  'surrender/after/long-term': {
    id: 'surrender/after/long-term', name: '长期重疾险退保', scenarioId: 'surrender', sensitive: true, needsProduct: false,
    coolingOff: { presumes: 'after', otherwise: 'surrender/cooling-off/cancel' },
  },
  'buy/stage/kids': {
    id: 'buy/stage/kids', name: '给孩子买什么', scenarioId: 'buy', sensitive: false, needsProduct: false,
    forAges: { from: 0, to: 17 }, ageSiblings: ['buy/stage/young', 'buy/stage/middle'],
  },
  'buy/stage/young': {
    id: 'buy/stage/young', name: '年轻人', scenarioId: 'buy', sensitive: false, needsProduct: false,
    forAges: { from: 18, to: 35 }, ageSiblings: ['buy/stage/kids', 'buy/stage/middle'],
  },
  'buy/stage/middle': {
    id: 'buy/stage/middle', name: '中年人', scenarioId: 'buy', sensitive: false, needsProduct: false,
    forAges: { from: 36, to: 54 }, ageSiblings: ['buy/stage/kids', 'buy/stage/young'],
  },
  'buy/stage/which-first': {
    id: 'buy/stage/which-first', name: '先买哪种', scenarioId: 'buy', sensitive: false, needsProduct: false,
    deferToAge: true, ageSiblings: ['buy/stage/kids', 'buy/stage/young', 'buy/stage/middle'],
  },
  'claims/topic/menu': {
    id: 'claims/topic/menu', name: '理赔服务', scenarioId: 'claims', sensitive: false, needsProduct: false,
    menu: ['a/b/answerable', 'claim-progress/x/y', 'gone/x/y'],
  },
};
const understanding = (candidates: Array<[string, number]>, over: Partial<Understanding> = {}): Understanding => ({
  candidates: candidates.map(([subIntentId, confidence]) => ({ subIntentId, confidence, name: facts[subIntentId]?.name ?? subIntentId })),
  entities: [],
  emotion: calm,
  ...over,
});
const run = (text: string, u: Understanding, s = state()) => decide({ inbound, text, understanding: u, state: s, rules, facts: (id) => facts[id] });

describe('decide', () => {
  it('answers when confident', () => {
    expect(run('问题', understanding([['a/b/answerable', 0.9]]))).toMatchObject({ action: 'answer', subIntentId: 'a/b/answerable' });
  });

  it('asks for the product when every answer depends on it', () => {
    expect(run('问题', understanding([['a/b/by-product', 0.9]]))).toMatchObject({ action: 'ask_slot', slot: 'product' });
    expect(run('问题', understanding([['a/b/by-product', 0.9]]), state({ slots: { product: 'medical' } }))).toMatchObject({ action: 'answer' });
  });

  it('answers a topic with its menu (choices numbered in order, unknown entries skipped); a number then picks', () => {
    const d = run('理赔', understanding([['claims/topic/menu', 0.9]]));
    expect(d).toMatchObject({
      action: 'answer', subIntentId: 'claims/topic/menu',
      choices: [{ number: 1, label: '可答', subIntentId: 'a/b/answerable' }, { number: 2, label: '进度', subIntentId: 'claim-progress/x/y' }],
    });
    const picked = run('2', understanding([]), state({ pendingChoices: d.action === 'answer' ? d.choices! : [] }));
    expect(picked).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/x/y', reason: 'user picked choice 2' });
    expect(run('问题', understanding([['a/b/answerable', 0.9]]))).not.toHaveProperty('choices');
  });

  it('offers up to three numbered choices when unsure', () => {
    const d = run('问题', understanding([['a/b/answerable', 0.3], ['a/b/by-product', 0.25], ['claim-progress/x/y', 0.2], ['surrender/x/y', 0.16]]));
    expect(d.action).toBe('clarify');
    expect(d.action === 'clarify' && d.choices.map((c) => c.number)).toEqual([1, 2, 3]);
  });

  it('falls back, then hands off after repeated misses', () => {
    expect(run('天气', understanding([['a/b/answerable', 0.05]]))).toMatchObject({ action: 'fallback' });
    expect(run('天气', understanding([]), state({ lowConfidenceStreak: 1 }))).toMatchObject({ action: 'handoff', reasons: ['repeated_low_confidence'] });
  });

  it('picks a numbered choice', () => {
    const pending = state({ pendingChoices: [{ number: 1, label: 'x', subIntentId: 'claim-progress/x/y' }, { number: 2, label: 'y', subIntentId: 'a/b/answerable' }] });
    expect(run('2', understanding([]), pending)).toMatchObject({ action: 'answer', subIntentId: 'a/b/answerable' });
    expect(run('第一个', understanding([]), pending)).toMatchObject({ action: 'answer', subIntentId: 'claim-progress/x/y' });
  });

  it.each([
    ['转人工', understanding([]), ['explicit_request']],
    ['我要找个人', understanding([['small-talk/human/request', 0.8]]), ['explicit_request']],
    ['我要投诉你们', understanding([]), ['complaint']],
    ['再不处理我打12378', understanding([]), ['regulator']],
    ['气死了', understanding([], { emotion: { label: 'anger', intensity: 0.8, polarity: 'negative' } }), ['negative_emotion']],
    ['我要退保', understanding([['surrender/x/y', 0.9]]), ['sensitive_intent']],
    ['理赔50万什么时候到', understanding([['claim-progress/x/y', 0.9]], { entities: [{ type: 'amount', value: 500000, text: '50万' }] }), ['large_claim']],
  ])('hands off for %s', (text, u, reasons) => {
    expect(run(text, u)).toMatchObject({ action: 'handoff', reasons });
  });

  it('records every reason that applies', () => {
    const d = run('我要投诉，理赔拖了一个月了还没到账', understanding([['claim-progress/x/y', 0.6]], { emotion: { label: 'anger', intensity: 0.7, polarity: 'negative' } }));
    expect(d).toMatchObject({ action: 'handoff', reasons: ['complaint', 'negative_emotion'] });
  });

  it('gives VIPs a human unless the bot is very sure', () => {
    expect(run('问题', understanding([['a/b/answerable', 0.6]]), state({ vip: true }))).toMatchObject({ action: 'handoff', reasons: ['vip'] });
    expect(run('问题', understanding([['a/b/answerable', 0.9]]), state({ vip: true }))).toMatchObject({ action: 'answer' });
  });

  it('sees a worsening mood over the window', () => {
    const history = [{ label: 'none' as const, intensity: 0, polarity: 'neutral' as const }, { label: 'sadness' as const, intensity: 0.3, polarity: 'negative' as const }];
    expect(emotionWorsening(history, { label: 'anger', intensity: 0.5, polarity: 'negative' }, 3)).toBe(true);
    expect(emotionWorsening(history, { label: 'happiness', intensity: 0.5, polarity: 'positive' }, 3)).toBe(false);
    expect(emotionWorsening(history.slice(1), { label: 'anger', intensity: 0.5, polarity: 'negative' }, 3)).toBe(false);
  });

  it('counts calm, calm, then angry as worsening, if the fall is large enough', () => {
    const calmTwice = [calm, calm];
    const angry = { label: 'anger' as const, intensity: 0.56, polarity: 'negative' as const };
    expect(emotionWorsening(calmTwice, angry, 3, 0.4)).toBe(true);
    expect(emotionWorsening(calmTwice, { ...angry, intensity: 0.2 }, 3, 0.4)).toBe(false);
    expect(emotionWorsening([calm, { ...angry, intensity: 0.7 }], angry, 3, 0.4)).toBe(false); // it got better
    expect(run('你们到底能不能办事', understanding([], { emotion: angry }), state({ emotions: calmTwice }))).toMatchObject({ action: 'handoff', reasons: ['emotion_worsening'] });
  });

  it('reads picked numbers in several forms', () => {
    expect(['1', '２', '第3个', '第二个', '选三', '2。', '2、', '2号吧', '选项2', '就3吧', '我选2'].map(pickedNumber)).toEqual([1, 2, 3, 2, 3, 2, 2, 2, 2, 3, 2]);
    expect(['12', '第二个问题是什么', '我选了2个产品', '2333'].map(pickedNumber)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('offers the same choices again for a number that is not among them, and takes a lone number for no question', () => {
    const choices = [{ number: 1, label: 'x', subIntentId: 'claim-progress/x/y' }, { number: 2, label: 'y', subIntentId: 'a/b/answerable' }];
    expect(run('4', understanding([['surrender/x/y', 0.9]]), state({ pendingChoices: choices }))).toMatchObject({ action: 'clarify', choices });
    expect(run('5', understanding([['surrender/x/y', 0.9]]))).toMatchObject({ action: 'fallback', reason: 'a number with no choices offered' });
  });

  it.each([
    ['我不投诉，就问问怎么查理赔进度', ['claim-progress/x/y', 0.7]],
    ['不要转人工，我自己看看', ['a/b/answerable', 0.7]],
    ['别投诉了，理赔进度怎么查', ['claim-progress/x/y', 0.7]],
    ['曝光率是什么意思', ['a/b/answerable', 0.7]],
  ] as Array<[string, [string, number]]>)('does not hand off for a refused or different word: %s', (text, candidate) => {
    expect(run(text, understanding([candidate]))).toMatchObject({ action: 'answer' });
  });

  it('still hands off when a refusal is followed by the request', () => {
    expect(run('不是开玩笑，我要投诉', understanding([]))).toMatchObject({ action: 'handoff', reasons: ['complaint'] });
    expect(run('我不想等了，转人工', understanding([]))).toMatchObject({ action: 'handoff', reasons: ['explicit_request'] });
  });

  it('names the question it understood when it hands off (answered where no agent can take over)', () => {
    expect(run('我要退保', understanding([['surrender/x/y', 0.9]]))).toMatchObject({ action: 'handoff', subIntentId: 'surrender/x/y' });
    expect(run('转人工', understanding([['a/b/answerable', 0.2]]))).not.toHaveProperty('subIntentId');
    expect(run('转人工', understanding([['small-talk/human/request', 0.98]]))).not.toHaveProperty('subIntentId');
  });

  it.each(['😭😭', '？？？', '……', '。', '👍'])('matches no question for nothing but symbols or emoji: %s', (text) => {
    // Whatever a model made of them (they normalise to nothing) is ignored.
    expect(run(text, understanding([['surrender/x/y', 0.9]]))).toMatchObject({ action: 'acknowledge' });
  });

  it('asks about a short follow-up that reads as another topic while a reading stays in the current one', () => {
    const inClaims = state({ lastScenarioId: 'claim-progress' });
    const u = understanding([['a/b/answerable', 0.7], ['claim-progress/x/y', 0.12]]);
    expect(run('钱怎么还没到', u, inClaims)).toMatchObject({
      action: 'clarify', choices: [{ number: 1, subIntentId: 'claim-progress/x/y' }, { number: 2, subIntentId: 'a/b/answerable' }],
    });
    // A longer message says what it is about; no topic yet, or nothing in it, leaves the answer alone.
    expect(run('我想问一下我去年买的那份保险的钱怎么还没到', u, inClaims)).toMatchObject({ action: 'answer', subIntentId: 'a/b/answerable' });
    expect(run('钱怎么还没到', u)).toMatchObject({ action: 'answer', subIntentId: 'a/b/answerable' });
    expect(run('钱怎么还没到', understanding([['a/b/answerable', 0.7], ['claim-progress/x/y', 0.05]]), inClaims)).toMatchObject({ action: 'answer' });
  });

  it('hands off for angry emoji alone', () => {
    expect(run('😡😡😡', understanding([], { emotion: { label: 'anger', intensity: 0.9, polarity: 'negative' } }))).toMatchObject({ action: 'handoff', reasons: ['negative_emotion'] });
  });
});

describe('a stated time since purchase', () => {
  // 15 days for the long-term products, none for 医疗险, unknown for 车险.
  const coolingOffDays = (product: string | undefined) => (product === undefined || product === 'critical-illness' ? 15 : undefined);
  const held = (days: number, product?: string) => [
    { type: 'held_for', value: days, text: `${days}天` },
    ...(product ? [{ type: 'product', value: product, text: product }] : []),
  ];
  const withPeriods = (text: string, u: Understanding, s = state()) =>
    decide({ inbound, text, understanding: u, state: s, rules, facts: (id) => facts[id], coolingOffDays });

  it('answers the cooling-off side for "买了重疾险十天了": the surrender answer gives way, and no surrender handoff', () => {
    const u = understanding([['surrender/after/how-to', 0.59], ['surrender/after/long-term', 0.11], ['a/b/answerable', 0.1]], { entities: held(10, 'critical-illness') });
    const decision = withPeriods('买了重疾险十天了，不想要了', u);
    expect(decision).toMatchObject({ action: 'answer', subIntentId: 'surrender/cooling-off/cancel', confidence: 0.59 });
    expect(decision.reason).toMatch(/held 10 days, within the 15-day cooling-off period: 退保怎么办理 → 犹豫期内取消保单/);
    // without the periods the same message is the surrender question, handed to a human
    expect(run('买了重疾险十天了，不想要了', u)).toMatchObject({ action: 'handoff', reasons: ['sensitive_intent'] });
  });

  it('moves "买了三年" off the cooling-off answer; the counterparts merge, best confidence kept', () => {
    const { candidates, restated } = restateForHoldingPeriod(
      understanding([['surrender/cooling-off/cancel', 0.39], ['surrender/after/how-to', 0.18], ['a/b/answerable', 0.16]]).candidates,
      'after', (id) => facts[id],
    );
    expect(candidates.map((c) => [c.subIntentId, c.confidence])).toEqual([['surrender/after/how-to', 0.39], ['a/b/answerable', 0.16]]);
    expect(restated).toEqual(['犹豫期内取消保单 → 退保怎么办理']);
  });

  it('answers choices offered for both sides with the one the stated time is on', () => {
    const pending = [
      { number: 1, label: '犹豫期内取消保单', subIntentId: 'surrender/cooling-off/cancel' },
      { number: 2, label: '退保怎么办理', subIntentId: 'surrender/after/how-to' },
      { number: 3, label: '可答', subIntentId: 'a/b/answerable' },
    ];
    const asked = (days: number) => withPeriods('买了…', understanding([['a/b/answerable', 0.2]], { entities: held(days) }), state({ pendingChoices: pending }));
    expect(asked(10)).toMatchObject({ action: 'answer', subIntentId: 'surrender/cooling-off/cancel', reason: 'the stated time since purchase picks choice 1' });
    expect(asked(400)).toMatchObject({ action: 'answer', subIntentId: 'surrender/after/how-to', reason: 'the stated time since purchase picks choice 2' });
    // no choice on either side: an ordinary message
    expect(withPeriods('买了十天了', understanding([['a/b/answerable', 0.2]], { entities: held(10) }), state({ pendingChoices: [pending[2]] })).action).not.toBe('answer');
  });

  it('changes nothing without a period to settle: no stated time, a product without one, or candidates already on its side', () => {
    const after = understanding([['surrender/after/how-to', 0.59]]);
    expect(withPeriods('退保', after)).toMatchObject({ action: 'handoff' });
    expect(withPeriods('医疗险买了十天', { ...after, entities: held(10, 'medical') })).toMatchObject({ action: 'handoff' });
    const within = understanding([['surrender/cooling-off/cancel', 0.7]], { entities: held(3) });
    expect(withPeriods('买了三天', within)).toMatchObject({ action: 'answer', subIntentId: 'surrender/cooling-off/cancel', reason: 'confident (0.70 ≥ 0.5)' });
    // the last day of the period is still inside it
    expect(withPeriods('买了十五天', understanding([['surrender/after/how-to', 0.6]], { entities: held(15) }))).toMatchObject({ subIntentId: 'surrender/cooling-off/cancel' });
  });
});

describe('a stated age', () => {
  const aged = (age: number, text: string, more: Array<{ type: string; value: string | number; text: string }> = []) => ({
    entities: [{ type: 'age', value: age, text }, ...more],
  });

  it('answers "44岁的人上什么保险好" with the answer written for that age, at the confidence it had', () => {
    const u = understanding([['buy/stage/young', 0.55], ['buy/stage/kids', 0.2], ['a/b/answerable', 0.1]], aged(44, '44岁'));
    const decision = run('44岁的人上什么保险好', u);
    expect(decision).toMatchObject({ action: 'answer', subIntentId: 'buy/stage/middle', confidence: 0.55 });
    expect(decision.reason).toMatch(/stated age 44: 年轻人 → 中年人, 给孩子买什么 → 中年人$/);
  });

  it('leaves candidates written for that age, and those written for no age, where they are', () => {
    const { candidates, restated } = restateForAge(understanding([['buy/stage/young', 0.4], ['a/b/answerable', 0.3]]).candidates, 30, (id) => facts[id]);
    expect(candidates.map((c) => c.subIntentId)).toEqual(['buy/stage/young', 'a/b/answerable']);
    expect(restated).toEqual([]);
    // no sibling is written for 80: nothing to move to
    expect(restateForAge(understanding([['buy/stage/young', 0.4]]).candidates, 80, (id) => facts[id]).restated).toEqual([]);
  });

  it('hands a general answer that defers to age to the one written for the stated age, and keeps it without an age', () => {
    const u = understanding([['buy/stage/which-first', 0.6], ['a/b/answerable', 0.1]], aged(39, '39岁'));
    expect(run('39岁的人适合买哪种保险', u)).toMatchObject({ action: 'answer', subIntentId: 'buy/stage/middle', confidence: 0.6 });
    expect(run('先买哪种保险', understanding([['buy/stage/which-first', 0.6]]))).toMatchObject({ action: 'answer', subIntentId: 'buy/stage/which-first' });
    // no sibling is written for 80: the general answer stays
    expect(restateForAge(understanding([['buy/stage/which-first', 0.6]]).candidates, 80, (id) => facts[id]).restated).toEqual([]);
  });

  it("is the age of whom the question is about: not the user's own when they ask for someone else, not one of several", () => {
    expect(statedAge('44岁的人上什么保险好', aged(44, '44岁'))).toBe(44);
    expect(statedAge('孩子3岁买什么', aged(3, '3岁', [{ type: 'relation', value: 'child', text: '孩子' }]))).toBe(3);
    expect(statedAge('我30岁，想给爸妈买保险', aged(30, '30岁', [{ type: 'relation', value: 'parent', text: '爸妈' }]))).toBeUndefined();
    expect(statedAge('我今年30岁买什么', aged(30, '30岁'))).toBe(30);
    expect(statedAge('我30岁老婆28岁', { entities: [{ type: 'age', value: 30, text: '30岁' }, { type: 'age', value: 28, text: '28岁' }] })).toBeUndefined();
  });
});

describe('a yes to a single choice', () => {
  it('reads short affirmations only', () => {
    for (const yes of ['是', '是的', '对', '嗯嗯', '好的。', 'OK', '没错！']) expect(isAffirmation(yes)).toBe(true);
    for (const no of ['不是', '是不是', '对不起', '好的谢谢再见我还想问退保', '不对', '2']) expect(isAffirmation(no)).toBe(false);
  });

  it('picks the lone choice, but not one of several', () => {
    const one = [{ number: 1, label: '可答', subIntentId: 'a/b/answerable' }];
    expect(run('是的', understanding([]), state({ pendingChoices: one }))).toMatchObject({ action: 'answer', subIntentId: 'a/b/answerable' });
    const two = [...one, { number: 2, label: '进度', subIntentId: 'claim-progress/x/y' }];
    expect(run('是的', understanding([]), state({ pendingChoices: two })).action).not.toBe('answer');
  });
});

describe('a no to the choices offered', () => {
  it('reads short rejections only', () => {
    for (const no of ['不是', '都不是', '不对', '都不是我要问的', '没有。']) expect(isRejection(no)).toBe(true);
    for (const other of ['不是本人能退保吗', '是的', '2', '不对劲']) expect(isRejection(other)).toBe(false);
  });

  it('asks again in other words instead of reading "都不是" as a question; after repeated misses a human takes over', () => {
    const pending = [{ number: 1, label: '可答', subIntentId: 'a/b/answerable' }, { number: 2, label: '进度', subIntentId: 'claim-progress/x/y' }];
    const decision = run('都不是', understanding([['a/b/answerable', 0.2]]), state({ pendingChoices: pending }));
    expect(decision).toEqual({ action: 'fallback', reason: 'user rejected the choices' });
    expect(run('都不是', understanding([]), state({ pendingChoices: pending, lowConfidenceStreak: 1 }))).toMatchObject({ action: 'handoff', reasons: ['repeated_low_confidence'] });
    // with nothing pending it is an ordinary message
    expect(run('都不是', understanding([['a/b/answerable', 0.2]])).action).toBe('clarify');
  });
});

describe('another insurer named', () => {
  it('answers a sensitive question about another insurer\'s policy instead of handing it to our agents', () => {
    const insurer = [{ type: 'insurer', value: '中国人寿', text: '中国人寿' }];
    expect(run('我在中国人寿买的保险想退', understanding([['surrender/x/y', 0.8]], { entities: insurer }))).toMatchObject({ action: 'answer', subIntentId: 'surrender/x/y' });
    expect(run('我的保险想退', understanding([['surrender/x/y', 0.8]]))).toMatchObject({ action: 'handoff', reasons: ['sensitive_intent'] });
    // other reasons still apply
    expect(run('我要投诉中国人寿', understanding([['surrender/x/y', 0.8]], { entities: insurer }))).toMatchObject({ action: 'handoff', reasons: ['complaint'] });
  });
});
