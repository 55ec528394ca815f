import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadWechatConfig, WECHAT_CONFIG_DIR, WechatConfigError } from '../../src/config/wechat-config';

/** wechat-config/ copied to a scratch folder with one file replaced. */
function configWith(file: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-config-'));
  for (const name of fs.readdirSync(WECHAT_CONFIG_DIR)) fs.copyFileSync(path.join(WECHAT_CONFIG_DIR, name), path.join(dir, name));
  fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

const shippedActions = fs.readFileSync(path.join(WECHAT_CONFIG_DIR, 'menu-actions.yaml'), 'utf8');

describe('wechat-config/menu-actions.yaml', () => {
  it('reads a question or a sub-intent for each click key', () => {
    const { menuActions } = loadWechatConfig();
    expect(menuActions.get('MENU_HUMAN')).toEqual({ question: '转人工' });
    expect(menuActions.get('MENU_INVOICE')).toEqual({ subIntentId: 'invoice/overview/invoice-menu' });
    expect(menuActions.get('constructor')).toBeUndefined();
  });

  it('refuses to start when a click key of menu.json has no action, naming the key', () => {
    const dir = configWith('menu-actions.yaml', shippedActions.replace(/^MENU_INVOICE:.*$/m, ''));
    expect(() => loadWechatConfig(dir)).toThrow(WechatConfigError);
    expect(() => loadWechatConfig(dir)).toThrow(/"MENU_INVOICE"/);
  });

  it('refuses an action that is neither a question nor { subIntent }, naming the key', () => {
    const dir = configWith('menu-actions.yaml', `${shippedActions}\nMENU_ODD: { subintent: typo/in/key }\n`);
    expect(() => loadWechatConfig(dir)).toThrow(/menu-actions\.yaml: MENU_ODD/);
  });
});

describe('wechat-config/handoff-rules.yaml', () => {
  it('refuses a worsening drop that is no probability, naming the field', () => {
    const rules = fs.readFileSync(path.join(WECHAT_CONFIG_DIR, 'handoff-rules.yaml'), 'utf8').replace(/worseningMinDrop: [\d.]+/, 'worseningMinDrop: 2');
    expect(() => loadWechatConfig(configWith('handoff-rules.yaml', rules))).toThrow(/handoff-rules\.yaml: emotion\.worseningMinDrop/);
  });
});
