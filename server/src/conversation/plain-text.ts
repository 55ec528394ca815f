import type { OutboundMessage } from './types';

/** One outbound message as plain text, for channels without rich messages: choices become numbered lines. */
export function asPlainText(message: OutboundMessage): string {
  switch (message.kind) {
    case 'text':
      return message.text;
    case 'choices':
      return [message.text, ...message.choices.map((c) => `${c.number}. ${c.label}`)].join('\n');
    case 'news':
      return `${message.title}\n${message.description}\n${message.url}`;
  }
}
