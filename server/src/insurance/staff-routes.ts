import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { requireStaff } from '../agents/auth';
import { unauthorized } from '../http/errors';
import { validate } from '../http/validation';
import { CLAIM_STATUSES } from './claim-state';
import type { Insurance } from './index';
import { claimTransitionSchema } from './requests';
import { claimView } from './views';

export interface StaffClaimRoutesDeps {
  insurance: Insurance;
  /** Defaults to requireStaff('agent', 'manager'); tests may pass their own. */
  auth?: Middleware;
}

const listQuery = z.object({
  status: z.enum(CLAIM_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Claims handling for agents and managers (`/api/staff/claims`): list, read, move through the states, read files. */
export function staffClaimRoutes(deps: StaffClaimRoutesDeps): Router {
  const { insurance } = deps;
  const router = new Router({ prefix: '/api/staff/claims' });
  router.use(deps.auth ?? requireStaff('agent', 'manager'));

  router.get('/', async (ctx) => {
    const query = validate(listQuery, ctx.query, 'query');
    ctx.body = { items: (await insurance.claims.list(query)).map((c) => claimView(c, 'staff')) };
  });

  router.get('/:claimId', async (ctx) => {
    ctx.body = claimView(await insurance.claims.get(ctx.params.claimId), 'staff');
  });

  /** `{to, note?, neededDocuments?, approvedAmountFen?, paidAmountFen?, paymentReference?, rejectionReason?}` */
  router.post('/:claimId/transitions', async (ctx) => {
    const staff = ctx.state.staff;
    if (!staff) throw unauthorized();
    const body = validate(claimTransitionSchema, ctx.request.body, 'body');
    const claim = await insurance.claims.moveByStaff({ id: staff._id, name: staff.name }, ctx.params.claimId, body);
    ctx.body = claimView(claim, 'staff');
  });

  router.get('/:claimId/documents/:documentId', async (ctx) => {
    const claim = await insurance.claims.get(ctx.params.claimId);
    const { record, file } = await insurance.claims.readDocument(claim, ctx.params.documentId);
    ctx.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(record.fileName)}`);
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = file.contentType;
    ctx.body = file.bytes;
  });

  return router;
}
