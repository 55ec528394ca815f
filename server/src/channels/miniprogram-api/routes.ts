import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { HttpError, notFound, unauthorized } from '../../http/errors';
import { validate } from '../../http/validation';
import type { CustomerRef, Insurance } from '../../insurance';
import { policiesOf, policyOf } from '../../insurance/policies';
import { priceQuote } from '../../insurance/purchases';
import {
  claimReportSchema,
  documentUploadSchema,
  orderRequestSchema,
  quoteRequestSchema,
  surrenderRequestSchema,
} from '../../insurance/requests';
import { claimView, documentView, orderView, policySummary, policyView, productView } from '../../insurance/views';
import { bearerToken, requireUser, type MiniProgramSessions } from './sessions';

export interface MiniProgramRoutesDeps {
  insurance: Insurance;
  /** Absent when the mini-program is not configured: login and every user route answer 503. */
  sessions?: MiniProgramSessions;
}

const loginSchema = z.object({ code: z.string().trim().min(1, 'is required (from wx.login)').max(128) }).strict();

function customerOf(ctx: Context): CustomerRef {
  const customer = ctx.state.customer;
  if (!customer) throw unauthorized();
  return customer;
}

/** RFC 5987, so Chinese file names survive the header. */
const contentDisposition = (fileName: string) => `inline; filename*=UTF-8''${encodeURIComponent(fileName)}`;

/**
 * The mini-program's API (`/api/mp`). Products and quotes are public; everything else acts for the session's
 * customer only, and another customer's order, policy, claim or file is a 404.
 */
export function miniProgramRoutes(deps: MiniProgramRoutesDeps): Router {
  const { insurance } = deps;
  const router = new Router({ prefix: '/api/mp' });
  const user = requireUser(deps.sessions);

  // ---- Session ----

  router.post('/session', async (ctx) => {
    if (!deps.sessions) throw new HttpError(503, 'mini_program_not_configured', 'mini-program login is not configured on this server');
    const { code } = validate(loginSchema, ctx.request.body, 'body');
    const started = await deps.sessions.start(code);
    ctx.status = 201;
    ctx.body = { token: started.token, expiresIn: started.expiresIn, customer: { id: started.customer.id } };
  });

  router.delete('/session', user, async (ctx) => {
    const token = bearerToken(ctx.get('authorization'));
    if (token) await deps.sessions?.end(token);
    ctx.status = 204;
  });

  // ---- Products and quotes (public) ----

  router.get('/products', (ctx) => {
    ctx.body = {
      items: insurance.catalog.list().map((p) => ({
        id: p.id,
        name: p.name,
        category: p.category,
        summary: p.summary,
        insuredAge: p.insuredAge,
        coolingOffDays: p.coolingOffDays,
        waitingPeriodDays: p.waitingPeriodDays,
      })),
    };
  });

  router.get('/products/:productId', (ctx) => {
    const product = insurance.catalog.get(ctx.params.productId);
    if (!product) throw notFound('unknown_product', `no product "${ctx.params.productId}"`);
    ctx.body = productView(product);
  });

  router.post('/quotes', (ctx) => {
    const body = validate(quoteRequestSchema, ctx.request.body, 'body');
    ctx.body = priceQuote(insurance.catalog, body, insurance.clock());
  });

  // ---- Orders and payment ----

  router.post('/orders', user, async (ctx) => {
    const body = validate(orderRequestSchema, ctx.request.body, 'body');
    const order = await insurance.purchases.createOrder(customerOf(ctx), body);
    ctx.status = 201;
    ctx.body = orderView(order);
  });

  router.get('/orders', user, async (ctx) => {
    ctx.body = { items: (await insurance.purchases.ordersOf(customerOf(ctx))).map(orderView) };
  });

  router.get('/orders/:orderId', user, async (ctx) => {
    ctx.body = orderView(await insurance.purchases.orderOf(customerOf(ctx), ctx.params.orderId));
  });

  /** Prepay (once) and the parameters for wx.requestPayment. Paying is confirmed only by WeChat Pay's notify. */
  router.post('/orders/:orderId/payment', user, async (ctx) => {
    const { order, payment } = await insurance.purchases.startPayment(customerOf(ctx), ctx.params.orderId);
    ctx.body = { order: orderView(order), requestPayment: payment };
  });

  router.post('/orders/:orderId/cancel', user, async (ctx) => {
    ctx.body = orderView(await insurance.purchases.cancelOrder(customerOf(ctx), ctx.params.orderId));
  });

  // ---- Policies ----

  router.get('/policies', user, async (ctx) => {
    const now = insurance.clock();
    ctx.body = { items: (await policiesOf(customerOf(ctx).id)).map((p) => policySummary(p, now)) };
  });

  router.get('/policies/:policyId', user, async (ctx) => {
    ctx.body = policyView(await policyOf(customerOf(ctx).id, ctx.params.policyId), insurance.clock());
  });

  /** 犹豫期退保: full refund to the original payment. */
  router.post('/policies/:policyId/surrender', user, async (ctx) => {
    const body = validate(surrenderRequestSchema, ctx.request.body ?? {}, 'body');
    const result = await insurance.purchases.surrender(customerOf(ctx), ctx.params.policyId, body.reason);
    ctx.body = { policy: policyView(result.policy, insurance.clock()), order: orderView(result.order) };
  });

  // ---- Claims ----

  router.post('/claims', user, async (ctx) => {
    const body = validate(claimReportSchema, ctx.request.body, 'body');
    ctx.status = 201;
    ctx.body = claimView(await insurance.claims.report(customerOf(ctx), body));
  });

  router.get('/claims', user, async (ctx) => {
    ctx.body = { items: (await insurance.claims.claimsOf(customerOf(ctx))).map((c) => claimView(c)) };
  });

  router.get('/claims/:claimId', user, async (ctx) => {
    ctx.body = claimView(await insurance.claims.claimOf(customerOf(ctx), ctx.params.claimId));
  });

  /** JSON `{kind, fileName, contentBase64}`; the type is read from the bytes, the size checked after decoding. */
  router.post('/claims/:claimId/documents', user, async (ctx) => {
    const body = validate(documentUploadSchema, ctx.request.body, 'body');
    const document = await insurance.claims.addDocument(customerOf(ctx), ctx.params.claimId, body);
    ctx.status = 201;
    ctx.body = documentView(ctx.params.claimId, document, '/api/mp/claims');
  });

  router.get('/claims/:claimId/documents/:documentId', user, async (ctx) => {
    const claim = await insurance.claims.claimOf(customerOf(ctx), ctx.params.claimId);
    const { record, file } = await insurance.claims.readDocument(claim, ctx.params.documentId);
    ctx.set('Content-Disposition', contentDisposition(record.fileName));
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = file.contentType;
    ctx.body = file.bytes;
  });

  /** After documents were asked for: "I have sent them", back to review. */
  router.post('/claims/:claimId/submit', user, async (ctx) => {
    ctx.body = claimView(await insurance.claims.submitDocuments(customerOf(ctx), ctx.params.claimId));
  });

  // ---- Linking the Official Account ----

  /** A code to send to the Official Account ("绑定 123456") so the bot can answer about this customer's policies. */
  router.post('/binding-codes', user, async (ctx) => {
    const issued = await insurance.bindings.createCode(customerOf(ctx), insurance.clock());
    ctx.status = 201;
    ctx.body = { code: issued.code, expiresAt: issued.expiresAt };
  });

  return router;
}
