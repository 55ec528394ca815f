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

/**
 * Each customer-service message counts against the user's 5 per message they send (§3.2), so the replies to one
 * message go out as one text where they fit together (as the passive reply joins them); only a news card, or text
 * that would not fit, starts another.
 */
export function customServiceMessages(openId: string, replies: OutboundMessage[]): CustomServiceMessage[] {
  const messages: CustomServiceMessage[] = [];
  let text: string | undefined;
  const flush = () => {
    if (text !== undefined) messages.push({ toUser: openId, type: 'text', content: text });
    text = undefined;
  };
  for (const message of replies) {
    if (message.kind === 'news') {
      flush();
      messages.push({ toUser: openId, type: 'news', article: { title: message.title, description: message.description, url: message.url, picUrl: message.picUrl ?? '' } });
      continue;
    }
    const part = fitText(asPlainText(message));
    const joined = text === undefined ? part : `${text}\n\n${part}`;
    if (Buffer.byteLength(joined) <= OFFICIAL_ACCOUNT_TEXT_BYTES) {
      text = joined;
    } else {
      flush();
      text = part;
    }
  }
  flush();
  return messages;
}
