import pino from 'pino';
import { createApp } from '../../src/app';
import { createInsight } from '../../src/analytics';
import { loadInsightSettings } from '../../src/analytics/settings';
import { EventBus } from '../../src/events/bus';
import { Inspection, type InspectionRecord } from '../../src/qa/models';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';

useTestDatabase(__filename);

const ADMIN_TOKEN = 'overview-admin-token-0123456789';
const NOW = Date.UTC(2025, 6, 8, 9);
const HOUR = 3_600_000;

describe('dashboard overview figures', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    const events = new EventBus((event, err) => { throw new Error(`${event}: ${String(err)}`); });
    const insight = createInsight({
      events, now: () => new Date(NOW), logger: pino({ level: 'silent' }), settings: loadInsightSettings({ ADMIN_TOKEN }),
      knowledge: { search: () => [] }, answerConfidence: 0.5, recipientsFor: async () => [], metricLingerMs: 0,
    });
    server = await serve(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1 << 20, routers: insight.routers }));
  });
  afterAll(() => server.close());
  const overview = async (hours: number) => {
    const res = await fetch(`${server.baseUrl}/api/dashboard/overview?hours=${hours}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { lowestInspections: Array<{ _id: string; score: number }> };
  };

  it('lists the lowest inspections of the whole window, however many conversations ended after them', async () => {
    const inspection = (id: string, endedAt: number, score: number): InspectionRecord => ({
      _id: id, kind: 'chat', conversationId: `official-account:${id}`, customerKey: `official-account:${id}`, channel: 'official-account',
      agentIds: ['zhangsan'], handledBy: 'agent', score, passed: score >= 80,
      hits: score < 80 ? [{ rule: 'rudeness', deduction: 100 - score, agentId: 'zhangsan', evidence: [`${id}:1`], detail: '态度恶劣' }] : [],
      metrics: { turns: 4, customerTurns: 2, slowTurns: 0, saleDiscussed: false }, startedAt: new Date(endedAt - 600_000), endedAt: new Date(endedAt), inspectedAt: new Date(endedAt),
    });
    // A rude conversation this morning, then a busy afternoon of good ones.
    const docs = [inspection('rude', NOW - 20 * HOUR, 30), inspection('too-old', NOW - 30 * HOUR, 10)];
    for (let i = 0; i < 240; i++) docs.push(inspection(`good-${i}`, NOW - 2 * HOUR + i * 20_000, 95 + (i % 6)));
    await Inspection.insertMany(docs);

    const day = await overview(24);
    expect(day.lowestInspections[0]).toMatchObject({ _id: 'rude', score: 30 });
    expect(day.lowestInspections).toHaveLength(8);
    expect(day.lowestInspections.map((i) => i._id)).not.toContain('too-old');
    expect((await overview(72)).lowestInspections[0]).toMatchObject({ _id: 'too-old', score: 10 });
    expect((await overview(1)).lowestInspections.every((i) => i.score >= 95)).toBe(true);
  });
});
