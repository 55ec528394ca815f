import type { ChannelName, Decision, EmotionReading, HandoffReason, OutboundMessage } from '../conversation/types';

/** Every domain event, by name. Listeners get a snapshot; they read more from the database if they need it. */
export interface DomainEvents {
  'message.received': {
    conversationId: string; messageId: string; channel: ChannelName; userId: string; text?: string;
    emotion?: EmotionReading; topSubIntentId?: string; confidence?: number; at: Date; state: string;
  };
  'message.answered': { conversationId: string; messageId: string; decision: Decision; replies: OutboundMessage[]; at: Date };
  'conversation.handed_off': {
    conversationId: string; channel: ChannelName; userId: string; reasons: HandoffReason[];
    scenarioId?: string; intentId?: string; vip: boolean; emotion?: EmotionReading; at: Date;
  };
  'conversation.closed': { conversationId: string; by: 'user' | 'agent' | 'timeout' | 'bot'; at: Date };
  'question.unanswered': { conversationId: string; messageId: string; text: string; confidence: number; at: Date };
}
