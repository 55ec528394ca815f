import type { TokenSource } from '../../src/services/api';

/** A session token source that hands out `values` in turn, one more after each invalidation. */
export function tokens(...values: string[]): TokenSource & { invalidated: string[] } {
  const invalidated: string[] = [];
  return {
    invalidated,
    token: jest.fn(async () => values[Math.min(invalidated.length, values.length - 1)]),
    invalidate: jest.fn((t: string) => void invalidated.push(t)),
  };
}

/** A fake async call (a transport, a download): answers from a queue, throws queued errors, records what it was asked. */
export function queued<Req, Res>(...responses: Array<Res | Error>) {
  const requests: Req[] = [];
  const fn = jest.fn(async (request: Req) => {
    requests.push(request);
    const next = responses.shift();
    if (!next) throw new Error('no response queued');
    if (next instanceof Error) throw next;
    return next;
  });
  return { fn, requests };
}
