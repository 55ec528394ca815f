import { createHash, randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import { forbidden, unauthorized } from '../http/errors';
import { Agent, AgentToken, type AgentDoc, type StaffRole } from './models';

declare module 'koa' {
  interface DefaultState {
    staff?: AgentDoc;
  }
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Issues a new console token for an agent; only its hash is kept. */
export async function issueStaffToken(agentId: string): Promise<string> {
  const token = `cs_${randomBytes(24).toString('base64url')}`;
  await AgentToken.create({ _id: hashToken(token), agentId });
  return token;
}

/** Lets through only signed-in staff with one of the given roles (`Authorization: Bearer <token>`). */
export function requireStaff(...roles: StaffRole[]): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!match) throw unauthorized('an agent token is required (Authorization: Bearer …)');
    const token = await AgentToken.findById(hashToken(match[1])).lean();
    const agent = token ? await Agent.findById(token.agentId).lean<AgentDoc>() : null;
    if (!agent) throw unauthorized('unknown or revoked agent token');
    if (roles.length && !roles.includes(agent.role as StaffRole)) throw forbidden(`this needs the role ${roles.join(' or ')}`);
    ctx.state.staff = agent;
    await next();
  };
}
