import type { HandoffReason } from '../conversation/types';
import type { AgentStatus } from './models';

/**
 * Skill-based routing, as pure functions over a snapshot: who gets the next session, in which order the queue is
 * served, and how long a customer should expect to wait.
 */

export interface RoutableAgent {
  id: string;
  team: string;
  /** Own skills and the team's. */
  skills: string[];
  capacity: number;
  status: AgentStatus;
  /** Sessions offered to or held by the agent now. */
  load: number;
  idleSince?: Date;
}

export interface RoutingRequest {
  scenarioId?: string;
  intentId?: string;
  subIntentId?: string;
  reasons: readonly HandoffReason[];
  /** Agents who missed or passed it on: tried only when nobody else can take it. */
  passedBy: readonly string[];
  targetAgentId?: string;
  targetTeam?: string;
}

export interface RoutingOptions {
  overflowToUnskilled: boolean;
}

/**
 * How well an agent's skills fit: a sub-intent skill 3, an intent 2, a scenario 1, plus 1 for each handoff reason
 * skill that applies (a complaint specialist for a complaint). 0 means no specific skill.
 */
export function skillScore(skills: readonly string[], request: RoutingRequest): number {
  let path = 0;
  let reasons = 0;
  for (const skill of skills) {
    if (skill.startsWith('reason:')) {
      if (request.reasons.includes(skill.slice('reason:'.length) as HandoffReason)) reasons += 1;
    } else if (request.subIntentId && skill === request.subIntentId) path = Math.max(path, 3);
    else if (request.intentId && skill === request.intentId) path = Math.max(path, 2);
    else if (request.scenarioId && skill === request.scenarioId) path = Math.max(path, 1);
  }
  return path + reasons;
}

/** Working now (busy agents are at their desk but take no new sessions; they count for "is anyone there"). */
export const isStaffed = (agent: Pick<RoutableAgent, 'status'>) => agent.status === 'on_duty' || agent.status === 'busy';

/**
 * The agent to offer a session to, or undefined to keep it queued: the best skill match among on-duty agents with
 * free capacity, then the least loaded, then the one idle longest. Skilled agents being busy makes the session wait
 * for them unless overflow is allowed; when nobody at work has the skill, any free agent takes it.
 */
export function chooseAgent(request: RoutingRequest, agents: readonly RoutableAgent[], options: RoutingOptions): RoutableAgent | undefined {
  let scope = agents;
  if (request.targetAgentId) scope = agents.filter((a) => a.id === request.targetAgentId);
  else if (request.targetTeam) scope = agents.filter((a) => a.team === request.targetTeam);
  // A transfer target that left work since cannot be waited for: anyone may take it rather than nobody.
  const targeted = scope !== agents && scope.some(isStaffed);
  if (!targeted) scope = agents;

  const scored = scope.map((agent) => ({ agent, score: skillScore(agent.skills, request) }));
  const skilledAtWork = scored.some(({ agent, score }) => score > 0 && isStaffed(agent));
  const free = scored.filter(({ agent, score }) => {
    if (agent.status !== 'on_duty' || agent.load >= agent.capacity) return false;
    // A transfer names who should take it (the transfer was allowed because they were free): no waiting for skills.
    return options.overflowToUnskilled || !skilledAtWork || targeted || score > 0;
  });
  // Someone who already let it pass gets it again only when nobody else can take it.
  const fresh = free.filter(({ agent }) => !request.passedBy.includes(agent.id));
  const pool = fresh.length ? fresh : free;
  pool.sort(
    (a, b) =>
      b.score - a.score ||
      a.agent.load - b.agent.load ||
      (a.agent.idleSince?.getTime() ?? 0) - (b.agent.idleSince?.getTime() ?? 0) ||
      a.agent.id.localeCompare(b.agent.id),
  );
  return pool[0]?.agent;
}

export interface Queued {
  _id: string;
  vip: boolean;
  queuedAt: Date;
}

/** VIP customers first, then first come first served. */
export function queueOrder(a: Queued, b: Queued): number {
  return Number(b.vip) - Number(a.vip) || new Date(a.queuedAt).getTime() - new Date(b.queuedAt).getTime() || a._id.localeCompare(b._id, 'en', { numeric: true });
}

/** Minutes a customer with `ahead` people before them should expect, with `agents` agents at work. */
export function expectedWaitMinutes(ahead: number, agents: number, averageHandleMinutes: number): number {
  return Math.max(1, Math.ceil(((ahead + 1) * averageHandleMinutes) / Math.max(1, agents)));
}
