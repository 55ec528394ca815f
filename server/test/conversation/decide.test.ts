import { loadWechatConfig } from '../../src/config/wechat-config';
import { decide, emotionWorsening, pickedNumber, type DialogueState, type SubIntentFacts } from '../../src/conversation/decide';
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

  it('reads picked numbers in several forms', () => {
    expect(['1', '２', '第3个', '第二个', '选三', '2。'].map(pickedNumber)).toEqual([1, 2, 3, 2, 3, 2]);
    expect(['12', '第二个问题是什么', '我选了2个产品'].map(pickedNumber)).toEqual([undefined, undefined, undefined]);
  });
});
