import { Lease, LeaseBusyError, withLease } from '../../src/db/lease';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a named lease shared by every instance', () => {
  it('runs holders one at a time, each after the previous released it', async () => {
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((n) => withLease('one-at-a-time', async () => {
      most = Math.max(most, ++inside);
      await pause(20);
      order.push(n);
      inside--;
    }, { pollMs: 5 })));
    expect(most).toBe(1);
    expect(order.sort()).toEqual([1, 2, 3, 4]);
    expect(await Lease.countDocuments({ _id: 'one-at-a-time' })).toBe(0);
  });

  it('is released when the work throws, and the error reaches the caller', async () => {
    await expect(withLease('throws', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withLease('throws', async () => 'next holder', { waitMs: 0 })).toBe('next holder');
  });

  it('a holder that died (its lease expired) does not block the next one', async () => {
    await Lease.create({ _id: 'dead-holder', holder: 'crashed-instance', expiresAt: new Date(Date.now() - 1) });
    expect(await withLease('dead-holder', async () => 'taken over', { waitMs: 0 })).toBe('taken over');
  });

  it('a live holder makes a waiter give up with LeaseBusyError after waitMs', async () => {
    await Lease.create({ _id: 'busy', holder: 'other-instance', expiresAt: new Date(Date.now() + 60_000) });
    const error = await withLease('busy', async () => 'never', { waitMs: 100, pollMs: 10 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LeaseBusyError);
    expect((error as Error).message).toContain('busy is held by another instance');
    expect((await Lease.findById('busy').lean())?.holder).toBe('other-instance');
  });

  it('a long holder renews its lease, so a waiter does not take it over while it works', async () => {
    let overlapped = false;
    let working = false;
    const long = withLease('renewed', async () => { working = true; await pause(400); working = false; }, { holdMs: 120 });
    await pause(20);
    await withLease('renewed', async () => { overlapped = working; }, { holdMs: 120, pollMs: 10 });
    await long;
    expect(overlapped).toBe(false);
  });
});
