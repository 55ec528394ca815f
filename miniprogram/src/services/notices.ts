import Taro from '@tarojs/taro';

/**
 * Subscription messages (订阅消息): WeChat delivers one only after the customer accepted it in
 * wx.requestSubscribeMessage, one acceptance per message, asked for on a tap. The server sends them
 * (server/src/insurance/notices.ts) with the template ids of WECHAT_MP_TEMPLATE_*; the mini-program must ask with the
 * same ids, inlined at build time from TARO_APP_TEMPLATE_* (config/index.ts). Without them, and in h5, nothing is asked.
 */
export interface NoticeTemplates {
  policyIssued?: string;
  claimProgress?: string;
  renewalDue?: string;
}

export type NoticeKind = keyof NoticeTemplates;

const configured: NoticeTemplates = typeof NOTICE_TEMPLATES === 'object' && NOTICE_TEMPLATES ? NOTICE_TEMPLATES : {};

/**
 * Ask for the given notices. Call it FIRST in a tap handler, before any await: WeChat refuses the request once the
 * tap's turn is over. Never throws and never blocks the action: a refusal or an old WeChat just means no notice.
 */
export function askForNotices(kinds: NoticeKind[], templates: NoticeTemplates = configured): Promise<void> {
  if (process.env.TARO_ENV !== 'weapp') return Promise.resolve();
  const tmplIds = [...new Set(kinds.map((k) => templates[k]).filter((id): id is string => Boolean(id)))];
  if (!tmplIds.length || typeof Taro.requestSubscribeMessage !== 'function') return Promise.resolve();
  try {
    return Taro.requestSubscribeMessage({ tmplIds } as Taro.requestSubscribeMessage.Option).then(
      () => undefined,
      () => undefined,
    );
  } catch {
    return Promise.resolve();
  }
}
