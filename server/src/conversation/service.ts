import { randomUUID } from 'node:crypto';
import type { EventBus } from '../events/bus';
import { conversationIdFor, Message, type MessageDoc } from './models';
import { ConversationStates, readConversation, type ConversationDoc } from './states';
import type { ChannelName, OutboundMessage } from './types';

/** Conversation facts and state changes that other domains (agents, tickets, qa) are allowed to use. */
export class ConversationService {
  constructor(
    private readonly events: EventBus,
    /** Share the pipeline's instance, so it remembers what agents changed. */
    private readonly states = new ConversationStates(),
  ) {}

  /** The conversation as stored now (always read: other instances change it too). */
  async get(conversationId: string): Promise<ConversationDoc | null> {
    return (await readConversation(conversationId)) ?? null;
  }

  /** The latest messages of a conversation, oldest first. */
  async recentMessages(conversationId: string, limit = 20): Promise<MessageDoc[]> {
    const docs = await Message.find({ conversationId, status: 'done' }).sort({ createdAt: -1 }).limit(limit).lean<MessageDoc[]>();
    return docs.reverse();
  }

  /** A human agent took the conversation: the bot stops answering until it is handed back. */
  async assignAgent(conversationId: string, agentId: string): Promise<void> {
    await this.states.change(conversationId, () => ({ state: 'human', agentId }));
  }

  /** The human session ended: the bot answers again, with a fresh dialogue state. */
  async returnToBot(conversationId: string, by: 'agent' | 'user' | 'timeout' | 'bot'): Promise<void> {
    await this.states.change(conversationId, () => ({
      state: 'bot', pendingChoices: [], lowConfidenceStreak: 0, agentId: undefined, handoff: undefined, pendingSlot: undefined,
    }));
    this.events.publish('conversation.closed', { conversationId, by, at: new Date() });
  }

  /** Stores a message an agent (or the system) sent, so the transcript is whole. UserDelivery calls this for pushes. */
  async recordOutbound(
    conversation: { channel: ChannelName; userId: string },
    author: 'agent' | 'bot',
    message: OutboundMessage,
    agentId?: string,
  ): Promise<string> {
    const id = `${conversation.channel}:out:${randomUUID()}`;
    await Message.create({
      _id: id, conversationId: conversationIdFor(conversation.channel, conversation.userId), channel: conversation.channel, userId: conversation.userId,
      direction: 'out', author, kind: message.kind, text: 'text' in message ? message.text : message.title,
      status: 'done', claimedAt: new Date(), replies: [message], agentId,
    });
    return id;
  }
}
