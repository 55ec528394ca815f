import { asPlainText } from '../../conversation/plain-text';
import type { OutboundMessage } from '../../conversation/types';
import type { CustomServiceMessage } from '../../wechat/api-client';

/** WeChat cuts text replies at about 2048 bytes (§2.5); stay under it on a character boundary. */
export const OFFICIAL_ACCOUNT_TEXT_BYTES = 2000;

export function fitText(text: string, maxBytes = OFFICIAL_ACCOUNT_TEXT_BYTES): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch + '…') > maxBytes) break;
    out += ch;
  }
  return `${out}…`;
}

/** A passive reply carries one message: the bot's replies joined into one text. */
export function passiveReplyText(replies: OutboundMessage[]): string {
  return fitText(replies.map(asPlainText).join('\n\n'));
}

export function customServiceMessages(openId: string, replies: OutboundMessage[]): CustomServiceMessage[] {
  return replies.map((message) =>
    message.kind === 'news'
      ? { toUser: openId, type: 'news', article: { title: message.title, description: message.description, url: message.url, picUrl: message.picUrl ?? '' } }
      : { toUser: openId, type: 'text', content: fitText(asPlainText(message)) },
  );
}
