import { ApiError } from '../src/services/errors';
import { Session, type KeyValueStorage } from '../src/services/session';
import type { LoginResult } from '../src/services/types';

function memoryStorage(initial: Record<string, string> = {}): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return { data, get: (k) => data.get(k), set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) };
}

const result = (token: string): LoginResult => ({ token, expiresIn: 3600, customer: { id: 'C1' } });

describe('Session', () => {
  it('logs in once for concurrent callers, keeps the token and says ready', async () => {
    let resolve!: (r: LoginResult) => void;
    const login = jest.fn(() => new Promise<LoginResult>((r) => { resolve = r; }));
    const codeProvider = jest.fn(async () => 'code-1');
    const storage = memoryStorage();
    const session = new Session({ login, codeProvider, storage, now: () => 1_000 });
    const a = session.token();
    const b = session.token();
    await Promise.resolve();
    await Promise.resolve();
    expect(session.store.get().status).toBe('logging_in');
    resolve(result('tok'));
    await expect(Promise.all([a, b])).resolves.toEqual(['tok', 'tok']);
    expect(login).toHaveBeenCalledTimes(1);
    expect(login).toHaveBeenCalledWith('code-1');
    expect(session.store.get()).toMatchObject({ status: 'ready', customerId: 'C1' });
    expect(JSON.parse(storage.data.get('anxin.session')!)).toEqual({ token: 'tok', customerId: 'C1', expiresAt: 1_000 + 3_600_000 });
  });

  it('restores a stored session that has not expired, and drops one that has', async () => {
    const stored = JSON.stringify({ token: 'kept', customerId: 'C9', expiresAt: 5_000 });
    const login = jest.fn(async () => result('fresh'));
    const live = new Session({ login, codeProvider: async () => 'c', storage: memoryStorage({ 'anxin.session': stored }), now: () => 4_000 });
    expect(live.store.get()).toEqual({ status: 'ready', customerId: 'C9' });
    await expect(live.token()).resolves.toBe('kept');

    const expiredStorage = memoryStorage({ 'anxin.session': stored });
    const expired = new Session({ login, codeProvider: async () => 'c', storage: expiredStorage, now: () => 6_000 });
    expect(expired.store.get().status).toBe('idle');
    expect(expiredStorage.data.has('anxin.session')).toBe(false);
    await expect(expired.token()).resolves.toBe('fresh');
  });

  it('after invalidate(token) logs in again; a stale invalidate is ignored', async () => {
    const login = jest.fn().mockResolvedValueOnce(result('one')).mockResolvedValueOnce(result('two'));
    const session = new Session({ login, codeProvider: async () => 'c', storage: memoryStorage() });
    await session.token();
    session.invalidate('someone-else');
    await expect(session.token()).resolves.toBe('one');
    session.invalidate('one');
    await expect(session.token()).resolves.toBe('two');
    expect(login).toHaveBeenCalledTimes(2);
  });

  it('without a code (h5) asks for one, then logs in with the code typed', async () => {
    const login = jest.fn(async () => result('typed'));
    const session = new Session({ login, codeProvider: async () => undefined, storage: memoryStorage() });
    await expect(session.token()).rejects.toMatchObject({ status: 401, code: 'login_required' });
    expect(session.store.get().status).toBe('need_code');
    await session.ensure(); // launch-time login must not throw
    await expect(session.loginWithCode('  e2e-code ')).resolves.toBe('typed');
    expect(login).toHaveBeenCalledWith('e2e-code');
    expect(session.store.get().status).toBe('ready');
  });

  it('keeps a readable error when the server refuses the login', async () => {
    const login = jest.fn(async () => {
      throw new ApiError(401, 'invalid_login_code', 'code: the wx.login code is invalid');
    });
    const session = new Session({ login, codeProvider: async () => 'bad', storage: memoryStorage() });
    await session.ensure();
    expect(session.store.get()).toMatchObject({ status: 'error', error: '登录失败，请重新进入小程序' });
  });

  it('reports a failing wx.login', async () => {
    const session = new Session({ login: jest.fn(), codeProvider: async () => { throw { errMsg: 'login:fail' }; }, storage: memoryStorage() });
    await expect(session.token()).rejects.toMatchObject({ code: 'wx_login_failed' });
    expect(session.store.get()).toMatchObject({ status: 'error', error: '微信登录失败，请重试' });
  });

  it('forget() logs out locally', async () => {
    const storage = memoryStorage();
    const session = new Session({ login: async () => result('t'), codeProvider: async () => 'c', storage });
    await session.token();
    session.forget();
    expect(session.store.get().status).toBe('idle');
    expect(storage.data.size).toBe(0);
  });
});
