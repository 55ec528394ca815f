import Taro from '@tarojs/taro';
import type { CodeProvider, KeyValueStorage } from './session';

/** Taro storage: wx storage in the mini-program, localStorage in h5. */
export const taroStorage: KeyValueStorage = {
  get(key) {
    const value: unknown = Taro.getStorageSync(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  },
  set(key, value) {
    Taro.setStorageSync(key, value);
  },
  remove(key) {
    Taro.removeStorageSync(key);
  },
};

let urlCodeUsed = false;

/**
 * h5 has no wx.login. A login code may come in the page URL (`?code=…`, as WeChat's web OAuth redirect and the e2e
 * test pass it), once: codes are single-use, so it is taken out of the address bar.
 */
function codeFromUrl(): string | undefined {
  if (urlCodeUsed || typeof window === 'undefined') return undefined;
  const { search, hash, pathname } = window.location;
  const fromSearch = new URLSearchParams(search).get('code');
  const hashQuery = hash.includes('?') ? hash.slice(hash.indexOf('?')) : '';
  const code = fromSearch ?? new URLSearchParams(hashQuery).get('code') ?? undefined;
  if (!code) return undefined;
  urlCodeUsed = true;
  const params = new URLSearchParams(search);
  params.delete('code');
  const rest = params.toString();
  try {
    window.history.replaceState(window.history.state, '', `${pathname}${rest ? `?${rest}` : ''}${hash}`);
  } catch {
    /* address bar left as is */
  }
  return code;
}

export const loginCodeProvider: CodeProvider = async () => {
  if (process.env.TARO_ENV === 'h5') return codeFromUrl();
  const result = await Taro.login();
  return result.code || undefined;
};

const TAB_PAGES = ['/pages/chat/index', '/pages/products/index', '/pages/me/index'];

/** Open a page by its path (links in chat answers name pages this way), tab pages included. */
export function openPage(page: string): void {
  const url = page.startsWith('/') ? page : `/${page}`;
  const path = url.split('?')[0];
  if (TAB_PAGES.includes(path)) void Taro.switchTab({ url: path });
  else void Taro.navigateTo({ url });
}
