import mongoose from 'mongoose';
import {
  AccessTokenCache,
  mongoAccessTokenStore,
  type AccessTokenStore,
  type FetchAccessToken,
  type StoredAccessToken,
} from '../../src/wechat/access-token';
import { AccessTokenModel } from '../../src/wechat/access-token.model';
import { WeChatApiError } from '../../src/wechat/api-client';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

class MemoryStore implements AccessTokenStore {
  readonly tokens = new Map<string, StoredAccessToken>();
  async load(key: string) {
    return this.tokens.get(key);
  }
  async save(key: string, token: StoredAccessToken) {
    this.tokens.set(key, token);
  }
  async discard(key: string, accessToken: string) {
    if (this.tokens.get(key)?.accessToken === accessToken) this.tokens.delete(key);
  }
}

const tokenError = (error: unknown) => error instanceof WeChatApiError && [40001, 40014, 42001].includes(error.errcode);

/** A token source that counts calls and can be slowed down or made to repeat a token. */
function tokenSource(lifetimeSeconds = 7200) {
  const calls: { forceRefresh: boolean }[] = [];
  let next = 0;
  let repeat: string | undefined;
  const fetchToken: FetchAccessToken = async ({ forceRefresh }) => {
    calls.push({ forceRefresh });
    await new Promise((resolve) => setTimeout(resolve, 5)); // let concurrent callers pile up
    if (repeat && !forceRefresh) return { accessToken: repeat, expiresInSeconds: lifetimeSeconds };
    next += 1;
    return { accessToken: `token-${next}`, expiresInSeconds: lifetimeSeconds };
  };
  return {
    calls,
    fetchToken,
    repeatTokenUntilForced(token: string) {
      repeat = token;
    },
  };
}

let keySequence = 0;
const uniqueKey = () => `wx-test-${process.pid}-${(keySequence += 1)}`;

function makeCache(options: { store?: AccessTokenStore; lifetimeSeconds?: number; now?: () => number; key?: string } = {}) {
  const source = tokenSource(options.lifetimeSeconds);
  const store = options.store ?? new MemoryStore();
  const key = options.key ?? uniqueKey();
  const cache = new AccessTokenCache({ key, fetchToken: source.fetchToken, isTokenError: tokenError, store, now: options.now });
  return { cache, source, store, key };
}

describe('AccessTokenCache (§3.1)', () => {
  it('fetches once and then serves the cached token', async () => {
    const { cache, source } = makeCache();
    expect(await cache.getAccessToken()).toBe('token-1');
    expect(await cache.getAccessToken()).toBe('token-1');
    expect(source.calls).toEqual([{ forceRefresh: false }]);
  });

  it('lets only one refresh run at a time in a process (no stampede)', async () => {
    const { cache, source } = makeCache();
    const tokens = await Promise.all(Array.from({ length: 25 }, () => cache.getAccessToken()));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(source.calls).toHaveLength(1);
  });

  it('two caches for the same key in one process share the refresh', async () => {
    const store = new MemoryStore();
    const key = uniqueKey();
    const first = makeCache({ store, key });
    const second = makeCache({ store, key });
    const tokens = await Promise.all([first.cache.getAccessToken(), second.cache.getAccessToken()]);
    expect(tokens[0]).toBe(tokens[1]);
    expect(first.source.calls.length + second.source.calls.length).toBe(1);
  });

  it('refreshes 300 s before expiry, not after', async () => {
    let now = 1_000_000;
    const { cache, source } = makeCache({ now: () => now });
    await cache.getAccessToken();
    now += (7200 - 300 - 1) * 1000;
    expect(await cache.getAccessToken()).toBe('token-1');
    now += 1000;
    expect(await cache.getAccessToken()).toBe('token-2');
    expect(source.calls).toHaveLength(2);
  });

  it('uses a short-lived token for half its life instead of refetching on every call', async () => {
    let now = 0;
    const { cache, source, store, key } = makeCache({ now: () => now, lifetimeSeconds: 300 });
    await cache.getAccessToken();
    const stored = await store.load(key);
    expect(stored?.refreshAfter.getTime()).toBe(150_000);
    expect(stored?.expiresAt.getTime()).toBe(300_000);
    now = 149_000;
    await cache.getAccessToken();
    expect(source.calls).toHaveLength(1);
  });

  it('on a token error: drops the token, gets a new one, retries once', async () => {
    const { cache, source } = makeCache();
    const seen: string[] = [];
    const result = await cache.withAccessToken(async (token) => {
      seen.push(token);
      if (token === 'token-1') throw new WeChatApiError(40001, 'invalid credential', '/x');
      return 'sent';
    });
    expect(result).toBe('sent');
    expect(seen).toEqual(['token-1', 'token-2']);
    expect(source.calls).toEqual([{ forceRefresh: false }, { forceRefresh: false }]);
  });

  it.each([40001, 40014, 42001])('errcode %i triggers the refresh', async (errcode) => {
    const { cache } = makeCache();
    let attempts = 0;
    await cache.withAccessToken(async () => {
      attempts += 1;
      if (attempts === 1) throw new WeChatApiError(errcode, '', '/x');
    });
    expect(attempts).toBe(2);
  });

  it('never loops: a second token error is thrown to the caller', async () => {
    const { cache, source } = makeCache();
    let attempts = 0;
    await expect(
      cache.withAccessToken(async () => {
        attempts += 1;
        throw new WeChatApiError(42001, 'expired', '/x');
      }),
    ).rejects.toMatchObject({ errcode: 42001 });
    expect(attempts).toBe(2);
    expect(source.calls).toHaveLength(2);
  });

  it.each([40013, 40125, 40164, 45015, -1])('errcode %i is not a token problem: no refresh, no retry', async (errcode) => {
    const { cache, source } = makeCache();
    let attempts = 0;
    await expect(
      cache.withAccessToken(async () => {
        attempts += 1;
        throw new WeChatApiError(errcode, '', '/x');
      }),
    ).rejects.toMatchObject({ errcode });
    expect(attempts).toBe(1);
    expect(source.calls).toHaveLength(1);
  });

  it('many calls failing with the same stale token cause one refresh', async () => {
    const { cache, source } = makeCache();
    await cache.getAccessToken();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        cache.withAccessToken(async (token) => {
          if (token === 'token-1') throw new WeChatApiError(40001, '', '/x');
          return token;
        }),
      ),
    );
    expect(new Set(results)).toEqual(new Set(['token-2']));
    expect(source.calls).toHaveLength(2);
  });

  it('when the source hands back the refused token, spends one forced refresh', async () => {
    const { cache, source } = makeCache();
    await cache.getAccessToken();
    source.repeatTokenUntilForced('token-1');
    const used: string[] = [];
    await cache.withAccessToken(async (token) => {
      used.push(token);
      if (token === 'token-1') throw new WeChatApiError(40001, '', '/x');
    });
    expect(used).toEqual(['token-1', 'token-2']);
    expect(source.calls).toEqual([{ forceRefresh: false }, { forceRefresh: false }, { forceRefresh: true }]);
  });

  it('two instances refused the same token: one forced refresh between them, and both use its token', async () => {
    // One WeChat: the stable endpoint hands back its current token until someone forces a refresh, which replaces
    // it and invalidates the one before (so a second instance forcing would kill the first one's new token).
    let current = 'token-old';
    const invalid = new Set<string>();
    const forced: string[] = [];
    const fetchToken: FetchAccessToken = async ({ forceRefresh }) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (forceRefresh) {
        invalid.add(current);
        current = `token-forced-${forced.length + 1}`;
        forced.push(current);
      }
      return { accessToken: current, expiresInSeconds: 7200 };
    };
    const claims = new Set<string>();
    const store = Object.assign(new MemoryStore(), {
      async claimForcedRefresh(key: string, rejected: string) {
        const id = `${key}:${rejected}`;
        if (claims.has(id)) return false;
        claims.add(id);
        return true;
      },
    });
    const key = uniqueKey();
    // Each its own process: no shared in-process lock.
    const ownProcess = <T>(_key: string, work: () => Promise<T>) => work();
    const instances = [0, 1].map(() => new AccessTokenCache({ key, fetchToken, isTokenError: tokenError, store, lock: ownProcess }));
    await Promise.all(instances.map((cache) => cache.getAccessToken()));
    invalid.add('token-old'); // WeChat stops accepting it (another app secret reset, say) while still handing it out
    const used = await Promise.all(instances.map((cache) => cache.withAccessToken(async (token) => {
      if (invalid.has(token)) throw new WeChatApiError(40001, 'invalid credential', '/x');
      return token;
    })));
    expect(forced).toEqual(['token-forced-1']);
    expect(used).toEqual(['token-forced-1', 'token-forced-1']);
  });

  it('the shared store grants one forced refresh per refused token, across instances', async () => {
    const key = uniqueKey();
    expect(await mongoAccessTokenStore.claimForcedRefresh!(key, 'refused-1')).toBe(true);
    expect(await mongoAccessTokenStore.claimForcedRefresh!(key, 'refused-1')).toBe(false);
    expect(await mongoAccessTokenStore.claimForcedRefresh!(key, 'refused-2')).toBe(true);
  });

  it('a failed fetch reaches the caller and the next call tries again', async () => {
    const store = new MemoryStore();
    let fail = true;
    const cache = new AccessTokenCache({
      key: uniqueKey(),
      store,
      isTokenError: tokenError,
      fetchToken: async () => {
        if (fail) throw new WeChatApiError(40164, 'invalid ip', '/cgi-bin/stable_token');
        return { accessToken: 'ok', expiresInSeconds: 7200 };
      },
    });
    await expect(cache.getAccessToken()).rejects.toMatchObject({ errcode: 40164 });
    fail = false;
    expect(await cache.getAccessToken()).toBe('ok');
  });
});

describe('AccessTokenCache shared through MongoDB', () => {
  it('stores one document per app with _id = appid, token and expiry', async () => {
    const now = Date.UTC(2024, 4, 1);
    const { cache, key } = makeCache({ store: mongoAccessTokenStore, now: () => now });
    expect(await cache.getAccessToken()).toBe('token-1');
    const doc = await AccessTokenModel.findById(key).lean().exec();
    expect(doc).toMatchObject({
      _id: key,
      accessToken: 'token-1',
      expiresAt: new Date(now + 7_200_000),
      refreshAfter: new Date(now + 6_900_000),
      fetchedAt: new Date(now),
    });
  });

  it('a second server instance uses the stored token without fetching', async () => {
    const key = uniqueKey();
    const first = makeCache({ store: mongoAccessTokenStore, key });
    const token = await first.cache.getAccessToken();
    const second = makeCache({ store: mongoAccessTokenStore, key });
    expect(await second.cache.getAccessToken()).toBe(token);
    expect(second.source.calls).toHaveLength(0);
  });

  it('a stored token past refreshAfter is replaced and saved', async () => {
    const key = uniqueKey();
    await AccessTokenModel.create({
      _id: key,
      accessToken: 'old',
      expiresAt: new Date(Date.now() + 100_000),
      refreshAfter: new Date(Date.now() - 1),
      fetchedAt: new Date(Date.now() - 7_100_000),
    });
    const { cache } = makeCache({ store: mongoAccessTokenStore, key });
    expect(await cache.getAccessToken()).toBe('token-1');
    expect((await AccessTokenModel.findById(key).lean().exec())?.accessToken).toBe('token-1');
  });

  it('discard removes the token only if it is still the refused one', async () => {
    const key = uniqueKey();
    const { cache } = makeCache({ store: mongoAccessTokenStore, key });
    await cache.getAccessToken();
    await mongoAccessTokenStore.discard(key, 'someone-else-s-old-token');
    expect(await AccessTokenModel.findById(key).lean().exec()).not.toBeNull();
    await mongoAccessTokenStore.discard(key, 'token-1');
    expect(await AccessTokenModel.findById(key).lean().exec()).toBeNull();
  });

  it('the refresh-and-retry rule works against the database, and another instance then sees the new token', async () => {
    const key = uniqueKey();
    const first = makeCache({ store: mongoAccessTokenStore, key });
    await first.cache.withAccessToken(async (token) => {
      if (token === 'token-1') throw new WeChatApiError(42001, 'expired', '/x');
    });
    const second = makeCache({ store: mongoAccessTokenStore, key });
    expect(await second.cache.getAccessToken()).toBe('token-2');
    expect(second.source.calls).toHaveLength(0);
  });

  it('saving twice for the same key updates in place', async () => {
    const key = uniqueKey();
    const stamp = (token: string): StoredAccessToken => ({
      accessToken: token,
      expiresAt: new Date(Date.now() + 7_200_000),
      refreshAfter: new Date(Date.now() + 6_900_000),
      fetchedAt: new Date(),
    });
    await Promise.all([mongoAccessTokenStore.save(key, stamp('a')), mongoAccessTokenStore.save(key, stamp('b'))]);
    await mongoAccessTokenStore.save(key, stamp('c'));
    expect(await AccessTokenModel.countDocuments({ _id: key }).exec()).toBe(1);
    expect((await mongoAccessTokenStore.load(key))?.accessToken).toBe('c');
  });

  it('declares no TTL index (FerretDB has none)', async () => {
    const indexes = (await AccessTokenModel.collection.indexes()) as { expireAfterSeconds?: number }[];
    expect(indexes.every((index) => index.expireAfterSeconds === undefined)).toBe(true);
    expect(mongoose.connection.readyState).toBe(1);
  });
});
