import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { setupInsurance, type InsuranceSetup } from '../../src/insurance/setup';
import { createLogger } from '../../src/logging/logger';
import { MemoryStorage } from '../../src/storage';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';
import { MOTHER, medicalOrderFor } from './support/people';
import { quoteFrom, type JsonBody } from './support/world';

useTestDatabase(__filename);

/**
 * `npm start` with no WeChat settings: outside production the mini-program's h5 preview logs in with any login code
 * and can buy a policy (demo payments), as the Official Account has its demo account. Production gets neither.
 */
describe('the demo mini-program (no WECHAT_MP_* outside production)', () => {
  const logger = createLogger('silent');
  const servers: Array<{ setup: InsuranceSetup; close: () => Promise<void> }> = [];
  const start = async (nodeEnv: 'development' | 'production', env: Record<string, string> = {}) => {
    const setup = setupInsurance({ config: loadConfig({ NODE_ENV: nodeEnv, ...env }), logger, env, storage: new MemoryStorage(), startJobs: false });
    const server = await serve(createApp({ logger, bodyLimitBytes: 1 << 20, routers: setup.routers }));
    servers.push({ setup, close: server.close });
    return async (method: string, url: string, options: { token?: string; body?: unknown } = {}) => {
      const res = await fetch(`${server.baseUrl}${url}`, {
        method,
        headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const body: JsonBody = res.status === 204 ? undefined : await res.json();
      return { status: res.status, body };
    };
  };
  afterAll(async () => {
    for (const { setup, close } of servers) {
      await close();
      await setup.stop();
    }
  });

  it('a login code is a demo customer: the same code is the same customer, another code another one', async () => {
    const api = await start('development');
    const alice = await api('POST', '/api/mp/session', { body: { code: 'alice' } });
    expect(alice.status).toBe(201);
    expect((await api('POST', '/api/mp/session', { body: { code: ' alice ' } })).body.customer.id).toBe(alice.body.customer.id);
    expect((await api('POST', '/api/mp/session', { body: { code: 'bob' } })).body.customer.id).not.toBe(alice.body.customer.id);
    expect((await api('POST', '/api/mp/session', { body: { code: '' } })).status).toBe(400);
    expect((await api('GET', '/api/mp/policies', { token: alice.body.token })).status).toBe(200);
  });

  it('a demo customer buys a policy: the payment goes through by itself and the policy is issued', async () => {
    const api = await start('development');
    const { body: { token } } = await api('POST', '/api/mp/session', { body: { code: 'buyer' } });
    const order = medicalOrderFor(MOTHER);
    const quoted = await api('POST', '/api/mp/quotes', { body: quoteFrom(order) });
    expect(quoted.body.eligible).toBe(true);
    const created = await api('POST', '/api/mp/orders', { token, body: { ...order, quotedPremiumFen: quoted.body.premiumFen } });
    expect(created.status).toBe(201);
    const paying = await api('POST', `/api/mp/orders/${created.body.orderNumber}/payment`, { token });
    expect(paying.status).toBe(200);
    expect(paying.body.requestPayment.package).toMatch(/^prepay_id=demo_prepay_/);

    let after = { status: '', policyNumber: undefined as string | undefined };
    for (let tries = 0; tries < 50 && after.status !== 'issued'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = (await api('GET', `/api/mp/orders/${created.body.orderNumber}`, { token })).body;
    }
    expect(after.status).toBe('issued');
    const policies = await api('GET', '/api/mp/policies', { token });
    expect(policies.body.items).toHaveLength(1);
    expect(policies.body.items[0]).toMatchObject({ productId: 'medical', policyNumber: after.policyNumber });
  });

  it.each([
    ['production', {}],
    ['a real Official Account configured', { WECHAT_OA_APPID: 'wx1234567890abcdef', WECHAT_OA_SECRET: 'oa-secret-value', WECHAT_OA_TOKEN: 'oatoken' }],
    ['a real WeCom app configured', { WECOM_CORP_ID: 'ww1234567890abcdef' }],
  ] as const)('no demo in %s: login and payments stay off until the mini-program is configured', async (what, env) => {
    const api = await start(what === 'production' ? 'production' : 'development', env);
    const login = await api('POST', '/api/mp/session', { body: { code: 'alice' } });
    expect(login.status).toBe(503);
    expect(login.body.error ?? login.body).toMatchObject({ code: 'mini_program_not_configured' });
  });
});
