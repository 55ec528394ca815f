/** The weapp build is complete: every page listed in app.json has its files, and the API base is inlined. */
const fs = require('fs');
const path = require('path');

const DIST = path.resolve(__dirname, '../dist');
const read = (file) => fs.readFileSync(path.join(DIST, file), 'utf8');

describe('weapp dist', () => {
  const app = JSON.parse(read('app.json'));

  it('has js, json and wxml for every page, and the tab pages exist', () => {
    expect(app.pages).toContain('pages/chat/index');
    for (const page of app.pages) {
      for (const ext of ['js', 'json', 'wxml']) expect(fs.existsSync(path.join(DIST, `${page}.${ext}`))).toBe(true);
    }
    for (const tab of app.tabBar.list) expect(app.pages).toContain(tab.pagePath);
  });

  it('resolves every require() of app.js and every usingComponents entry', () => {
    for (const [, target] of read('app.js').matchAll(/require\("\.\/([^"]+)"\)/g)) {
      expect(fs.existsSync(path.join(DIST, `${target}.js`))).toBe(true);
    }
    for (const page of app.pages) {
      const json = JSON.parse(read(`${page}.json`));
      for (const target of Object.values(json.usingComponents ?? {})) {
        expect(fs.existsSync(path.join(DIST, path.dirname(page), `${target}.json`))).toBe(true);
      }
    }
  });

  it('inlines the API base URL (TARO_APP_API_BASE, default http://127.0.0.1:3000)', () => {
    const expected = process.env.TARO_APP_API_BASE ?? 'http://127.0.0.1:3000';
    const js = fs.readdirSync(DIST).filter((f) => f.endsWith('.js')).map(read).join('\n');
    expect(js).toContain(JSON.stringify(expected));
  });

  it('is what the root project.config.json opens in WeChat DevTools', () => {
    const project = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../project.config.json'), 'utf8'));
    expect(path.resolve(__dirname, '../..', project.miniprogramRoot)).toBe(DIST);
    expect(project.compileType).toBe('miniprogram');
  });
});
