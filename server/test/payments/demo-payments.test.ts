import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { setupInsurance, type InsuranceSetup } from '../../src/insurance/setup';
import { createLogger } from '../../src/logging/logger';
import { DemoPaymentGateway } from '../../src/payments/demo-gateway';
import type { PaymentRequest } from '../../src/payments/gateway';
import type { Transaction } from '../../src/payments/types';
import { MemoryStorage } from '../../src/storage';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';
import { medicalOrderFor, MOTHER } from '../insurance/support/people';
import { quoteFrom, type JsonBody } from '../insurance/support/world';

useTestDatabase(__filename);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Demo payments (no WeChat settings, outside production): a payment the customer cancelled never goes through. */
describe('demo payments: a cancelled order is never paid', () => {
  const logger = createLogger('silent');
  let setup: InsuranceSetup;
  let close: () => Promise<void>;
  let api: (method: string, url: string, options?: { token?: string; body?: unknown }) => Promise<{ status: number; body: JsonBody }>;

  beforeAll(async () => {
    setup = setupInsurance({ config: loadConfig({ NODE_ENV: 'development' }), logger, env: {}, storage: new MemoryStorage(), startJobs: false });
    const server = await serve(createApp({ logger, bodyLimitBytes: 1 << 20, routers: setup.routers }));
    close = server.close;
    api = async (method, url, options = {}) => {
      const res = await fetch(`${server.baseUrl}${url}`, {
        method,
        headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
    };
  });
  afterAll(async () => {
    await close();
    await setup.stop();
  });

  it('order → payment (paying) → cancel (closed): still closed after the demo settle time, with no policy', async () => {
    const { body: { token } } = await api('POST', '/api/mp/session', { body: { code: 'changed-my-mind' } });
    const order = medicalOrderFor(MOTHER);
    const quoted = await api('POST', '/api/mp/quotes', { body: quoteFrom(order) });
    const created = await api('POST', '/api/mp/orders', { token, body: { ...order, quotedPremiumFen: quoted.body.premiumFen } });
    expect(created.status).toBe(201);
    const orderNumber: string = created.body.orderNumber;
    expect((await api('POST', `/api/mp/orders/${orderNumber}/payment`, { token })).body.order.status).toBe('paying');
    const cancelled = await api('POST', `/api/mp/orders/${orderNumber}/cancel`, { token });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'closed' } });

    await sleep(1_500); // the demo settles 1 s after prepay
    const after = await api('GET', `/api/mp/orders/${orderNumber}`, { token });
    expect(after.body.status).toBe('closed');
    expect(after.body.policyNumber).toBeUndefined();
    expect((await api('GET', '/api/mp/policies', { token })).body.items).toEqual([]);
  });
});

describe('DemoPaymentGateway across server instances (the settle timer lives in one process only)', () => {
  let sequence = 0;
  const request = (): PaymentRequest => ({
    outTradeNo: `AXO-demo-${Date.now()}-${(sequence += 1)}`,
    description: '安心保·百万医疗险 标准版',
    amountFen: 36_800,
    payerOpenId: 'demo_openid',
    payBy: new Date(Date.now() + 3_600_000),
  });
  const instance = (paid: Transaction[]) => new DemoPaymentGateway({ onPaid: async (t) => paid.push(t), settleAfterMs: 50 });

  it('a close on another instance wins over this instance\'s timer: nothing is paid', async () => {
    const paid: Transaction[] = [];
    const order = request();
    await instance(paid).prepay(order);
    expect(await instance(paid).closeOrder(order.outTradeNo)).toBe('closed');
    await sleep(200);
    expect(paid).toEqual([]);
    expect(await instance(paid).queryPayment(order.outTradeNo)).toBeUndefined();
  });

  it('a payment that went through first makes the close answer already_paid, and the query reports it', async () => {
    const paid: Transaction[] = [];
    const order = request();
    await instance(paid).prepay(order);
    await sleep(200);
    expect(paid).toEqual([expect.objectContaining({ out_trade_no: order.outTradeNo, trade_state: 'SUCCESS', amount: expect.objectContaining({ total: 36_800 }) })]);
    expect(await instance(paid).closeOrder(order.outTradeNo)).toBe('already_paid');
    expect(await instance(paid).queryPayment(order.outTradeNo)).toMatchObject({ out_trade_no: order.outTradeNo, trade_state: 'SUCCESS' });
  });

  it('a close on the same instance stops its timer, and a second prepay of the order settles once', async () => {
    const paid: Transaction[] = [];
    const gateway = instance(paid);
    const cancelled = request();
    await gateway.prepay(cancelled);
    expect(await gateway.closeOrder(cancelled.outTradeNo)).toBe('closed');
    const twice = request();
    await gateway.prepay(twice);
    await gateway.prepay(twice);
    await sleep(200);
    expect(paid.map((t) => t.out_trade_no)).toEqual([twice.outTradeNo]);
  });
});
