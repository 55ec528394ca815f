import type { Message, Wechaty } from 'wechaty';
import type { ChannelPusher, PushOutcome } from '../../conversation/delivery';
import { DuplicateInProgress, type ConversationPipeline } from '../../conversation/pipeline';
import { asPlainText } from '../../conversation/plain-text';
import type { InboundMessage, OutboundMessage } from '../../conversation/types';
import type { Logger } from '../../logging/logger';

/**
 * Who a conversation is with: the contact, or in a group the contact in that group (`room:<room>:<contact>`), so a
 * question asked in a group is not answered by a "2" sent in private, and a push for it goes back to the group.
 */
export function wechatyUserId(contactId: string, roomId?: string): string {
  return roomId ? `room:${roomId}:${contactId}` : contactId;
}

function parseWechatyUserId(userId: string): { contactId: string; roomId?: string } {
  const inRoom = /^room:(.+):([^:]+)$/.exec(userId);
  return inRoom ? { roomId: inRoom[1], contactId: inRoom[2] } : { contactId: userId };
}

/** The Wechaty message types the bot understands; everything else is ignored. */
async function toInbound(message: Message, types: Wechaty['Message']['Type']): Promise<InboundMessage | undefined> {
  const talker = message.talker();
  const base = { channel: 'wechaty' as const, userId: wechatyUserId(talker.id, message.room()?.id), dedupeKey: message.id, receivedAt: message.date() };
  switch (message.type()) {
    case types.Text:
      // In a group the text starts with "@bot": what the user asks is the rest ("@客服 2" picks choice 2).
      return { ...base, kind: 'text', text: message.room() ? await message.mentionText() : message.text() };
    case types.Image:
      return { ...base, kind: 'image' };
    case types.Audio:
      return { ...base, kind: 'voice' };
    case types.Location:
      return { ...base, kind: 'location' };
    case types.Url:
      return { ...base, kind: 'link', link: { title: message.text(), url: '' } };
    default:
      return undefined;
  }
}

/**
 * The same conversation pipeline behind any Wechaty puppet (WeCom external contacts, a personal account, a mock):
 * one-to-one messages in, replies said back; group chats only when the bot is mentioned.
 */
export function attachWechatyChannel(bot: Wechaty, deps: { pipeline: ConversationPipeline; logger: Logger }): ChannelPusher {
  // Wechaty reports puppet problems (an unknown contact, a dropped connection) as events; without a listener they throw.
  bot.on('error', (err) => deps.logger.warn({ err: String(err) }, 'wechaty error'));
  bot.on('message', async (message: Message) => {
    try {
      if (message.self()) return;
      // Official Accounts push articles to the account and may auto-reply: answering them would spend work on
      // broadcasts, or loop bot against bot.
      if (message.talker().type() === bot.Contact.Type.Official) return;
      const room = message.room();
      if (room && !(await message.mentionSelf())) return;
      const inbound = await toInbound(message, bot.Message.Type);
      if (!inbound) return;
      const result = await deps.pipeline.handle(inbound);
      if (result.duplicate) return;
      for (const reply of result.replies) await (room ?? message.talker()).say(asPlainText(reply));
    } catch (err) {
      if (err instanceof DuplicateInProgress) return;
      deps.logger.error({ err }, 'wechaty message failed');
    }
  });

  return {
    async push(userId: string, messages: OutboundMessage[]): Promise<PushOutcome> {
      const { contactId, roomId } = parseWechatyUserId(userId);
      const contact = await bot.Contact.find({ id: contactId });
      if (!contact) return { ok: false, reason: 'user_unreachable', detail: `no contact ${contactId}` };
      const room = roomId ? await bot.Room.find({ id: roomId }) : undefined;
      if (roomId && !room) return { ok: false, reason: 'user_unreachable', detail: `no room ${roomId}` };
      try {
        // In a group, addressed to the person it answers.
        for (const message of messages) await (room ? room.say(asPlainText(message), contact) : contact.say(asPlainText(message)));
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: 'failed', detail: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}
