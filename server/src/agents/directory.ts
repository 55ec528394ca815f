import type { AgentDeskConfig } from './config';
import { Agent, HumanSession, type AgentDoc, type AgentStatus, type HumanSessionRecord } from './models';
import type { RoutableAgent } from './routing';

export type TransferTarget = { kind: 'agent'; agent: AgentDoc } | { kind: 'team'; teamId: string; teamName: string };

/**
 * Who the agents are (from agents.yaml, synced into the database at start) and how they stand now: status, load,
 * idle time. The live facts are in the database so every instance routes from the same picture.
 */
export class AgentDirectory {
  constructor(private readonly config: AgentDeskConfig, private readonly now: () => Date) {}

  /** Writes agents.yaml into the database; a status set live from WeCom survives restarts, someone it drops leaves. */
  async sync(): Promise<void> {
    const now = this.now();
    for (const agent of this.config.agents) {
      await Agent.updateOne(
        { _id: agent.id },
        {
          $set: { name: agent.name, role: agent.role, team: agent.team, skills: agent.skills, capacity: agent.capacity },
          $setOnInsert: { status: 'off', idleSince: now, statusChangedAt: now },
        },
        { upsert: true },
      );
    }
    // Someone agents.yaml no longer lists keeps their record (sessions and tickets name them) but takes no more work:
    // no capacity, so neither routing nor an "上班" from WeCom puts them back on the desk.
    await Agent.updateMany(
      { _id: { $nin: this.config.agents.map((agent) => agent.id) }, $or: [{ capacity: { $gt: 0 } }, { status: { $ne: 'off' } }] },
      { $set: { capacity: 0, status: 'off', statusChangedAt: now } },
    );
  }

  async get(id: string): Promise<AgentDoc | null> {
    return Agent.findById(id).lean<AgentDoc>();
  }

  async all(): Promise<AgentDoc[]> {
    return Agent.find({}).sort({ _id: 1 }).lean<AgentDoc[]>();
  }

  teamName(teamId: string | null | undefined): string | undefined {
    return this.config.teams.find((t) => t.id === teamId)?.name;
  }

  /** An agent's own skills plus their team's. */
  skillsOf(agent: Pick<AgentDoc, 'skills' | 'team'>): string[] {
    const team = this.config.teams.find((t) => t.id === agent.team);
    return [...new Set([...(agent.skills ?? []), ...(team?.skills ?? [])])];
  }

  /** `/transfer 张三` or `/transfer 理赔组`: an agent by userid or name first, then a team by id or name. */
  async resolveTarget(text: string): Promise<TransferTarget | undefined> {
    const wanted = text.trim();
    const agent = (await Agent.findById(wanted).lean<AgentDoc>()) ?? (await Agent.findOne({ name: wanted }).lean<AgentDoc>());
    if (agent) return { kind: 'agent', agent };
    const team = this.config.teams.find((t) => t.id === wanted.toLowerCase() || t.name === wanted);
    return team ? { kind: 'team', teamId: team.id, teamName: team.name } : undefined;
  }

  /** Sets a status; returns the previous one, or undefined when the agent is unknown. */
  async setStatus(id: string, status: AgentStatus): Promise<AgentStatus | undefined> {
    const agent = await Agent.findById(id).lean<AgentDoc>();
    if (!agent) return undefined;
    const now = this.now();
    const set: Record<string, unknown> = { status, statusChangedAt: now };
    // Coming back to work counts as the start of idleness, so a returning agent does not jump the line.
    if (status === 'on_duty' && agent.status !== 'on_duty') set.idleSince = now;
    await Agent.updateOne({ _id: id }, { $set: set });
    return agent.status as AgentStatus;
  }

  /** Sessions each agent holds or is being offered now. */
  async loads(): Promise<Map<string, number>> {
    const open = await HumanSession.find({ state: { $in: ['offered', 'active'] } }, { state: 1, offeredTo: 1, agentId: 1 }).lean<
      Pick<HumanSessionRecord, '_id' | 'state' | 'offeredTo' | 'agentId'>[]
    >();
    const loads = new Map<string, number>();
    for (const session of open) {
      const holder = session.state === 'offered' ? session.offeredTo : session.agentId;
      if (holder) loads.set(holder, (loads.get(holder) ?? 0) + 1);
    }
    return loads;
  }

  /** The routing picture: every agent with capacity, their status, load and idle time. */
  async snapshot(): Promise<RoutableAgent[]> {
    const [agents, loads] = await Promise.all([this.all(), this.loads()]);
    return agents
      .filter((a) => (a.capacity ?? 0) > 0)
      .map((a) => ({
        id: a._id,
        team: a.team ?? 'default',
        skills: this.skillsOf(a),
        capacity: a.capacity ?? 0,
        status: (a.status ?? 'off') as AgentStatus,
        load: loads.get(a._id) ?? 0,
        idleSince: a.idleSince ?? undefined,
      }));
  }
}
