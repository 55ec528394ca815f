import { randomUUID } from 'node:crypto';
import type { EventBus } from '../events/bus';
import { AgentAction, type AgentActionRecord } from './models';

export interface AuditEntry {
  /** WeCom userid of the agent, or 'system' for what the desk did on its own (offers, lapses, automatic tickets). */
  actor: string;
  action: string;
  sessionId?: string;
  ticketId?: string;
  conversationId?: string;
  detail?: Record<string, unknown>;
}

/** The audit log of agent actions: stored, and announced as 'agent.action' for qa/ and analytics/. */
export class AuditLog {
  constructor(private readonly events: EventBus, private readonly now: () => Date) {}

  async record(entry: AuditEntry): Promise<void> {
    const at = this.now();
    await AgentAction.create({ _id: randomUUID(), at, ...entry });
    this.events.publish('agent.action', {
      actor: entry.actor, action: entry.action, sessionId: entry.sessionId, ticketId: entry.ticketId, conversationId: entry.conversationId, at,
    });
  }

  async list(filter: { actor?: string; action?: string; sessionId?: string; ticketId?: string; page: number; pageSize: number }) {
    const query: Record<string, string> = {};
    for (const key of ['actor', 'action', 'sessionId', 'ticketId'] as const) if (filter[key]) query[key] = filter[key]!;
    const [total, items] = await Promise.all([
      AgentAction.countDocuments(query),
      AgentAction.find(query).sort({ at: -1, _id: 1 }).skip((filter.page - 1) * filter.pageSize).limit(filter.pageSize).lean<AgentActionRecord[]>(),
    ]);
    return { total, page: filter.page, pageSize: filter.pageSize, items };
  }
}
