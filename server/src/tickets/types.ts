import type { ChannelName, EmotionReading, HandoffReason } from '../conversation/types';

/** A ticket's life: accepted → worked on → waiting for the customer → resolved → closed (after confirmation or time). */
export const TICKET_STATUSES = ['open', 'in_progress', 'waiting_for_user', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Where each status may go next. `closed` is final; a resolved ticket may be reopened. */
export const TICKET_TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  open: ['in_progress', 'waiting_for_user', 'resolved'],
  in_progress: ['waiting_for_user', 'resolved'],
  waiting_for_user: ['in_progress', 'resolved'],
  resolved: ['closed', 'in_progress'],
  closed: [],
};

/** What the customer sees for each status (mini-program 「我的工单」). */
export const TICKET_STATUS_LABELS: Record<TicketStatus, string> = {
  open: '已受理',
  in_progress: '处理中',
  waiting_for_user: '待您补充',
  resolved: '已解决',
  closed: '已关闭',
};

export const TICKET_PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export const TICKET_PRIORITY_LABELS: Record<TicketPriority, string> = { urgent: '紧急', high: '高', normal: '普通', low: '低' };

/**
 * Why the ticket exists: no agent was on duty, the queue wait ran out, an agent's reply could not reach the
 * customer (48 h window / quota), a session ended with something still owed, or an agent opened it.
 */
export const TICKET_SOURCES = ['no_agent', 'queue_timeout', 'window_closed', 'follow_up', 'agent'] as const;
export type TicketSource = (typeof TICKET_SOURCES)[number];

export interface SlaTarget {
  firstResponseMinutes: number;
  resolutionMinutes: number;
  /** `service`: only opening hours count (the default); `calendar`: every minute counts, e.g. for regulator cases. */
  clock?: 'service' | 'calendar';
}
export type SlaTargets = Record<TicketPriority, SlaTarget>;
export type SlaKind = 'first_response' | 'resolution';

export interface TicketEntity {
  type: string;
  value: string;
  /** Safe to show outside the ticket system (WeCom alerts): personal values masked. */
  display: string;
}

export interface TicketIntent {
  scenarioId?: string;
  intentId?: string;
  subIntentId?: string;
  name?: string;
}

/** What the handoff knew, when a ticket comes from one. */
export interface HandoffFacts {
  reasons: HandoffReason[];
  scenarioId?: string;
  intentId?: string;
  vip: boolean;
  emotion?: EmotionReading;
  sessionId?: string;
}

export interface TicketRecord {
  _id: string;
  channel: ChannelName;
  userId: string;
  conversationId: string;
  sessionId?: string;
  source: TicketSource;
  /** 'system' or the agent's WeCom userid. */
  openedBy: string;
  status: TicketStatus;
  priority: TicketPriority;
  subject: string;
  description?: string;
  summary: string;
  intent: TicketIntent;
  entities: TicketEntity[];
  emotion?: { label: string; intensity: number; polarity: string };
  handoffReasons: HandoffReason[];
  vip: boolean;
  team?: string;
  assigneeId?: string;
  sla: {
    firstResponseDueAt: Date;
    resolutionDueAt: Date;
    firstRespondedAt?: Date;
    resolvedAt?: Date;
    /** While waiting for the customer the resolution clock stops; the pause is added to the due date on resume. */
    pausedAt?: Date;
    firstResponseBreachedAt?: Date;
    resolutionBreachedAt?: Date;
  };
  history: Array<{ at: Date; by: string; action: string; from?: string; to?: string; note?: string }>;
  /** `toUser` notes are replies the customer sees in 「我的工单」; `delivered` says whether the push also reached them. */
  notes: Array<{ at: Date; by: string; text: string; toUser: boolean; delivered?: boolean }>;
  /** When it was opened, by the service's clock (SLA targets count from here). */
  openedAt: Date;
  closedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The customer's view of their ticket: status and dates, never internal notes or other users' data. */
export interface CustomerTicketView {
  number: string;
  subject: string;
  status: TicketStatus;
  statusLabel: string;
  createdAt: Date;
  updatedAt: Date;
  resolvedAt?: Date;
  /** Messages the service sent to the customer about this ticket. */
  replies: Array<{ at: Date; text: string }>;
}
