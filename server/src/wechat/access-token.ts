import { createHash } from 'node:crypto';
import { AccessTokenModel, AccessTokenRefreshClaim } from './access-token.model';
import { insertedOnce, isDuplicateKey } from '../db/duplicate-key';

/**
 * access_token cache (spec §3.1): shared through MongoDB by every instance, refreshed ahead of expiry, one refresh at
 * a time per key within a process, and one refresh-and-retry when WeChat says the token is no longer valid.
 */

export interface FetchedAccessToken {
  accessToken: string;
  expiresInSeconds: number;
}

/** Asks WeChat for a token. `forceRefresh` maps to the stable-token endpoint's force_refresh (rate limited). */
export type FetchAccessToken = (options: { forceRefresh: boolean }) => Promise<FetchedAccessToken>;

export interface StoredAccessToken {
  accessToken: string;
  expiresAt: Date;
  refreshAfter: Date;
  fetchedAt: Date;
}

/** Where tokens are shared between instances. MongoDB in production; injectable for unit tests. */
export interface AccessTokenStore {
  load(key: string): Promise<StoredAccessToken | undefined>;
  save(key: string, token: StoredAccessToken): Promise<void>;
  /** Drops the stored token only if it is still `accessToken`, so a newer one saved by another instance survives. */
  discard(key: string, accessToken: string): Promise<void>;
  /** True for the one caller, on any instance, that may force a refresh to replace `rejected`. */
  claimForcedRefresh?(key: string, rejected: string): Promise<boolean>;
}


export const mongoAccessTokenStore: AccessTokenStore = {
  async load(key) {
    const doc = await AccessTokenModel.findById(key).lean().exec();
    if (!doc) return undefined;
    return {
      accessToken: doc.accessToken,
      expiresAt: doc.expiresAt,
      refreshAfter: doc.refreshAfter,
      fetchedAt: doc.fetchedAt,
    };
  },
  async save(key, token) {
    const write = () => AccessTokenModel.updateOne({ _id: key }, { $set: token }, { upsert: true }).exec();
    try {
      await write();
    } catch (err) {
      // Two instances upserting the same new _id at once: one insert loses; the document now exists, so update it.
      if (!isDuplicateKey(err)) throw err;
      await write();
    }
  },
  async discard(key, accessToken) {
    await AccessTokenModel.deleteOne({ _id: key, accessToken }).exec();
  },
  claimForcedRefresh(key, rejected) {
    const id = `${key}:${createHash('sha256').update(rejected).digest('hex').slice(0, 32)}`;
    return insertedOnce(() => AccessTokenRefreshClaim.create({ _id: id, at: new Date() }));
  },
};

/** How long an instance that lost the forced-refresh claim waits for the winner's token before forcing itself. */
const FORCED_REFRESH_WAIT_MS = 3_000;
const FORCED_REFRESH_POLL_MS = 100;

/** What API wrappers need: a token, and the refresh-once-and-retry-once rule around a call. */
export interface AccessTokenProvider {
  getAccessToken(): Promise<string>;
  withAccessToken<T>(call: (accessToken: string) => Promise<T>): Promise<T>;
}

export interface AccessTokenCacheOptions {
  /** `_id` in the shared store: the AppID, or `wecom:{corpid}:{agentid}`. */
  key: string;
  fetchToken: FetchAccessToken;
  /** True for the errcodes that mean "this token is no longer valid" (they differ between OA and WeCom). */
  isTokenError: (error: unknown) => boolean;
  store?: AccessTokenStore;
  now?: () => number;
  /** Refresh this long before expiry (§3.1: 300 s). */
  refreshMarginSeconds?: number;
  /** One refresh at a time per key in this process (injectable so a test can play a second process). */
  lock?: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

/** Per-key lock for this process: whoever waits re-checks the cache after the holder's refresh, so one fetch serves all. */
const keyLocks = new Map<string, Promise<unknown>>();

async function withKeyLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = keyLocks.get(key) ?? Promise.resolve();
  const run = previous.then(
    () => work(),
    () => work(),
  );
  const tail = run.catch(() => undefined);
  keyLocks.set(key, tail);
  try {
    return await run;
  } finally {
    if (keyLocks.get(key) === tail) keyLocks.delete(key);
  }
}

export class AccessTokenCache implements AccessTokenProvider {
  private readonly key: string;
  private readonly fetchToken: FetchAccessToken;
  private readonly isTokenError: (error: unknown) => boolean;
  private readonly store: AccessTokenStore;
  private readonly now: () => number;
  private readonly refreshMarginMs: number;
  private readonly lock: <T>(key: string, work: () => Promise<T>) => Promise<T>;
  /** Saves a database read per call while the token is fresh. */
  private memo: StoredAccessToken | undefined;

  constructor(options: AccessTokenCacheOptions) {
    this.key = options.key;
    this.fetchToken = options.fetchToken;
    this.isTokenError = options.isTokenError;
    this.store = options.store ?? mongoAccessTokenStore;
    this.now = options.now ?? Date.now;
    this.refreshMarginMs = (options.refreshMarginSeconds ?? 300) * 1000;
    this.lock = options.lock ?? withKeyLock;
  }

  async getAccessToken(): Promise<string> {
    const memo = this.freshMemo();
    if (memo) return memo;
    return this.lock(this.key, () => this.freshToken(undefined));
  }

  /**
   * Runs `call` with a token. If WeChat rejects the token (40001/40014/42001 for OA), gets a different one and runs
   * `call` exactly once more; any second failure is the caller's.
   */
  async withAccessToken<T>(call: (accessToken: string) => Promise<T>): Promise<T> {
    const used = await this.getAccessToken();
    try {
      return await call(used);
    } catch (error) {
      if (!this.isTokenError(error)) throw error;
      const replacement = await this.lock(this.key, () => this.freshToken(used));
      return call(replacement);
    }
  }

  private freshMemo(rejected?: string): string | undefined {
    const memo = this.memo;
    if (!memo || this.now() >= memo.refreshAfter.getTime() || memo.accessToken === rejected) return undefined;
    return memo.accessToken;
  }

  /** Under the key lock: reuse what another caller or instance already refreshed, else fetch. */
  private async freshToken(rejected: string | undefined): Promise<string> {
    const memo = this.freshMemo(rejected);
    if (memo) return memo;
    if (rejected !== undefined) {
      if (this.memo?.accessToken === rejected) this.memo = undefined;
      await this.store.discard(this.key, rejected);
    }
    const stored = await this.store.load(this.key);
    if (stored && this.now() < stored.refreshAfter.getTime() && stored.accessToken !== rejected) {
      this.memo = stored;
      return stored.accessToken;
    }
    let fetched = await this.fetchToken({ forceRefresh: false });
    // The stable-token endpoint may hand back the token WeChat just refused; only then spend a forced refresh, and
    // only one instance does: the others take the token it saves.
    if (rejected !== undefined && fetched.accessToken === rejected) {
      const mine = (await this.store.claimForcedRefresh?.(this.key, rejected)) ?? true;
      const theirs = mine ? undefined : await this.tokenSavedBySomeoneElse(rejected);
      if (theirs) {
        this.memo = theirs;
        return theirs.accessToken;
      }
      fetched = await this.fetchToken({ forceRefresh: true });
    }
    const token = this.toStored(fetched);
    await this.store.save(this.key, token);
    this.memo = token;
    return token.accessToken;
  }

  /** The token another instance saves after its forced refresh, if it comes within a few seconds. */
  private async tokenSavedBySomeoneElse(rejected: string): Promise<StoredAccessToken | undefined> {
    const deadline = Date.now() + FORCED_REFRESH_WAIT_MS; // real time, whatever clock the cache is given
    for (;;) {
      const stored = await this.store.load(this.key);
      if (stored && stored.accessToken !== rejected && this.now() < stored.expiresAt.getTime()) return stored;
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, FORCED_REFRESH_POLL_MS));
    }
  }

  private toStored(fetched: FetchedAccessToken): StoredAccessToken {
    const fetchedAt = this.now();
    const lifetimeMs = fetched.expiresInSeconds * 1000;
    // Refresh `margin` early; but a token handed out near its end (the stable endpoint guarantees only 300 s) is
    // still used for half its remaining life instead of being refetched on every call.
    const refreshInMs = Math.max(lifetimeMs - this.refreshMarginMs, lifetimeMs / 2);
    return {
      accessToken: fetched.accessToken,
      fetchedAt: new Date(fetchedAt),
      expiresAt: new Date(fetchedAt + lifetimeMs),
      refreshAfter: new Date(fetchedAt + refreshInMs),
    };
  }
}
