import type { ChannelName, Decision, EmotionReading, EntityMention, HandoffReason, OutboundMessage } from '../conversation/types';
import type { SlaKind, TicketPriority, TicketSource, TicketStatus } from '../tickets/types';

/** Every domain event, by name. Listeners get a snapshot; they read more from the database if they need it. */
export interface DomainEvents {
  'message.received': {
    conversationId: string; messageId: string; channel: ChannelName; userId: string; text?: string;
    emotion?: EmotionReading; topSubIntentId?: string; confidence?: number; at: Date; state: string;
    /** What the message names (policy numbers, names …), for masking it where staff read it. */
    entities?: EntityMention[];
    /** The conversation's previous activity (undefined for its first message). */
    previousActivityAt?: Date;
  };
  'message.answered': { conversationId: string; messageId: string; decision: Decision; replies: OutboundMessage[]; at: Date };
  'conversation.handed_off': {
    conversationId: string; channel: ChannelName; userId: string; reasons: HandoffReason[];
    scenarioId?: string; intentId?: string; vip: boolean; emotion?: EmotionReading; at: Date;
  };
  'conversation.closed': { conversationId: string; by: 'user' | 'agent' | 'timeout' | 'bot'; at: Date };
  'question.unanswered': { conversationId: string; messageId: string; text: string; confidence: number; at: Date };
  'ticket.opened': {
    ticketId: string; conversationId: string; channel: ChannelName; userId: string; source: TicketSource;
    priority: TicketPriority; openedBy: string; at: Date;
  };
  'ticket.status_changed': { ticketId: string; from: TicketStatus; to: TicketStatus; by: string; at: Date };
  /** Something an agent (or the desk on their behalf: offers, missed offers) did; the audit log has the details. */
  'agent.action': { actor: string; action: string; sessionId?: string; ticketId?: string; conversationId?: string; at: Date };
  /** A ticket missed its first-response or resolution target; published once per ticket and kind. */
  'sla.breached': { ticketId: string; kind: SlaKind; priority: TicketPriority; dueAt: Date; team?: string; at: Date };
  /** A finished conversation or voice call was inspected (qa/). */
  'qa.inspected': { inspectionId: string; conversationId: string; agentIds: string[]; score: number; passed: boolean; endedAt: Date; at: Date };
  /** A manager alert went out (agent anomaly, topic spike, emerging topic). */
  'insight.alert_raised': { alertId: string; kind: string; subject: string; severity: string; at: Date };
  /** Approved knowledge candidates were published; every instance reloads at `revision`. */
  'knowledge.learned_published': { candidateIds: string[]; subIntentIds: string[]; revision?: number; by: string; at: Date };
}
