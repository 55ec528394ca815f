import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { notFound } from '../../http/errors';
import { validate } from '../../http/validation';
import { METRICS } from '../buckets';
import type { DashboardAuth } from './auth';
import { dashboardOverview, type OverviewSources } from './overview';

/**
 * The manager dashboard: one HTML page and its scripts (ECharts from node_modules: no CDN, the servers may have
 * no internet), sign-in (WeCom or admin token) and the JSON it reads.
 */

const PAGE_DIR = path.join(__dirname, 'page');
// A Map: the file name comes from the URL, and "constructor" must not find Object's.
const OWN_ASSETS = new Map([['dashboard.js', 'application/javascript; charset=utf-8'], ['dashboard.css', 'text/css; charset=utf-8']]);
// Charts draw on canvas; ECharts sets inline styles on its tooltips, hence style-src 'unsafe-inline'.
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

let echartsPath: string | null | undefined;
function locateEcharts(): string | null {
  if (echartsPath === undefined) {
    try {
      echartsPath = require.resolve('echarts/dist/echarts.min.js');
    } catch {
      echartsPath = null;
    }
  }
  return echartsPath;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function html(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('content-security-policy', CONTENT_SECURITY_POLICY);
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}

function messagePage(title: string, message: string, extra = ''): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head><body><header><h1>安心客服 · 主管看板</h1></header>
<main><article class="card" style="max-width:520px;margin:40px auto"><h2>${escapeHtml(title)}</h2><p>${escapeHtml(message)}</p>${extra}</article></main></body></html>`;
}

export function dashboardRoutes(options: { auth: DashboardAuth; sources: OverviewSources }): Router {
  const { auth, sources } = options;
  const router = new Router();

  router.get('/dashboard', async (ctx) => {
    if (!(await auth.pageAllowed(ctx))) {
      if (auth.wecomSignIn && !auth.adminSignIn) return auth.startWeComSignIn(ctx);
      return ctx.redirect('/dashboard/login');
    }
    const page = fs.readFileSync(path.join(PAGE_DIR, 'index.html'), 'utf8');
    const who = ctx.state.manager!;
    html(ctx, page.replace('</head>', `  <meta name="signed-in" content="${escapeHtml(`${who.name}（${who.via === 'wecom' ? '企业微信' : '令牌'}登录）`)}">\n</head>`));
  });

  router.get('/dashboard/login', (ctx) => {
    if (!auth.wecomSignIn && !auth.adminSignIn) {
      return html(ctx, messagePage('看板尚未配置登录方式', '请设置 ADMIN_TOKEN（本地使用），或配置企业微信应用（WECOM_CORP_ID、WECOM_AGENT_ID、WECOM_SECRET 等）并设置 DASHBOARD_PUBLIC_URL。'), 503);
    }
    const wecom = auth.wecomSignIn ? '<p><a href="/dashboard/signin/wecom">使用企业微信登录</a></p>' : '';
    const admin = auth.adminSignIn
      ? '<form method="post" action="/dashboard/login"><label>管理令牌 <input type="password" name="token" autocomplete="current-password" required></label> <button type="submit">登录</button></form>'
      : '';
    html(ctx, messagePage('登录', '主管请使用企业微信登录；本地环境可使用管理令牌（ADMIN_TOKEN）。', wecom + admin));
  });

  router.post('/dashboard/login', (ctx) => {
    const token = new URLSearchParams(ctx.request.rawBody ?? '').get('token') ?? '';
    if (!auth.signInWithAdminToken(ctx, token)) return html(ctx, messagePage('登录失败', '管理令牌不正确。', '<p><a href="/dashboard/login">重试</a></p>'), 401);
    ctx.redirect('/dashboard');
  });

  router.get('/dashboard/signin/wecom', (ctx) => {
    if (!auth.wecomSignIn) return html(ctx, messagePage('未启用企业微信登录', '请配置企业微信应用并设置 DASHBOARD_PUBLIC_URL。'), 404);
    auth.startWeComSignIn(ctx);
  });

  router.get('/dashboard/oauth/callback', async (ctx) => {
    if (!auth.wecomSignIn) return html(ctx, messagePage('未启用企业微信登录', '请配置企业微信应用并设置 DASHBOARD_PUBLIC_URL。'), 404);
    const query = validate(z.object({ code: z.string().min(1).max(512), state: z.string().min(1).max(128) }), ctx.query, 'query');
    const outcome = await auth.finishWeComSignIn(ctx, query.code, query.state);
    if (!outcome.ok) return html(ctx, messagePage('无法登录', outcome.reason, '<p><a href="/dashboard/signin/wecom">重新登录</a></p>'), outcome.status);
    ctx.redirect('/dashboard');
  });

  router.post('/dashboard/logout', (ctx) => {
    auth.signOut(ctx);
    ctx.redirect('/dashboard/login');
  });

  router.get('/dashboard/assets/:file', (ctx) => {
    const file = ctx.params.file;
    if (file === 'echarts.min.js') {
      const located = locateEcharts();
      if (!located) throw notFound('echarts_missing', 'ECharts is not installed: npm install echarts (the dashboard serves it from node_modules)');
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.set('cache-control', 'public, max-age=86400');
      ctx.body = fs.createReadStream(located);
      return;
    }
    const type = OWN_ASSETS.get(file);
    if (!type) throw notFound();
    ctx.type = type;
    ctx.set('cache-control', 'no-cache');
    ctx.body = fs.readFileSync(path.join(PAGE_DIR, file));
  });

  const api = new Router({ prefix: '/api/dashboard' });
  api.use(auth.api());
  api.get('/overview', async (ctx) => {
    const { hours } = validate(z.object({ hours: z.coerce.number().int().min(1).max(72).default(24) }), ctx.query, 'query');
    ctx.set('cache-control', 'no-store');
    ctx.body = await dashboardOverview(sources, hours);
  });
  api.get('/forecast', async (ctx) => {
    const query = validate(z.object({ metric: z.enum(METRICS).default('messages'), key: z.string().min(1).default('all') }), ctx.query, 'query');
    ctx.body = await sources.hotIssues.forecast(query.metric, query.key);
  });
  api.get('/hot-issues', async (ctx) => {
    ctx.body = { items: await sources.hotIssues.evaluate({ raiseAlerts: false }) };
  });
  api.get('/alerts', async (ctx) => {
    ctx.body = { items: await sources.alerts.recent(100) };
  });
  router.use(api.routes(), api.allowedMethods({ throw: true }));
  return router;
}
