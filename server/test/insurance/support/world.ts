import { verifyMessage, loadPublicKey, loadPrivateKey, paySignMessage } from '../../../src/payments/wechatpay/crypto';
import { createApp } from '../../../src/app';
import { MiniProgramSessions } from '../../../src/channels/miniprogram-api/sessions';
import { miniProgramRoutes } from '../../../src/channels/miniprogram-api/routes';
import { createInsurance, type Insurance } from '../../../src/insurance';
import { SubscriptionNotifier } from '../../../src/insurance/notices';
import { staffClaimRoutes } from '../../../src/insurance/staff-routes';
import { createLogger } from '../../../src/logging/logger';
import { WechatPayClient } from '../../../src/payments/client';
import { WechatPayGateway } from '../../../src/payments/gateway';
import { payNotifyRoutes } from '../../../src/payments/routes';
import { MemoryStorage, type DocumentStorage } from '../../../src/storage';
import { WeChatAppApi, WeChatHttpClient } from '../../../src/wechat/api-client';
import { FAKE_MINI_PROGRAM, FakeWeChatApi } from '../../fakes/wechat-api';
import { FakeWechatPay } from '../../fakes/wechat-pay';
import { MERCHANT_SERIAL, PLATFORM_SERIAL, keys } from '../../fixtures/wechat';
import { serve } from '../../support/http';

export const TEMPLATES = { policyIssued: 'TPL_POLICY_ISSUED', claimProgress: 'TPL_CLAIM_PROGRESS', renewalDue: 'TPL_RENEWAL' };
export const NOTIFY_URL = 'https://cs.anxinbao.example/wechat/pay/notify';
/** 10:00 China time, 2025-03-10. */
export const START = new Date('2025-03-10T02:00:00Z');

// Test JSON bodies are read loosely; the assertions say what they must contain.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

export interface ApiResponse<T = JsonBody> {
  status: number;
  body: T;
  headers: Headers;
  bytes: Buffer;
}

/**
 * Our server as it runs in production, wired to the WeChat API and WeChat Pay fakes on loopback, with one clock
 * shared by the server and the Pay fake (signature windows are ±300 s).
 */
export class World {
  now = new Date(START);
  insurance!: Insurance;
  sessions!: MiniProgramSessions;
  wechat!: FakeWeChatApi;
  pay!: FakeWechatPay;
  baseUrl = '';
  private closeServer: () => Promise<void> = async () => {};
  private openIds = 0;

  constructor(readonly storage: DocumentStorage = new MemoryStorage()) {}

  static async start(storage?: DocumentStorage): Promise<World> {
    const world = new World(storage);
    await world.boot();
    return world;
  }

  private async boot(): Promise<void> {
    this.wechat = await FakeWeChatApi.start();
    this.pay = await FakeWechatPay.start({ startTime: this.now.getTime() });
    const clock = () => this.now;
    const nowMs = () => this.now.getTime();
    const merchantPrivateKey = loadPrivateKey(keys.merchantPrivatePem);
    const platformPublicKeys = new Map([[PLATFORM_SERIAL, loadPublicKey(keys.platformPublicPem)]]);
    const client = new WechatPayClient({
      baseUrl: this.pay.baseUrl,
      mchid: this.pay.mchid,
      merchantSerialNo: MERCHANT_SERIAL,
      merchantPrivateKey,
      platformPublicKeys,
      now: nowMs,
    });
    const payments = new WechatPayGateway({ client, appId: FAKE_MINI_PROGRAM.appId, merchantPrivateKey, notifyUrl: NOTIFY_URL, now: nowMs });
    const mpApi = new WeChatAppApi({
      http: new WeChatHttpClient({ baseUrl: this.wechat.baseUrl }),
      appId: FAKE_MINI_PROGRAM.appId,
      appSecret: FAKE_MINI_PROGRAM.secret,
    });
    const logger = createLogger('silent');
    this.insurance = createInsurance({
      payments,
      notifier: new SubscriptionNotifier({ sender: mpApi, templates: TEMPLATES, logger }),
      storage: this.storage,
      maxDocumentBytes: 200_000,
      renewalReminderDays: 30,
      clock,
      logger,
    });
    const sessions = new MiniProgramSessions(mpApi, { idleDays: 7, maxDays: 30 }, clock);
    this.sessions = sessions;
    const app = createApp({
      logger,
      bodyLimitBytes: 1024 * 1024,
      routers: [
        miniProgramRoutes({ insurance: this.insurance, sessions }),
        staffClaimRoutes({ insurance: this.insurance }),
        payNotifyRoutes({
          mchid: this.pay.mchid,
          apiV3Key: this.pay.apiV3Key,
          platformPublicKeys,
          appIds: [FAKE_MINI_PROGRAM.appId],
          handler: this.insurance.purchases,
          clock,
        }),
      ],
    });
    const server = await serve(app);
    this.baseUrl = server.baseUrl;
    this.closeServer = server.close;
  }

  async stop(): Promise<void> {
    await this.insurance.notices.settled();
    await this.closeServer();
    await this.wechat.stop();
    await this.pay.stop();
  }

  /** Moves the server's and the Pay fake's clocks together. */
  advance(ms: number): void {
    this.setNow(new Date(this.now.getTime() + ms));
  }

  setNow(at: Date): void {
    this.now = at;
    this.pay.setClock(at.getTime());
  }

  async api<T = JsonBody>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const isJson = response.headers.get('content-type')?.includes('json');
    return { status: response.status, headers: response.headers, bytes, body: (isJson && bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined) as T };
  }

  /** A new mini-program user logged in through code2session; returns our session token and their openid. */
  async login(options: { unionId?: string; openId?: string } = {}): Promise<{ token: string; openId: string; customerId: string }> {
    this.openIds += 1;
    const openId = options.openId ?? `oMpUser_${this.openIds}_${Math.random().toString(36).slice(2, 8)}`;
    const code = `code-${openId}`;
    this.wechat.addLoginCode(code, { openid: openId, unionid: options.unionId, appId: FAKE_MINI_PROGRAM.appId });
    const response = await this.api('POST', '/api/mp/session', { body: { code } });
    if (response.status !== 201) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { token: response.body.token, openId, customerId: response.body.customer.id };
  }

  /** Quote → order → prepay → WeChat Pay notify; returns the order and policy numbers. */
  async buy(token: string, order: Record<string, unknown> & { productId: string }): Promise<{ orderNumber: string; policyNumber: string; premiumFen: number }> {
    const quoted = await this.api('POST', '/api/mp/quotes', { body: quoteFrom(order) });
    if (quoted.status !== 200 || !quoted.body.eligible) throw new Error(`quote failed: ${JSON.stringify(quoted.body)}`);
    const created = await this.api('POST', '/api/mp/orders', { token, body: { ...order, quotedPremiumFen: quoted.body.premiumFen } });
    if (created.status !== 201) throw new Error(`order failed: ${created.status} ${JSON.stringify(created.body)}`);
    const orderNumber: string = created.body.orderNumber;
    const paying = await this.api('POST', `/api/mp/orders/${orderNumber}/payment`, { token });
    if (paying.status !== 200) throw new Error(`payment failed: ${paying.status} ${JSON.stringify(paying.body)}`);
    const notified = await this.pay.sendNotify(`${this.baseUrl}/wechat/pay/notify`, orderNumber);
    if (notified.status !== 204) throw new Error(`notify refused: ${notified.status} ${notified.body}`);
    const after = await this.api('GET', `/api/mp/orders/${orderNumber}`, { token });
    return { orderNumber, policyNumber: after.body.policyNumber, premiumFen: quoted.body.premiumFen };
  }

  subscriptionMessages(templateId?: string) {
    return this.wechat.sent.subscribe.filter((m) => templateId === undefined || m.body.template_id === templateId);
  }
}

/** The quote request matching an order body (same pricing fields, the insured's ID for the birth date). */
export function quoteFrom(order: Record<string, JsonBody>): Record<string, unknown> {
  const { policyholder, insured, beneficiary: _b, quotedPremiumFen: _q, ...pricing } = order;
  const insuredId = insured?.relation === 'self' || !insured?.idCard ? policyholder?.idCard : insured.idCard;
  return { ...pricing, insured: { idCard: insuredId } };
}

/** wx.requestPayment's parameters verify with the merchant public key over appId\ntimeStamp\nnonceStr\npackage\n. */
export function paySignVerifies(params: { timeStamp: string; nonceStr: string; package: string; paySign: string }): boolean {
  const message = paySignMessage({ appId: FAKE_MINI_PROGRAM.appId, timeStamp: params.timeStamp, nonceStr: params.nonceStr, package: params.package });
  return verifyMessage(loadPublicKey(keys.merchantPublicPem), message, params.paySign);
}
