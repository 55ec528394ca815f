import { settlesWithin } from '../../src/util/settles-within';

describe('settlesWithin', () => {
  it('is true for work that finishes in time, false for work still pending at the deadline', async () => {
    expect(await settlesWithin(new Promise((resolve) => setTimeout(resolve, 5)), 1_000)).toBe(true);
    expect(await settlesWithin(new Promise(() => undefined), 20)).toBe(false);
  });

  it('passes a failure on rather than calling it a timeout', async () => {
    await expect(settlesWithin(Promise.reject(new Error('close failed')), 1_000)).rejects.toThrow('close failed');
  });
});
