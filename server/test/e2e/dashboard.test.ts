import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createInsight } from '../../src/analytics';
import { loadInsightSettings } from '../../src/analytics/settings';
import { Agent } from '../../src/agents/models';
import { loadWechatConfig } from '../../src/config/wechat-config';
import { ConversationPipeline } from '../../src/conversation/pipeline';
import { BlendedUnderstander } from '../../src/conversation/understand';
import { EventBus } from '../../src/events/bus';
import { listen } from '../../src/http/server-lifecycle';
import { importKnowledgeDirectory } from '../../src/knowledge/importer';
import { SubIntent } from '../../src/knowledge/models';
import { KnowledgeBase } from '../../src/knowledge/service';
import { KNOWLEDGE_DIR } from '../../src/knowledge/source';
import { KnowledgeCandidate } from '../../src/learning/models';
import { WeChatHttpClient } from '../../src/wechat/api-client';
import { WeComClient } from '../../src/wechat/wecom-client';
import { simulatedEmotion, simulateTraffic } from '../../scripts/simulate-traffic';
import { FakeWeComOAuth } from '../fakes/wecom-oauth';
import { useTestDatabase } from '../support/database';
import { freePort } from '../support/process';

useTestDatabase(__filename);

/** The few Playwright calls used here (playwright-core is loaded at run time: it is a dev dependency). */
interface PlaywrightPage {
  goto(url: string, options?: { waitUntil?: 'load' | 'networkidle' }): Promise<unknown>;
  waitForSelector(selector: string, options?: { timeout?: number; state?: 'attached' | 'detached' | 'visible' | 'hidden' }): Promise<unknown>;
  /** A JavaScript expression evaluated in the page (a string: this project compiles without the DOM types). */
  evaluate<T>(expression: string): Promise<T>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  click(selector: string): Promise<void>;
  url(): string;
}
interface PlaywrightBrowser {
  newPage(options?: { viewport?: { width: number; height: number }; deviceScaleFactor?: number; timezoneId?: string }): Promise<PlaywrightPage>;
  close(): Promise<void>;
}
interface PlaywrightChromium {
  launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<PlaywrightBrowser>;
}

const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
const WECOM = { corpId: 'ww1436e0e65a779aee', corpSecret: 'fake-wecom-secret', agentId: 1000002 };
const CHARTS = ['chart-volume', 'chart-emotions', 'chart-handoffs', 'chart-qa', 'chart-forecast'];

describe('manager dashboard in a real browser (Debian Chromium, headless)', () => {
  let oauth: FakeWeComOAuth;
  let server: http.Server;
  let baseUrl: string;
  let browser: PlaywrightBrowser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set E2E_CHROMIUM)`);
    const { chromium } = require('playwright-core') as { chromium: PlaywrightChromium };

    // The platform with three days of simulated traffic written through the real pipeline.
    await importKnowledgeDirectory(KNOWLEDGE_DIR, { by: 'e2e' });
    const knowledge = new KnowledgeBase();
    await knowledge.refreshIfChanged();
    const end = new Date();
    let clock = end.getTime();
    const now = () => new Date(clock);
    const events = new EventBus();
    const understander = new BlendedUnderstander({ classifyIntents: () => [], extractEntities: () => [], readEmotion: simulatedEmotion }, knowledge);
    const pipeline = new ConversationPipeline({ understander, knowledge, config: loadWechatConfig(), events, now });

    oauth = await FakeWeComOAuth.start(WECOM);
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const insight = createInsight({
      events, knowledge, now, logger: pino({ level: 'silent' }), readEmotion: simulatedEmotion, recipientsFor: async () => ['wangfang'], metricLingerMs: 0,
      settings: loadInsightSettings({ DASHBOARD_PUBLIC_URL: baseUrl, WECOM_OAUTH_BASE: oauth.baseUrl }, { wecomSignIn: true }),
      wecom: { client: new WeComClient({ http: new WeChatHttpClient({ baseUrl: oauth.baseUrl }), ...WECOM }), apiBase: oauth.baseUrl },
    });
    await insight.start();
    await insight.stop();
    const agents = ['zhangsan', 'lisi', 'zhouyu', 'chenjing', 'liuyang'];
    await Agent.create([
      { _id: 'wangfang', name: '王芳', role: 'manager' as const, team: 'care' },
      ...agents.map((id, i) => ({ _id: id, name: ['张三', '李四', '周雨', '陈静', '刘洋'][i], role: 'agent' as const, team: 'claims' })),
    ]);
    const report = await simulateTraffic({
      pipeline, events, insight, knowledge, setClock: (ms) => { clock = ms; }, end, days: 3.2, peakPerHour: 7, seed: 8,
      agents, misbehavingAgent: 'liuyang',
    });
    console.log(`simulated: ${report.messages} messages, ${report.handoffs} hand-offs, ${report.agentSessions} agent sessions`);

    server = await listen(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1 << 20, routers: insight.routers }), port, '127.0.0.1');
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'],
    });
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
    await oauth?.stop();
  });

  it('signs a manager in through WeCom, draws every chart, and a knowledge candidate can be approved from it', async () => {
    oauth.signInAs('wangfang');
    // A manager's PC set to UTC: the page still shows China's time.
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1, timezoneId: 'UTC' });
    await page.goto(`${baseUrl}/dashboard`, { waitUntil: 'load' });
    // Back from WeCom (the browser keeps the authorize URL's #wechat_redirect fragment).
    expect(page.url().split('#')[0]).toBe(`${baseUrl}/dashboard`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    // Every chart drew on its canvas, with data in it.
    const drawn = await page.evaluate<Array<{ id: string; canvas: boolean; points: number }>>(`
      ${JSON.stringify(CHARTS)}.map((id) => {
        const el = document.getElementById(id);
        const chart = echarts.getInstanceByDom(el);
        const canvas = el.querySelector('canvas');
        const points = chart ? chart.getOption().series.reduce((n, s) => n + s.data.filter((d) => d !== null && d !== undefined).length, 0) : 0;
        return { id, canvas: Boolean(canvas && canvas.width > 100 && canvas.height > 100), points };
      })`);
    for (const chart of drawn) expect(chart).toMatchObject({ canvas: true, points: expect.any(Number) });
    expect(drawn.every((c) => c.points > 0)).toBe(true);
    expect(drawn.map((c) => c.id)).toEqual(CHARTS);
    const updated = await page.evaluate<string>(`document.getElementById('updated').textContent`);
    const shanghaiHours = [0, 60_000].map((ago) => new Date(Date.now() - ago).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai' }).split(':')[0]);
    expect(shanghaiHours).toContain(updated.split(':')[0]);

    const text = await page.evaluate<string>('document.body.innerText');
    expect(text).toContain('王芳（企业微信登录）');
    // Alerts reach the page. Which ones fire depends on where "now" falls in the simulated days; the
    // one-alert-for-a-misbehaving-agent rule is tested with a fixed clock in test/qa.
    expect(text).toMatch(/告警\s+[1-9]\d*\s+最近/);
    expect(text).toContain('疫苗'); // the wave of the new question, in the review queue
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // Approve the first candidate in the queue from the page: it is published.
    const pending = await KnowledgeCandidate.find({ status: 'pending' }).lean();
    expect(pending.length).toBeGreaterThan(0);
    await page.click('#review-queue .candidate button');
    for (let i = 0; i < 50 && (await KnowledgeCandidate.countDocuments({ status: 'approved' })) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await KnowledgeCandidate.countDocuments({ status: 'approved' })).toBe(1);

    // It is listed as learned knowledge in service, and can be taken out of service from there.
    const [approved] = await KnowledgeCandidate.find({ status: 'approved' }).lean();
    const learned = `#learned-knowledge [data-learned="${approved._id}"]`;
    await page.waitForSelector(learned, { timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-learned.png'), fullPage: true });
    await page.click(`${learned} button`);
    // The page reloads its list once the server has answered: by then the knowledge is retired.
    await page.waitForSelector(learned, { state: 'detached', timeout: 10_000 });
    expect(await KnowledgeCandidate.findById(approved._id).lean()).toMatchObject({ status: 'rejected', rejectReason: '主管下线' });
    expect((await SubIntent.findById(approved.subIntentId).lean())?.status).toBe('retired');
  }, 120_000);
});
