import { ApiError } from './errors';
import { createStore, type Store } from './store';
import type { TokenSource } from './api';
import type { LoginResult } from './types';

/** Key-value persistence (Taro storage in the app, a Map in tests). */
export interface KeyValueStorage {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/**
 * A one-time login code: wx.login in the mini-program. The h5 build has no wx.login: it takes a code from the URL
 * (`?code=`) or one typed into the login form; undefined means "no code, ask the user".
 */
export type CodeProvider = () => Promise<string | undefined>;

export type SessionStatus = 'idle' | 'logging_in' | 'ready' | 'need_code' | 'error';

export interface SessionState {
  status: SessionStatus;
  customerId?: string;
  error?: string;
}

interface Stored {
  token: string;
  customerId: string;
  /** Epoch ms after which the server will have forgotten the token anyway. */
  expiresAt: number;
}

const STORAGE_KEY = 'anxin.session';

/**
 * Our session with the server (POST /api/mp/session). Login runs once on launch; every authorised call asks for
 * `token()`, which waits for a login in flight, and a 401 anywhere leads to exactly one new login.
 */
export class Session implements TokenSource {
  readonly store: Store<SessionState>;
  private current: Stored | undefined;
  private inFlight: Promise<string> | undefined;

  constructor(
    private readonly deps: {
      login(code: string): Promise<LoginResult>;
      codeProvider: CodeProvider;
      storage: KeyValueStorage;
      now?: () => number;
    },
  ) {
    this.current = this.restore();
    this.store = createStore<SessionState>(this.current ? { status: 'ready', customerId: this.current.customerId } : { status: 'idle' });
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  private restore(): Stored | undefined {
    const raw = this.deps.storage.get(STORAGE_KEY);
    if (!raw) return undefined;
    try {
      const stored = JSON.parse(raw) as Stored;
      if (typeof stored.token === 'string' && stored.expiresAt > this.now()) return stored;
    } catch {
      /* unreadable: log in again */
    }
    this.deps.storage.remove(STORAGE_KEY);
    return undefined;
  }

  get customerId(): string | undefined {
    return this.current?.customerId;
  }

  /** Log in on launch (errors are kept in the store for the pages to show). */
  ensure(): Promise<void> {
    return this.token().then(
      () => undefined,
      () => undefined,
    );
  }

  token(): Promise<string> {
    if (this.current) return Promise.resolve(this.current.token);
    if (!this.inFlight) {
      this.inFlight = this.login(() => this.deps.codeProvider()).finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /** The h5 login form: log in with a code the user typed. */
  loginWithCode(code: string): Promise<string> {
    const trimmed = code.trim();
    this.inFlight = this.login(async () => trimmed).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  invalidate(token: string): void {
    if (this.current?.token !== token) return;
    this.forget();
  }

  /** Log out here; the caller tells the server (DELETE /api/mp/session) before, if it can. */
  forget(): void {
    this.current = undefined;
    this.deps.storage.remove(STORAGE_KEY);
    this.store.set({ status: 'idle', customerId: undefined, error: undefined });
  }

  private async login(getCode: () => Promise<string | undefined>): Promise<string> {
    this.store.set({ status: 'logging_in', error: undefined });
    let code: string | undefined;
    try {
      code = await getCode();
    } catch {
      this.store.set({ status: 'error', error: '微信登录失败，请重试' });
      throw new ApiError(0, 'wx_login_failed', 'wx.login failed');
    }
    if (!code) {
      this.store.set({ status: 'need_code' });
      throw new ApiError(401, 'login_required', '请先登录');
    }
    try {
      const result = await this.deps.login(code);
      const stored: Stored = { token: result.token, customerId: result.customer.id, expiresAt: this.now() + result.expiresIn * 1000 };
      this.current = stored;
      this.deps.storage.set(STORAGE_KEY, JSON.stringify(stored));
      this.store.set({ status: 'ready', customerId: stored.customerId, error: undefined });
      return stored.token;
    } catch (err) {
      const message = err instanceof ApiError ? err.message : '登录失败，请重试';
      this.store.set({ status: 'error', error: message });
      throw err;
    }
  }
}
