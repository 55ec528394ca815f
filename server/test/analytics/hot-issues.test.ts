import pino from 'pino';
import { createInsight } from '../../src/analytics';
import { Alert } from '../../src/analytics/alerts';
import { FiveMinuteBucket, HourBucket, type Increment } from '../../src/analytics/buckets';
import { loadInsightSettings } from '../../src/analytics/settings';
import { EventBus } from '../../src/events/bus';
import type { DomainEvents } from '../../src/events/types';
import { useTestDatabase } from '../support/database';
import { dailyShape, poisson, seededRandom } from './synthetic';

useTestDatabase(__filename);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = Date.UTC(2025, 7, 8, 6, 30); // 14:30 in Beijing
const sent: Array<{ content: string; to: string[] }> = [];

jest.setTimeout(180_000); // FerretDB bucket writes are slow when the suite runs on two busy cores; speed lives in benchmarks

describe('hot issues from live events: buckets, spikes, emerging topics, forecast', () => {
  let clock = END - 8 * DAY;
  const events = new EventBus((event, err) => { throw new Error(`${event}: ${String(err)}`); });
  const insight = createInsight({
    events, now: () => new Date(clock), logger: pino({ level: 'silent' }), settings: loadInsightSettings({ TOPIC_ALERT_COOLDOWN_MINUTES: '360' }),
    knowledge: { search: () => [], topicName: (id) => ({ 'claim-report': '理赔报案' } as Record<string, string>)[id] }, answerConfidence: 0.5, recipientsFor: async () => [], metricLingerMs: 0,
    wecom: {
      apiBase: 'http://127.0.0.1:9', // unused: no sign-in in this test
      client: {
        corpId: 'ww0000000000', agentId: 1, accessTokens: { getAccessToken: async () => 't', withAccessToken: async (call) => call('t') },
        sendAppMessage: async (message) => { sent.push({ content: 'content' in message ? message.content : '', to: [...(message.toUsers as string[])] }); return {}; },
      },
    },
  });
  const random = seededRandom(99);
  let n = 0;

  const received = (at: number, subIntentId: string, confidence = 0.9): DomainEvents['message.received'] => ({
    conversationId: `official-account:o_${n % 400}`, messageId: `m${++n}`, channel: 'official-account', userId: `o_${n % 400}`, text: '问题',
    emotion: { label: random() < 0.1 ? 'anger' : 'none', intensity: 0.5, polarity: 'neutral' }, topSubIntentId: subIntentId, confidence, at: new Date(at), state: 'bot',
  });

  /** Ordinary traffic over three scenarios, as bucket increments (straight into the store: the pipeline is tested elsewhere). */
  function ordinaryTraffic(from: number, to: number): Increment[] {
    const topics = ['claim-report/how-to-report/online-report', 'renewal/premium/change', 'policy-service/beneficiary/change'];
    const increments: Increment[] = [];
    for (let t = from; t < to; t += 5 * 60_000) {
      const hour = new Date(t + 8 * HOUR).getUTCHours() + new Date(t).getUTCMinutes() / 60; // Beijing time
      const count = poisson(2 * dailyShape(hour), random);
      for (let i = 0; i < count; i++) {
        const at = new Date(t + Math.floor(random() * 5 * 60_000));
        const topic = topics[Math.floor(random() * topics.length)];
        increments.push(
          { metric: 'messages', key: 'all', at },
          { metric: 'scenario', key: topic.split('/')[0], at },
          { metric: 'intent', key: topic.split('/').slice(0, 2).join('/'), at },
        );
      }
    }
    return increments;
  }

  /** The history as the hourly buckets hold it (5-minute buckets of past days are purged anyway). */
  async function hourlyHistory(from: number, to: number): Promise<void> {
    const counts = new Map<string, { metric: string; key: string; start: Date; count: number }>();
    for (const inc of ordinaryTraffic(from, to)) {
      const start = new Date(Math.floor(inc.at.getTime() / HOUR) * HOUR);
      const id = `${inc.metric}:${inc.key}:${start.toISOString()}`;
      const entry = counts.get(id) ?? { metric: inc.metric, key: inc.key, start, count: 0 };
      entry.count += 1;
      counts.set(id, entry);
    }
    await HourBucket.insertMany([...counts.entries()].map(([_id, e]) => ({ _id, ...e })));
  }

  beforeAll(async () => {
    await insight.start();
    await insight.stop();
    const recentStart = Math.floor((END - 3 * HOUR) / HOUR) * HOUR;
    await hourlyHistory(END - 8 * DAY, recentStart);
    await insight.buckets.add(ordinaryTraffic(recentStart, END - 40 * 60_000));
  }, 120_000);

  it('counts events into 5-minute and hourly buckets keyed by metric, key and time', async () => {
    clock = END - 40 * 60_000;
    const at = new Date(END - 39 * 60_000);
    events.publish('message.received', received(at.getTime(), 'invoice/e-invoice/issue'));
    events.publish('message.answered', { conversationId: 'c', messageId: 'x', decision: { action: 'fallback', reason: 'no' }, replies: [], at });
    events.publish('conversation.handed_off', { conversationId: 'c', channel: 'official-account', userId: 'u', reasons: ['complaint', 'negative_emotion'], vip: false, at });
    await events.settled();
    const five = await FiveMinuteBucket.findById(`scenario:invoice:${new Date(Math.floor(at.getTime() / 300_000) * 300_000).toISOString()}`).lean();
    expect(five).toMatchObject({ metric: 'scenario', key: 'invoice', count: 1 });
    expect(await HourBucket.findById(`handoff_reason:complaint:${new Date(Math.floor(at.getTime() / HOUR) * HOUR).toISOString()}`).lean()).toMatchObject({ count: 1 });
    expect((await insight.buckets.totals('1h', { metric: 'unanswered', from: new Date(END - DAY), to: new Date(END) })).get('all')).toBe(1);
  });

  it('a normal afternoon raises nothing', async () => {
    await insight.buckets.add(ordinaryTraffic(END - 40 * 60_000, END));
    clock = END;
    const issues = await insight.hotIssues.evaluate({ raiseAlerts: true });
    expect(issues.filter((i) => i.verdict.spike)).toEqual([]);
    expect(await Alert.countDocuments()).toBe(0);
  });

  it('a surge of claim reports is a spike; an unanswered cluster from nowhere is an emerging topic; each alerts once', async () => {
    for (let i = 0; i < 45; i++) {
      events.publish('message.received', received(END + i * 40_000, 'claim-report/how-to-report/online-report'));
    }
    await events.settled();
    await insight.buckets.add(Array.from({ length: 14 }, (_, i) => ({ metric: 'unanswered_cluster' as const, key: 'c0123456789', at: new Date(END + i * 120_000) })));
    clock = END + 30 * 60_000;
    const issues = await insight.hotIssues.evaluate({ raiseAlerts: true });
    const spiking = issues.filter((i) => i.verdict.spike).map((i) => `${i.metric}:${i.key}:${i.verdict.kind}`);
    expect(spiking).toEqual(expect.arrayContaining(['scenario:claim-report:spike', 'unanswered_cluster:c0123456789:emerging']));
    expect(spiking.some((s) => s.startsWith('scenario:renewal'))).toBe(false);

    const alerts = await Alert.find({}).lean();
    expect(alerts.map((a) => `${a.kind}:${a.subject}`).sort()).toEqual(expect.arrayContaining(['emerging_topic:unanswered_cluster:c0123456789', 'topic_spike:scenario:claim-report']));
    // Managers read the scenario's name, not its id.
    expect(issues.find((i) => i.key === 'claim-report')?.name).toBe('理赔报案');
    expect(alerts.find((a) => a.subject === 'scenario:claim-report')?.title).toBe('热点场景激增：「理赔报案」');
    const count = alerts.length;
    // Five minutes later it is still surging: no second alert (cool-down), no second WeCom message.
    clock += 5 * 60_000;
    const sentBefore = sent.length;
    await insight.hotIssues.evaluate({ raiseAlerts: true });
    expect(await Alert.countDocuments()).toBe(count);
    expect(sent.length).toBe(sentBefore);
  });

  it('forecasts the next 24 hours from the hourly buckets, with a back-test error', async () => {
    const forecast = await insight.hotIssues.forecast('messages', 'all');
    expect(forecast.history.length).toBeGreaterThanOrEqual(7 * 24);
    expect(forecast.forecast).toHaveLength(24);
    expect(forecast.forecast[0].start.getTime()).toBe(Math.floor(clock / HOUR) * HOUR);
    expect(forecast.backtest!.wape!).toBeLessThan(0.5);
    console.log(`forecast back-test on the simulated platform traffic (last day held back): MAE ${forecast.backtest!.mae.toFixed(2)}/h, WAPE ${(forecast.backtest!.wape! * 100).toFixed(1)}%, sMAPE ${(forecast.backtest!.smape * 100).toFixed(1)}%`);
    // Busier at 10:00 Beijing than at 03:00.
    const at = (beijingHour: number) => forecast.forecast.find((p) => new Date(p.start.getTime() + 8 * HOUR).getUTCHours() === beijingHour)!.value;
    expect(at(10)).toBeGreaterThan(at(3) * 2);
  });
});
