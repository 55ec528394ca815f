import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { HttpError } from './errors';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticSiteOptions {
  /** URL prefix without a trailing slash, e.g. `/h5`. */
  prefix: string;
  /** The built site; resolved once. */
  root: string;
  /** Served for paths that name no file (single-page apps route on the client). */
  fallback?: string;
  /** Told to the client when the site has not been built yet. */
  notBuiltMessage?: string;
}

/**
 * Serves a built single-page site under a prefix. Paths are decoded and resolved inside `root`; anything that
 * would leave it (`..`, encoded slashes, NUL) is refused with 400 rather than mapped to a file.
 * `index.html` is never cached (it names the hashed bundles); hashed assets are cached for a day.
 */
export function staticSiteRoutes({ prefix, root, fallback = 'index.html', notBuiltMessage }: StaticSiteOptions): Router {
  const base = path.resolve(root);
  const router = new Router({ strict: true }); // `/h5` and `/h5/` are different: one redirects to the other

  router.get(prefix, (ctx) => {
    ctx.status = 301;
    ctx.redirect(`${prefix}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
  });

  const serve = async (ctx: Context) => {
    const relative = ctx.path.slice(prefix.length + 1);
    let decoded: string;
    try {
      decoded = decodeURIComponent(relative);
    } catch {
      throw new HttpError(400, 'bad_path', 'the path is not valid percent-encoding');
    }
    if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((part) => part === '..')) {
      throw new HttpError(400, 'bad_path', 'the path leaves the site');
    }
    let file = path.resolve(base, decoded || fallback);
    if (file !== base && !file.startsWith(base + path.sep)) throw new HttpError(400, 'bad_path', 'the path leaves the site');
    let stat = await fs.promises.stat(file).catch(() => undefined);
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = await fs.promises.stat(file).catch(() => undefined);
    }
    if (!stat?.isFile()) {
      // A missing asset is a 404; a missing page is the app's own route.
      if (path.extname(decoded) && path.extname(decoded) !== '.html') throw new HttpError(404, 'not_found', `no file ${prefix}/${decoded}`);
      file = path.join(base, fallback);
      stat = await fs.promises.stat(file).catch(() => undefined);
      if (!stat?.isFile()) throw new HttpError(404, 'site_not_built', notBuiltMessage ?? `nothing is built at ${base}`);
    }
    ctx.type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    ctx.length = stat.size;
    ctx.set('Cache-Control', file.endsWith('.html') ? 'no-store' : 'public, max-age=86400');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = ctx.method === 'HEAD' ? null : fs.createReadStream(file);
  };
  router.get(`${prefix}/`, serve);
  router.get(`${prefix}/{*path}`, serve);
  return router;
}
