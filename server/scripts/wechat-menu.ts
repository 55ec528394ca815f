import { loadConfig } from '../src/config';
import { loadWechatConfig } from '../src/config/wechat-config';
import { createLogger } from '../src/logging/logger';
import { openDatabase } from '../src/db/open';
import { WeChatAppApi, WeChatHttpClient, type MenuDefinition } from '../src/wechat/api-client';
import { CliUsageError, runCli } from '../src/cli/args';

/** Pushes wechat-config/menu.json to the Official Account (menu/create). */
runCli(async () => {
  const config = loadConfig();
  if (!config.WECHAT_OA_APPID || !config.WECHAT_OA_SECRET) {
    throw new CliUsageError('WECHAT_OA_APPID and WECHAT_OA_SECRET must be set to push the menu (see README: connecting a real Official Account)');
  }
  const { menu } = loadWechatConfig();
  const db = await openDatabase(config, createLogger('warn')); // the access token is shared through the database
  try {
    const api = new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: config.WECHAT_API_BASE }), appId: config.WECHAT_OA_APPID, appSecret: config.WECHAT_OA_SECRET });
    await api.createMenu(menu as MenuDefinition);
    console.log(`menu pushed to ${config.WECHAT_OA_APPID}: ${menu.button.map((b) => b.name).join(' | ')}`);
  } finally {
    await db.close();
  }
});
