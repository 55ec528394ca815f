import type http from 'node:http';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createInsight } from '../../src/analytics';
import { InsightSettingsError, loadInsightSettings } from '../../src/analytics/settings';
import { Agent } from '../../src/agents/models';
import { EventBus } from '../../src/events/bus';
import { listen } from '../../src/http/server-lifecycle';
import { WeChatHttpClient } from '../../src/wechat/api-client';
import { WeComClient } from '../../src/wechat/wecom-client';
import { FakeWeComOAuth } from '../fakes/wecom-oauth';
import { useTestDatabase } from '../support/database';
import { freePort } from '../support/process';

useTestDatabase(__filename);

const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
const WECOM = { corpId: 'ww1436e0e65a779aee', corpSecret: 'fake-wecom-secret', agentId: 1000002 };

/** A tiny cookie jar: enough for one browser session against one host. */
class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly baseUrl: string) {}

  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url.startsWith('http') ? url : `${this.baseUrl}${url}`, {
      ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair.split('=');
      if (value) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    return res;
  }

  /** Follows redirects (to any host: the fake WeCom page included), as a browser would. */
  async visit(url: string): Promise<Response> {
    let res = await this.get(url);
    for (let hops = 0; hops < 5 && res.status >= 300 && res.status < 400; hops++) res = await this.get(res.headers.get('location')!);
    return res;
  }
}

describe('manager dashboard: sign-in and data', () => {
  let oauth: FakeWeComOAuth;
  let server: http.Server;
  let baseUrl: string;
  const events = new EventBus((event, err) => { throw new Error(`${event}: ${String(err)}`); });

  beforeAll(async () => {
    oauth = await FakeWeComOAuth.start(WECOM);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const client = new WeComClient({ http: new WeChatHttpClient({ baseUrl: oauth.baseUrl }), ...WECOM });
    const insight = createInsight({
      events, logger: pino({ level: 'silent' }), knowledge: { search: () => [] }, answerConfidence: 0.5, recipientsFor: async () => [],
      settings: loadInsightSettings({ ADMIN_TOKEN, DASHBOARD_PUBLIC_URL: baseUrl, WECOM_OAUTH_BASE: oauth.baseUrl }, { wecomSignIn: true }),
      wecom: { client, apiBase: oauth.baseUrl },
    });
    await insight.start();
    await insight.stop();
    server = await listen(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1 << 20, routers: insight.routers }), port, '127.0.0.1');
    await Agent.create([
      { _id: 'wangfang', name: '王芳', role: 'manager', team: 'care' },
      { _id: 'zhangsan', name: '张三', role: 'agent', team: 'claims' },
    ]);
    const at = new Date();
    events.publish('message.received', {
      conversationId: 'official-account:o1', messageId: 'm1', channel: 'official-account', userId: 'o1', text: '投诉', at, state: 'bot',
      emotion: { label: 'anger', intensity: 0.8, polarity: 'negative' }, topSubIntentId: 'claim-report/how-to-report/online-report', confidence: 0.9,
    });
    events.publish('message.answered', { conversationId: 'official-account:o1', messageId: 'm1', decision: { action: 'handoff', reasons: ['complaint'], reason: 'x' }, replies: [], at });
    events.publish('conversation.handed_off', { conversationId: 'official-account:o1', channel: 'official-account', userId: 'o1', reasons: ['complaint'], vip: false, at });
    await events.settled();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
    await oauth.stop();
  });

  it('a manager signs in with WeCom and sees the dashboard; the data comes with the session', async () => {
    oauth.signInAs('wangfang');
    const browser = new Browser(baseUrl);
    const start = await browser.get('/dashboard/signin/wecom');
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${oauth.baseUrl}/connect/oauth2/authorize`);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${baseUrl}/dashboard/oauth/callback`);
    expect(authorize.searchParams.get('scope')).toBe('snsapi_base');

    const page = await browser.visit('/dashboard/signin/wecom');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('主管看板');
    expect(html).toContain('王芳（企业微信登录）');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    const overview = await browser.get('/api/dashboard/overview?hours=24');
    expect(overview.status).toBe(200);
    const data = (await overview.json()) as { totals: { messages: number; handoffs: number }; handoffRate: number; handoffReasons: unknown[]; emotions: unknown[] };
    expect(data.totals).toMatchObject({ messages: 1, handoffs: 1 });
    expect(data.handoffRate).toBe(1);
    expect(data.handoffReasons).toEqual([{ reason: 'complaint', count: 1 }]);
    expect(data.emotions).toEqual([{ label: 'anger', count: 1 }]);

    await browser.get('/dashboard/logout', { method: 'POST' });
    expect((await browser.get('/api/dashboard/overview')).status).toBe(401);
  });

  it('refuses an agent who is not a manager, an outsider, and a forged return', async () => {
    oauth.signInAs('zhangsan');
    const agent = await new Browser(baseUrl).visit('/dashboard/signin/wecom');
    expect(agent.status).toBe(403);
    expect(await agent.text()).toContain('不是主管');

    oauth.signInAsOutsider('o_outsider');
    expect((await new Browser(baseUrl).visit('/dashboard/signin/wecom')).status).toBe(403);

    const forged = await new Browser(baseUrl).get('/dashboard/oauth/callback?code=abc&state=guessed');
    expect(forged.status).toBe(400);
  });

  it('accepts the admin token on the login page or as a bearer token, and nothing else', async () => {
    const anonymous = new Browser(baseUrl);
    const redirected = await anonymous.get('/dashboard');
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('/dashboard/login');
    expect(await (await anonymous.get('/dashboard/login')).text()).toContain('/dashboard/signin/wecom');

    const wrong = await anonymous.get('/dashboard/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope' });
    expect(wrong.status).toBe(401);
    const right = await anonymous.get('/dashboard/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${ADMIN_TOKEN}` });
    expect(right.status).toBe(302);
    expect((await anonymous.get('/dashboard')).status).toBe(200);

    const api = await fetch(`${baseUrl}/api/dashboard/alerts`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(200);
    const refused = await fetch(`${baseUrl}/api/dashboard/alerts`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('serves its own assets and ECharts from node_modules (no CDN)', async () => {
    const js = await fetch(`${baseUrl}/dashboard/assets/dashboard.js`);
    expect(js.status).toBe(200);
    const echarts = await fetch(`${baseUrl}/dashboard/assets/echarts.min.js`);
    expect(echarts.status).toBe(200);
    expect(echarts.headers.get('content-type')).toContain('javascript');
    expect((await echarts.text()).length).toBeGreaterThan(500_000);
    expect((await fetch(`${baseUrl}/dashboard/assets/..%2F..%2Findex.ts`)).status).toBe(404);
    // Names every JavaScript object has are not assets either (they answered 500).
    for (const name of ['constructor', 'toString', '__proto__']) expect((await fetch(`${baseUrl}/dashboard/assets/${name}`)).status).toBe(404);
  });
});

describe('insight settings', () => {
  it('names every bad or missing variable', () => {
    try {
      loadInsightSettings({ ADMIN_TOKEN: 'short', QA_IDLE_MINUTES: 'soon' });
      throw new Error('expected an error');
    } catch (err) {
      expect(err).toBeInstanceOf(InsightSettingsError);
      const message = (err as Error).message;
      expect(message).toContain('ADMIN_TOKEN');
      expect(message).not.toContain('short'); // a secret is never echoed
      expect(message).toContain('QA_IDLE_MINUTES');
    }
    expect(loadInsightSettings({})).toMatchObject({ idleMs: 30 * 60_000, adminToken: undefined, warnings: [expect.stringContaining('ADMIN_TOKEN')] });
    // Outside production nobody would be able to sign in: this run gets a random token, shown in the start-up log.
    const demo = loadInsightSettings({}, { demo: true });
    const other = loadInsightSettings({}, { demo: true });
    expect(demo.adminToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(other.adminToken).not.toBe(demo.adminToken);
    expect(demo.warnings).toEqual([expect.stringContaining(`signs in with the token ${demo.adminToken}`)]);
    expect(loadInsightSettings({ ADMIN_TOKEN }, { demo: true })).toMatchObject({ adminToken: ADMIN_TOKEN, warnings: [] });
    // WeCom configured without a public URL: the server starts, and says why WeCom sign-in is off.
    expect(loadInsightSettings({ ADMIN_TOKEN }, { wecomSignIn: true }).warnings).toEqual([expect.stringContaining('DASHBOARD_PUBLIC_URL')]);
  });
});
