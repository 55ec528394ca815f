import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WECHAT_CONFIG_DIR } from '../config/wechat-config';
import { ServiceHours, ServiceHoursError } from '../tickets/service-hours';
import { TICKET_PRIORITIES, type SlaTargets } from '../tickets/types';
import { STAFF_ROLES } from './models';

/** wechat-config/agents.yaml: teams, agents, skills, capacities, managers, offer and queue rules, SLA targets. */

const weComUserId = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be a WeCom userid');
const skill = z.string().regex(/^(reason:[a-z_]+|[a-z0-9-]+(\/[a-z0-9-]+){0,2})$/, 'must be a scenario/intent id or reason:<handoff reason>');

const QUEUE_TIMEOUT_TEXT = '当前咨询人数较多，让您久等了。我们已为您登记工单（编号 {ticket}），客服会尽快联系您。';

const slaTarget = z.object({
  firstResponseMinutes: z.number().positive(),
  resolutionHours: z.number().positive(),
  /** `service`: only serviceHours count; `calendar`: around the clock (nobody may be on duty: managers hear of it). */
  clock: z.enum(['service', 'calendar']).default('service'),
});

/** When the desk is staffed (what `service` SLA clocks count); without it they count around the clock. */
const serviceHours = z.object({
  timezone: z.string().min(1),
  weekly: z.record(z.string(), z.array(z.string())),
  closedDates: z.array(z.string()).default([]),
});

export const agentDeskConfigSchema = z
  .object({
    offer: z.object({
      /** An offer not accepted within this goes to the next agent. */
      timeoutSeconds: z.number().int().min(5).max(3600),
      /** An agent who lets an offer lapse is set busy (not ready) until they send /free. */
      missedSetsBusy: z.boolean().default(true),
    }),
    queue: z.object({
      /** Used for the expected wait told to the customer. */
      averageHandleMinutes: z.number().positive(),
      /** After this long in the queue the customer gets a ticket and a call-back promise instead. */
      maxWaitMinutes: z.number().positive(),
    }),
    session: z
      .object({
        /** A customer left without an agent's reply this long (the agent gone without 下班) is handed to another agent. */
        unansweredMinutes: z.number().positive().default(10),
      })
      .default({ unansweredMinutes: 10 }),
    routing: z
      .object({
        /** When nobody with the skill is free, may another free agent take it (true), or does it wait (false)? */
        overflowToUnskilled: z.boolean().default(false),
      })
      .default({ overflowToUnskilled: false }),
    card: z.object({
      /** The textcard's link; `{session}` is replaced by the session number. */
      url: z.string().url(),
      recentTurns: z.number().int().min(1).max(20).default(6),
      suggestions: z.number().int().min(0).max(5).default(3),
    }),
    /** What the desk says to customers beyond replies.yaml (handoffQueued, handoffNoAgent, goodbyeAfterAgent are there). */
    customerTexts: z
      .object({ queueTimeout: z.string().min(1).default(QUEUE_TIMEOUT_TEXT) })
      .default({ queueTimeout: QUEUE_TIMEOUT_TEXT }),
    teams: z
      .array(
        z.object({
          id: z.string().regex(/^[a-z0-9-]+$/),
          name: z.string().min(1),
          skills: z.array(skill).default([]),
          /** WeCom userids alerted on SLA breaches of this team's tickets. */
          managers: z.array(weComUserId).default([]),
        }),
      )
      .min(1),
    agents: z
      .array(
        z.object({
          id: weComUserId,
          name: z.string().min(1),
          team: z.string(),
          role: z.enum(STAFF_ROLES).default('agent'),
          skills: z.array(skill).default([]),
          capacity: z.number().int().min(0).max(20).default(3),
        }),
      )
      .min(1),
    sla: z.object(Object.fromEntries(TICKET_PRIORITIES.map((p) => [p, slaTarget])) as Record<(typeof TICKET_PRIORITIES)[number], typeof slaTarget>),
    serviceHours: serviceHours.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.serviceHours) {
      try {
        ServiceHours.of(config.serviceHours);
      } catch (err) {
        if (!(err instanceof ServiceHoursError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['serviceHours'], message: err.message });
      }
    }
    const teams = new Set(config.teams.map((t) => t.id));
    const agents = new Set<string>();
    config.agents.forEach((agent, i) => {
      if (agents.has(agent.id)) ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent ${agent.id}` });
      agents.add(agent.id);
      if (!teams.has(agent.team)) ctx.addIssue({ code: 'custom', path: ['agents', i, 'team'], message: `unknown team ${agent.team}` });
    });
    config.teams.forEach((team, i) =>
      team.managers.forEach((manager, j) => {
        if (!agents.has(manager)) ctx.addIssue({ code: 'custom', path: ['teams', i, 'managers', j], message: `${manager} is not in agents` });
      }),
    );
  });

export type AgentDeskConfigInput = z.input<typeof agentDeskConfigSchema>;
export type AgentDeskConfig = z.infer<typeof agentDeskConfigSchema>;

export class AgentDeskConfigError extends Error {}

/** Validates an agents.yaml document (tests build their own). */
export function parseAgentDeskConfig(data: unknown, source = 'agents.yaml'): AgentDeskConfig {
  const result = agentDeskConfigSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new AgentDeskConfigError(`wechat-config/${source}: ${problems}`);
  }
  return result.data;
}

export function loadAgentDeskConfig(dir: string = WECHAT_CONFIG_DIR): AgentDeskConfig {
  const file = path.join(dir, 'agents.yaml');
  let data: unknown;
  try {
    data = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AgentDeskConfigError(`wechat-config/agents.yaml: cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseAgentDeskConfig(data);
}

/** SLA targets in the minutes the ticket service counts in. */
export function slaTargetsOf(config: AgentDeskConfig): SlaTargets {
  return Object.fromEntries(
    TICKET_PRIORITIES.map((p) => [
      p, { firstResponseMinutes: config.sla[p].firstResponseMinutes, resolutionMinutes: config.sla[p].resolutionHours * 60, clock: config.sla[p].clock },
    ]),
  ) as SlaTargets;
}

/** The desk's opening hours (around the clock when agents.yaml gives none). */
export function serviceHoursOf(config: AgentDeskConfig): ServiceHours {
  return config.serviceHours ? ServiceHours.of(config.serviceHours) : ServiceHours.always();
}

/** Everyone who should hear about a team's SLA breach: its managers, or every manager when the team has none. */
export function managersFor(config: AgentDeskConfig, teamId: string | undefined): string[] {
  const team = config.teams.find((t) => t.id === teamId);
  if (team?.managers.length) return team.managers;
  const all = new Set(config.teams.flatMap((t) => t.managers));
  for (const agent of config.agents) if (agent.role === 'manager') all.add(agent.id);
  return [...all];
}
