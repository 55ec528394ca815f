import type { AlertCenter } from '../../src/analytics/alerts';
import type { BucketRecord, BucketStore } from '../../src/analytics/buckets';
import { HotIssueMonitor } from '../../src/analytics/hot-issues';

const MINUTE = 60_000;
const NOW = Date.UTC(2025, 7, 8, 6, 33); // 3 minutes into a 5-minute bucket

/** Five-minute buckets of one scenario; no hourly history (no seasonal samples are needed for the window count). */
function storeWith(fiveMinute: Array<{ minutesAgo: number; count: number }>): BucketStore {
  const records: BucketRecord[] = fiveMinute.map(({ minutesAgo, count }) => ({
    metric: 'scenario', key: 'claim-report', start: new Date(NOW - minutesAgo * MINUTE), count,
  } as BucketRecord));
  return { buckets: async (resolution: '5m' | '1h', query: { metric: string }) => (resolution === '5m' && query.metric === 'scenario' ? records : []) } as unknown as BucketStore;
}

describe('the hot-issue window', () => {
  it('counts the 30 minutes before now, the bucket it starts in pro rata (as the baseline does)', async () => {
    // Buckets start at 06:30 (3 min ago, the current one), 06:05 (28 min ago) and 06:00 (33 min ago: 2 of its 5
    // minutes are inside the window that starts at 06:03).
    const monitor = new HotIssueMonitor({
      buckets: storeWith([{ minutesAgo: 3, count: 5 }, { minutesAgo: 28, count: 7 }, { minutesAgo: 33, count: 10 }]),
      alerts: {} as AlertCenter, now: () => new Date(NOW), recipients: async () => [],
    });
    const [issue] = await monitor.evaluate({ raiseAlerts: false });
    expect(issue).toMatchObject({ metric: 'scenario', key: 'claim-report' });
    expect(issue.windowCount).toBeCloseTo(5 + 7 + 10 * (2 / 5));
  });
});

describe('forecasts', () => {
  it('are cached for the hour, but only so many: any key a manager asks for must not grow the cache for ever', async () => {
    const asked: string[] = [];
    const buckets = { series: async (_resolution: '1h', query: { key: string }) => { asked.push(query.key); return []; } } as unknown as BucketStore;
    const monitor = new HotIssueMonitor({ buckets, alerts: {} as AlertCenter, now: () => new Date(NOW), recipients: async () => [] });
    for (let i = 0; i < 300; i++) await monitor.forecast('unanswered_cluster', `k${i}`);
    asked.length = 0;
    await monitor.forecast('unanswered_cluster', 'k299'); // recent: cached
    await monitor.forecast('unanswered_cluster', 'k0'); // long evicted
    expect(asked).toEqual(['k0']);
  });
});
