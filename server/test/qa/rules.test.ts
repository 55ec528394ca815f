import type { Transcript, TranscriptTurn } from '../../src/conversation/transcripts';
import type { Decision, EmotionReading } from '../../src/conversation/types';
import { inspectTranscript, type RuleId } from '../../src/qa/inspect';
import { loadQaRules, parseQaRules, QaRulesError } from '../../src/qa/rules';

const rules = loadQaRules();
const T0 = new Date('2025-06-02T02:00:00Z').getTime();
const NEUTRAL: EmotionReading = { label: 'none', intensity: 0, polarity: 'neutral' };
const ANGRY: EmotionReading = { label: 'anger', intensity: 0.8, polarity: 'negative' };
const HAPPY: EmotionReading = { label: 'happiness', intensity: 0.4, polarity: 'positive' };

type Line = [seconds: number, speaker: 'c' | 'b' | 'a' | 'a2', text: string, extra?: { emotion?: EmotionReading; decision?: Decision }];

/** A transcript from compact lines; message ids are m1, m2 … in order. */
function transcript(lines: Line[]): Transcript {
  const turns: TranscriptTurn[] = lines.map(([s, who, text, extra], i) => ({
    messageId: `m${i + 1}`,
    speaker: who === 'c' ? 'customer' : who === 'b' ? 'bot' : 'agent',
    agentId: who === 'a' ? 'zhangsan' : who === 'a2' ? 'lisi' : undefined,
    text, at: new Date(T0 + s * 1000), emotion: who === 'c' ? extra?.emotion ?? NEUTRAL : undefined, decision: extra?.decision,
  }));
  return { conversationId: 'official-account:o_test', channel: 'official-account', turns };
}

const hitsOf = (t: Transcript, extra: Parameters<typeof inspectTranscript>[0] extends infer I ? Partial<I> : never = {}) =>
  inspectTranscript({ transcript: t, ...extra }, rules).hits;
const only = (t: Transcript, rule: RuleId) => hitsOf(t).filter((h) => h.rule === rule);

const HANDOFF: Decision = { action: 'handoff', reasons: ['explicit_request'], reason: 'hand off: explicit_request' };
const FALLBACK: Decision = { action: 'fallback', reason: 'no plausible answer' };

/** A polite, fast, resolved human conversation: the baseline every rule test perturbs. */
const good: Line[] = [
  [0, 'c', '你好，我要转人工', { decision: HANDOFF }],
  [1, 'b', '正在为您转接人工客服，请稍候。'],
  [20, 'a', '您好，我是客服张三，很高兴为您服务。'],
  [40, 'c', '我的理赔到哪一步了'],
  [70, 'a', '已为您查询，理赔材料已审核通过，预计3个工作日到账。'],
  [90, 'c', '好的谢谢', { emotion: HAPPY }],
  [100, 'a', '不客气，还有其他问题随时联系，祝您生活愉快，再见！'],
];

describe('quality inspection rules (wechat-config/qa-rules.yaml)', () => {
  it('a polite, fast, resolved conversation scores 100 with no hits', () => {
    const result = inspectTranscript({ transcript: transcript(good) }, rules);
    expect(result.hits).toEqual([]);
    expect(result).toMatchObject({ score: 100, passed: true, agentIds: ['zhangsan'], handledBy: 'bot+agent' });
    expect(result.metrics.firstResponseSeconds).toBe(20);
  });

  it('forbidden phrases: one hit per speaker, with every offending message as evidence', () => {
    const lines: Line[] = [...good];
    lines[4] = [70, 'a', '放心，这个肯定能赔，保证赚钱的。'];
    lines.splice(5, 0, [80, 'a', '稳赚不赔，您放心']);
    const [hit, ...rest] = only(transcript(lines), 'forbidden_phrase');
    expect(rest).toEqual([]);
    expect(hit).toMatchObject({ agentId: 'zhangsan', evidence: ['m5', 'm6'], deduction: 20 });
    expect(hit.detail).toContain('肯定能赔');
  });

  it('forbidden phrases denied where they are said are correct disclosures, not violations', () => {
    const said = (text: string) => {
      const lines: Line[] = [...good];
      lines[4] = [70, 'a', text];
      return only(transcript(lines), 'forbidden_phrase');
    };
    for (const disclosure of ['保险不是理财，我们不能保证赚钱，也不是稳赚不赔的。', '理赔要看条款，不存在包赔、肯定能赔的说法。', '没有保本保息这回事，收益保证不了。']) {
      expect(said(disclosure)).toEqual([]);
    }
    // A denial elsewhere in the message does not excuse the promise.
    for (const promise of ['没事，肯定能赔', '不用担心肯定能赔', '这款不贵，保本保息', '我们不能退款，但是包赔']) {
      expect(said(promise)).toEqual([expect.objectContaining({ agentId: 'zhangsan', evidence: ['m5'] })]);
    }
  });

  it('personal data: an ID card or bank card number written out by our side, not numbers of ours nor the customer\'s own', () => {
    const lines: Line[] = [...good];
    lines[3] = [40, 'c', '我的身份证是11010519491231002X，理赔到哪一步了'];
    lines[4] = [70, 'a', '已查到，被保险人身份证 11010519491231002X，赔款打到尾号的卡 4111 1111 1111 1111。'];
    expect(only(transcript(lines), 'personal_data')).toEqual([
      expect.objectContaining({ agentId: 'zhangsan', evidence: ['m5'], deduction: 20, detail: expect.stringMatching(/身份证号.*银行卡号/) }),
    ]);
    // Masked, a number of ours that happens to pass Luhn, or an ID with a wrong checksum: nothing to flag.
    lines[4] = [70, 'a', '已查到，身份证1101**********002X，保单号4111111111111111，理赔已受理。'];
    expect(only(transcript(lines), 'personal_data')).toEqual([]);
    expect(only(transcript(good), 'personal_data')).toEqual([]);
  });

  it('rudeness: an agent talking down to the customer', () => {
    const lines: Line[] = [...good];
    lines[4] = [70, 'a', '说了多少遍了，你自己去查啊，烦不烦'];
    expect(only(transcript(lines), 'rudeness')).toEqual([
      expect.objectContaining({ agentId: 'zhangsan', evidence: ['m5'], deduction: 25 }),
    ]);
  });

  it('selling disclosures: a pitch without 犹豫期 / 免责条款 / 等待期 names the missing ones', () => {
    const lines: Line[] = [
      [0, 'c', '转人工', { decision: HANDOFF }],
      [10, 'a', '您好，我是张三'],
      [20, 'c', '重疾险怎么买'],
      [40, 'a', '推荐您投保安心重疾，每年只需2000元，这是投保链接。'],
      [50, 'a', '等待期是90天。'],
      [60, 'c', '好的'],
      [70, 'a', '感谢咨询，再见'],
    ];
    // Declining to sell is no pitch.
    const declined: Line[] = [...lines];
    declined[3] = [40, 'a', '抱歉，我这边不能帮您下单，您可以在小程序里查看产品。'];
    declined.splice(4, 1);
    expect(only(transcript(declined), 'selling_disclosure')).toEqual([]);

    const [hit] = only(transcript(lines), 'selling_disclosure');
    expect(hit).toMatchObject({ agentId: 'zhangsan', evidence: ['m4'], deduction: 15 });
    expect(hit.detail).toContain('犹豫期');
    expect(hit.detail).toContain('免责条款');
    expect(hit.detail).not.toContain('等待期');

    lines[4] = [50, 'a', '等待期90天，犹豫期15天内可全额退保，责任免除请看条款第七条。'];
    expect(only(transcript(lines), 'selling_disclosure')).toEqual([]);
  });

  it('greeting and closing: the agent\'s first and last messages', () => {
    const lines: Line[] = [...good];
    lines[2] = [20, 'a', '什么事'];
    lines[6] = [100, 'a', '嗯'];
    const hits = hitsOf(transcript(lines));
    expect(hits.find((h) => h.rule === 'greeting')).toMatchObject({ agentId: 'zhangsan', evidence: ['m3'] });
    expect(hits.find((h) => h.rule === 'closing')).toMatchObject({ agentId: 'zhangsan', evidence: ['m7'] });
  });

  it('first response: from the handoff, or from the agent accepting the session when known', () => {
    const lines: Line[] = [...good];
    lines[2] = [200, 'a', '您好，我是客服张三。'];
    lines[3] = [210, 'c', '我的理赔到哪一步了'];
    lines[4] = [230, 'a', '已为您查询，预计3个工作日到账。'];
    lines[5] = [240, 'c', '好的谢谢', { emotion: HAPPY }];
    lines[6] = [250, 'a', '感谢您的耐心，再见！'];
    expect(only(transcript(lines), 'first_response')).toEqual([
      expect.objectContaining({ agentId: 'zhangsan', evidence: ['m1', 'm3'], detail: expect.stringContaining('200 秒') }),
    ]);
    // Accepted at 170 s: 30 s to the first message is fine (the queue wait is not the agent's).
    const accepted = hitsOf(transcript(lines), { sessionStarts: [{ agentId: 'zhangsan', at: new Date(T0 + 170_000) }] });
    expect(accepted.filter((h) => h.rule === 'first_response')).toEqual([]);
  });

  it('per-turn response: each slow reply is evidence, the deduction is capped', () => {
    const lines: Line[] = [
      [0, 'c', '转人工', { decision: HANDOFF }],
      [10, 'a', '您好'],
      [20, 'c', '问题一'], [400, 'a', '回复一'],
      [410, 'c', '问题二'], [420, 'c', '在吗'], [900, 'a', '回复二'],
      [910, 'c', '问题三'], [920, 'a', '回复三，感谢，再见'],
    ];
    const [hit] = only(transcript(lines), 'turn_response');
    // Waiting starts at the first unanswered customer message (m5, not m6).
    expect(hit).toMatchObject({ agentId: 'zhangsan', evidence: ['m3', 'm4', 'm5', 'm7'], deduction: 6 });
    const many: Line[] = [[0, 'c', '转人工', { decision: HANDOFF }], [10, 'a', '您好']];
    for (let i = 0; i < 8; i++) many.push([100 + i * 1000, 'c', `问题${i}`], [400 + i * 1000, 'a', `回复${i}`]);
    expect(only(transcript(many), 'turn_response')[0].deduction).toBe(rules.rules.turnResponse.maxDeduction);
  });

  it('emotion worse at the end than at the start', () => {
    const lines: Line[] = [...good];
    lines[0] = [0, 'c', '你好，我要转人工', { decision: HANDOFF, emotion: NEUTRAL }];
    lines[5] = [90, 'c', '你们太过分了', { emotion: ANGRY }];
    expect(only(transcript(lines), 'emotion_worse')).toEqual([
      expect.objectContaining({ agentId: 'zhangsan', evidence: ['m1', 'm6'] }),
    ]);
  });

  it('unresolved: the last question unanswered, or the bot gave up with nobody taking over', () => {
    const unanswered: Line[] = [...good.slice(0, 4)];
    expect(only(transcript(unanswered), 'unresolved')).toEqual([expect.objectContaining({ evidence: ['m4'] })]);
    const botGaveUp: Line[] = [
      [0, 'c', '新冠疫苗的副作用保不保', { decision: FALLBACK }],
      [1, 'b', '抱歉，这个问题我还不会回答。'],
    ];
    expect(only(transcript(botGaveUp), 'unresolved')).toEqual([
      expect.objectContaining({ evidence: ['m1'], detail: expect.stringContaining('fallback') }),
    ]);
    // A closing "thanks" needs no answer.
    expect(only(transcript(good.slice(0, 6)), 'unresolved')).toEqual([]);
    for (const done of ['好的，谢谢你们的帮助！', '嗯嗯 知道了', '好吧，我再看看', 'OK 谢谢']) {
      expect(only(transcript([...good.slice(0, 5), [90, 'c', done]]), 'unresolved')).toEqual([]);
    }
    // ... but a complaint or a question that merely starts like one does.
    for (const open of ['好几天了还没到账', '好慢啊', '好的？那到底什么时候到']) {
      expect(only(transcript([...good.slice(0, 5), [90, 'c', open]]), 'unresolved')).toEqual([expect.objectContaining({ evidence: ['m6'] })]);
    }
  });

  it('repeat contact within 24 h points at the new first message and the earlier inspection', () => {
    const previousContact = { inspectionId: 'official-account:o_test@m0', endedAt: new Date(T0 - 5 * 3_600_000) };
    const hits = hitsOf(transcript(good), { previousContact });
    expect(hits).toEqual([expect.objectContaining({ rule: 'repeat_contact', evidence: ['m1'], detail: expect.stringContaining('@m0') })]);
    const longAgo = { ...previousContact, endedAt: new Date(T0 - 30 * 3_600_000) };
    expect(hitsOf(transcript(good), { previousContact: longAgo })).toEqual([]);
  });

  it('scores by deduction, fails below the pass mark and attributes hits to the right agent after a transfer', () => {
    const lines: Line[] = [
      [0, 'c', '转人工', { decision: HANDOFF }],
      [10, 'a', '您好，我是张三，为您转给李四'],
      [30, 'a2', '你懂不懂保险啊'],
      [40, 'c', '算了'],
      [50, 'a2', '再见'],
    ];
    const result = inspectTranscript({ transcript: transcript(lines) }, rules);
    expect(result.agentIds).toEqual(['zhangsan', 'lisi']);
    expect(result.hits.find((h) => h.rule === 'rudeness')).toMatchObject({ agentId: 'lisi', evidence: ['m3'] });
    expect(result.hits.find((h) => h.rule === 'greeting' && h.agentId === 'lisi')).toMatchObject({ evidence: ['m3'] });
    expect(result.score).toBe(100 - result.hits.reduce((s, h) => s + h.deduction, 0));
    expect(result.passed).toBe(false);
  });

  it('rejects a rules file with a problem, naming it', () => {
    expect(() => parseQaRules('scoring: { passMark: 120 }')).toThrow(QaRulesError);
    try {
      parseQaRules('scoring: { passMark: 120 }');
    } catch (err) {
      expect((err as QaRulesError).problems.join('\n')).toContain('scoring.passMark');
    }
  });
});
