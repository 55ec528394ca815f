import { BucketStore, FiveMinuteBucket, HourBucket } from '../../src/analytics/buckets';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

describe('metric buckets', () => {
  it('counts every increment of a burst exactly once, writing them together while a write is in flight', async () => {
    const store = new BucketStore();
    const at = new Date('2026-03-02T08:07:00Z');
    const writes = jest.spyOn(FiveMinuteBucket, 'bulkWrite');
    // 200 messages at once, as 200 webhook requests would record them.
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.add([
      { metric: 'messages', key: 'all', at },
      { metric: 'scenario', key: i % 2 ? 'claims' : 'renewal', at },
    ])));
    const fiveMinute = await store.totals('5m', { metric: 'scenario', from: new Date('2026-03-02T08:00:00Z'), to: new Date('2026-03-02T09:00:00Z') });
    expect(Object.fromEntries(fiveMinute)).toEqual({ claims: 100, renewal: 100 });
    expect((await HourBucket.findById('messages:all:2026-03-02T08:00:00.000Z').lean())?.count).toBe(200);
    expect((await FiveMinuteBucket.findById('messages:all:2026-03-02T08:05:00.000Z').lean())?.count).toBe(200);
    // The first write goes alone; everything that arrived meanwhile goes in the next one.
    expect(writes.mock.calls.length).toBeLessThanOrEqual(3);
    writes.mockRestore();
  });

  it('reports a failed write to every caller of that batch, and keeps working afterwards', async () => {
    const store = new BucketStore();
    const at = new Date('2026-03-02T10:00:00Z');
    const failing = jest.spyOn(FiveMinuteBucket, 'bulkWrite').mockRejectedValueOnce(new Error('disk full'));
    await expect(store.add([{ metric: 'messages', key: 'all', at }])).rejects.toThrow('disk full');
    failing.mockRestore();
    await store.add([{ metric: 'messages', key: 'all', at, by: 2 }]);
    expect((await FiveMinuteBucket.findById('messages:all:2026-03-02T10:00:00.000Z').lean())?.count).toBe(2);
  });

  it('with a linger, writes increments that trickle in over that time together, and flush writes what waits', async () => {
    const store = new BucketStore({ lingerMs: 300 });
    const at = new Date('2026-03-02T11:00:00Z');
    const writes = jest.spyOn(FiveMinuteBucket, 'bulkWrite');
    const added: Array<Promise<void>> = [];
    for (let i = 0; i < 5; i++) {
      added.push(store.add([{ metric: 'messages', key: 'all', at }]));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(added);
    expect(writes).toHaveBeenCalledTimes(1);
    expect((await FiveMinuteBucket.findById('messages:all:2026-03-02T11:00:00.000Z').lean())?.count).toBe(5);

    void store.add([{ metric: 'messages', key: 'all', at }]);
    await store.flush();
    expect(writes).toHaveBeenCalledTimes(2);
    expect((await FiveMinuteBucket.findById('messages:all:2026-03-02T11:00:00.000Z').lean())?.count).toBe(6);
    writes.mockRestore();
  });

  it('keeps counting when one write touches hundreds of existing buckets (FerretDB used to stop writing metrics)', async () => {
    const store = new BucketStore();
    const at = new Date('2026-03-02T12:00:00Z');
    const burst = () => store.add(Array.from({ length: 150 }, (_, i) => ({ metric: 'scenario' as const, key: `topic-${i}`, at })));
    await burst();
    await burst(); // now every bucket exists: each upsert matches a document
    const totals = await store.totals('5m', { metric: 'scenario', from: at, to: new Date('2026-03-02T12:05:00Z') });
    expect(totals.size).toBe(150);
    expect([...totals.values()].every((count) => count === 2)).toBe(true);
  });
});
