/**
 * Runs COMPILED Taro weapp pages (dist/) in miniprogram-simulate. The simulator alone cannot: Taro pages are
 * webpack chunks that need dist/app.js loaded first, they call Page() (the simulator only has Component()), and
 * they mount React only after the Taro app has launched. This shim:
 *   - defines App/getApp/getCurrentPages, loads dist/app.js and launches the app (onLaunch, onShow);
 *   - turns Page(config) into Component({ data, methods (incl. Taro's `eh` event handler), lifetimes }) with
 *     attached → onLoad(query) + onShow, ready → onReady, detached → onUnload;
 *   - records the Component() options of every dist file and replays them when the file is loaded again (webpack
 *     runs a chunk's modules once per jest module registry, so the second load would register nothing);
 *   - gives deepQuery(), which looks inside Taro's recursive `comp` component too.
 * It uses miniprogram-simulate/src/utils (internal): keep miniprogram-simulate pinned (1.6.2).
 */
const path = require('path');
const simulate = require('miniprogram-simulate');
const simulateUtils = require('miniprogram-simulate/src/utils');

const recorded = new Map(); // dist file (no extension) → Component() options
let currentFile; // the file miniprogram-simulate is running
let pendingQuery = {};
let appInstance;
const pageStack = [];

const simulatorComponent = global.Component;
global.Component = (options) => {
  if (currentFile && !recorded.has(currentFile)) recorded.set(currentFile, options);
  return simulatorComponent(options);
};

const originalRunJs = simulateUtils.runJs;
simulateUtils.runJs = (filePath) => {
  const previous = currentFile;
  currentFile = filePath;
  try {
    if (recorded.has(filePath)) global.Component(recorded.get(filePath));
    else originalRunJs(filePath);
  } finally {
    currentFile = previous;
  }
};

global.App = (config) => {
  appInstance = config;
};
global.getApp = () => appInstance;
global.getCurrentPages = () => pageStack.slice();

/** Page(config) as a component: its functions become methods, its lifecycle hooks ride on component lifetimes. */
global.Page = (config) => {
  const route = currentFile ? path.relative(global.__TARO_DIST__, currentFile) : 'pages/unknown';
  const methods = {};
  for (const [key, value] of Object.entries(config)) if (typeof value === 'function') methods[key] = value;
  global.Component({
    data: config.data || {},
    methods,
    lifetimes: {
      attached() {
        this.route = route;
        this.__route__ = route;
        this.options = pendingQuery;
        pageStack.push(this);
        if (config.onLoad) config.onLoad.call(this, pendingQuery);
        if (config.onShow) config.onShow.call(this);
      },
      ready() {
        if (config.onReady) config.onReady.call(this);
      },
      detached() {
        if (config.onHide) config.onHide.call(this);
        if (config.onUnload) config.onUnload.call(this);
        const at = pageStack.indexOf(this);
        if (at >= 0) pageStack.splice(at, 1);
      },
    },
  });
};

/** Load dist/app.js and launch the Taro app once per jest module registry (i.e. per test file). */
function bootTaroApp(distDir) {
  if (appInstance) return appInstance;
  global.__TARO_DIST__ = distDir;
  if (!require('fs').existsSync(path.join(distDir, 'app.js'))) throw new Error(`${distDir}/app.js is missing: run \`npm run build:weapp\` first`);
  require(path.join(distDir, 'app.js'));
  if (!appInstance) throw new Error(`${distDir}/app.js did not call App(): is it a Taro weapp build?`);
  const launch = { path: 'pages/chat/index', query: {}, scene: 1001 };
  if (appInstance.onLaunch) appInstance.onLaunch.call(appInstance, launch);
  if (appInstance.onShow) appInstance.onShow.call(appInstance, launch);
  return appInstance;
}

/** Render a compiled page (e.g. 'pages/chat/index') with its query, attached so its lifecycle runs. */
function loadTaroPage(distDir, page, query = {}) {
  bootTaroApp(distDir);
  pendingQuery = query;
  const id = simulate.load(path.join(distDir, page), { rootPath: distDir, compiler: 'official' });
  const component = simulate.render(id);
  if (!component) throw new Error(`miniprogram-simulate rendered nothing for ${page}`);
  const parent = document.createElement('parent-wrapper');
  component.attach(parent);
  return component;
}

/** querySelector that also searches inside nested custom components (Taro's `comp`, rendered past 16 levels). */
function deepQuery(component, selector) {
  const direct = component.querySelector(selector);
  if (direct) return direct;
  for (const child of component.querySelectorAll('comp')) {
    const found = deepQuery(child, selector);
    if (found) return found;
  }
  return undefined;
}

/** All text the page shows, for assertions that do not depend on minified structure. */
const textOf = (component) => component.dom.textContent.replace(/\s+/g, ' ').trim();

/** Poll until `check` passes (React updates reach setData asynchronously). */
async function waitFor(check, { timeout = 3000, interval = 10 } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const result = check();
      if (result !== false && result !== undefined) return result;
      lastError = new Error('condition returned false');
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError;
    await simulate.sleep(interval);
  }
}

module.exports = { bootTaroApp, loadTaroPage, deepQuery, textOf, waitFor, simulate };
