import { ConversationStates, newConversation, type ConversationDoc } from '../../src/conversation/states';

/** Writes a conversation's first state, as if its first message had made it (for tests that start mid-dialogue). */
export async function seedConversation(
  channel: string, userId: string, fields: Partial<Omit<ConversationDoc, '_id' | 'seq' | 'channel' | 'userId'>> = {},
): Promise<ConversationDoc> {
  const conversation: ConversationDoc = { ...newConversation(channel, userId, new Date()), seq: 1, ...fields };
  if (!(await new ConversationStates().append(conversation))) throw new Error(`conversation ${conversation._id} exists already`);
  return conversation;
}
