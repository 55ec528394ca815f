import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/app';
import { staticSiteRoutes } from '../../src/http/static-site';
import { serve } from '../support/http';

/** A GET with the path sent exactly as written (fetch would normalise `..` away before it left the client). */
function rawGet(baseUrl: string, rawPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static site under a prefix (the mini-program h5 build at /h5/)', () => {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'static-site-'));
  const root = path.join(outside, 'dist-h5');
  let base: Awaited<ReturnType<typeof serve>>;
  let unbuilt: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, 'js'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>客服</title>');
    fs.writeFileSync(path.join(root, 'js', 'app.3f2a.js'), 'console.log("app")');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'do not serve');
    const logger = pino({ level: 'silent' });
    base = await serve(createApp({ logger, bodyLimitBytes: 1024, routers: [staticSiteRoutes({ prefix: '/h5', root })] }));
    unbuilt = await serve(createApp({
      logger, bodyLimitBytes: 1024,
      routers: [staticSiteRoutes({ prefix: '/h5', root: path.join(outside, 'nothing-here'), notBuiltMessage: 'run npm run build:h5' })],
    }));
  });
  afterAll(async () => {
    await base.close();
    await unbuilt.close();
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('serves index.html at /h5/ without caching, and assets with their type', async () => {
    const page = await fetch(`${base.baseUrl}/h5/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('<title>客服</title>');

    const script = await fetch(`${base.baseUrl}/h5/js/app.3f2a.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log("app")');
  });

  it('redirects /h5 to /h5/ keeping the query (the login code rides on it)', async () => {
    const res = await fetch(`${base.baseUrl}/h5?code=abc`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/h5/?code=abc');
  });

  it('answers a page path with the app (client-side routes) and a missing asset with a JSON 404', async () => {
    const page = await fetch(`${base.baseUrl}/h5/pages/chat/index`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('客服');
    const asset = await fetch(`${base.baseUrl}/h5/js/missing.js`);
    expect(asset.status).toBe(404);
    expect(((await asset.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it.each([
    '/h5/../secret.txt',
    '/h5/..%2fsecret.txt',
    '/h5/%2e%2e%2fsecret.txt',
    '/h5/js/..%2f..%2fsecret.txt',
    '/h5/..%5csecret.txt',
    '/h5/index.html%00.js',
    '/h5/%E0%A4%A',
  ])('refuses %s with a 400 and never serves a file outside the site', async (rawPath) => {
    const res = await rawGet(base.baseUrl, rawPath);
    expect(res.body).not.toContain('do not serve');
    // `/h5/../x` is normalised by the router to `/x`, which is no route: 404. Everything else is refused outright.
    expect(rawPath.startsWith('/h5/../') ? [400, 404] : [400]).toContain(res.status);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  it('says how to build the site when it is missing', async () => {
    const res = await fetch(`${unbuilt.baseUrl}/h5/`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'site_not_built', message: 'run npm run build:h5' } });
  });
});
