import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { forbidden, notFound } from '../http/errors';
import { validate } from '../http/validation';
import { requireStaff } from './auth';
import type { AgentDesk } from './desk';
import type { AgentDirectory } from './directory';
import type { AuditLog } from './audit';
import { AGENT_STATES } from './models';

const paging = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
};

/**
 * The desk for the agent console: who is at work with what load, the queue and live sessions, status changes
 * (also possible from WeCom), and the audit log (managers see everyone's, agents their own).
 */
export function agentDeskRoutes(deps: { desk: AgentDesk; directory: AgentDirectory; audit: AuditLog }): Router {
  const { desk, directory, audit } = deps;
  const router = new Router({ prefix: '/api/agent/desk' });
  router.use(requireStaff('agent', 'manager'));
  const staff = (ctx: Context) => ctx.state.staff!;

  router.get('/agents', async (ctx) => {
    const [agents, loads] = await Promise.all([directory.all(), directory.loads()]);
    ctx.body = {
      items: agents.map((a) => ({
        id: a._id, name: a.name, role: a.role, team: a.team, teamName: directory.teamName(a.team), skills: directory.skillsOf(a),
        capacity: a.capacity, status: a.status, load: loads.get(a._id) ?? 0, idleSince: a.idleSince,
      })),
    };
  });

  router.put('/agents/:id/status', async (ctx) => {
    const body = validate(z.object({ status: z.enum(AGENT_STATES) }), ctx.request.body, 'body');
    const me = staff(ctx);
    if (ctx.params.id !== me._id && me.role !== 'manager') throw forbidden('only managers change another agent’s status');
    const agent = await directory.get(ctx.params.id);
    if (!agent) throw notFound('agent_not_found', `no agent ${ctx.params.id}`);
    const message = await desk.setStatus(agent, body.status, me._id);
    ctx.body = { id: agent._id, status: body.status, message };
  });

  router.get('/sessions', async (ctx) => {
    ctx.body = await desk.overview();
  });

  router.get('/audit', async (ctx) => {
    const query = validate(
      z.object({ actor: z.string().min(1).optional(), action: z.string().min(1).optional(), sessionId: z.string().optional(), ticketId: z.string().optional(), ...paging }),
      ctx.query,
      'query',
    );
    const me = staff(ctx);
    // An agent reads their own trail; the whole floor's is for managers.
    const actor = me.role === 'manager' ? query.actor : me._id;
    ctx.body = await audit.list({ ...query, actor });
  });

  return router;
}
