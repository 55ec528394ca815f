import { randomInt } from 'node:crypto';
import { loadConfig } from '../src/config';
import { readDemoOfficialAccount } from '../src/channels/official-account/settings';
import { computeCallbackSignature, WXBizMsgCrypt } from '../src/wechat/crypto';
import { parseArgs, runCli } from '../src/cli/args';

const CONVERSATION: Array<{ say?: string; event?: string; key?: string }> = [
  { event: 'subscribe' },
  { say: '你好' },
  { say: '买了重疾险十天了，想退保能全额退吗' },
  { say: '理赔' },
  { say: '2' },
  { event: 'CLICK', key: 'MENU_CLAIM_DOCS' },
  { say: '你们理赔太慢了，我要投诉！' },
];

/**
 * Plays a signed, encrypted (safe mode) Official Account conversation against a running server, exactly as
 * WeChat would send it, and prints what the bot answers.
 */
runCli(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['url', 'openid'] });
  const config = loadConfig();
  const demo = readDemoOfficialAccount();
  const account = config.WECHAT_OA_APPID && config.WECHAT_OA_TOKEN && config.WECHAT_OA_AES_KEY
    ? { appId: config.WECHAT_OA_APPID, token: config.WECHAT_OA_TOKEN, aesKey: config.WECHAT_OA_AES_KEY, ghId: 'gh_configured' }
    : demo;
  const baseUrl = typeof args.url === 'string' ? args.url : `http://127.0.0.1:${config.PORT}`;
  const openId = typeof args.openid === 'string' ? args.openid : `o_demo_${randomInt(1e9)}`;
  const crypt = new WXBizMsgCrypt({ token: account.token, encodingAESKey: account.aesKey, receiveId: account.appId });

  console.log(`Official Account demo → ${baseUrl}/wechat/oa (app ${account.appId}, user ${openId}, safe mode)\n`);
  let msgId = BigInt(Date.now()) * 1000n;
  for (const step of CONVERSATION) {
    const createTime = Math.floor(Date.now() / 1000);
    const head = `<ToUserName><![CDATA[${account.ghId}]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${createTime}</CreateTime>`;
    const xml = step.event
      ? `<xml>${head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${step.event}]]></Event>${step.key ? `<EventKey><![CDATA[${step.key}]]></EventKey>` : ''}</xml>`
      : `<xml>${head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${step.say}]]></Content><MsgId>${msgId++}</MsgId></xml>`;
    const timestamp = String(createTime);
    const nonce = String(randomInt(1e9));
    const encrypt = crypt.encrypt(xml);
    const query = new URLSearchParams({
      signature: computeCallbackSignature(account.token, timestamp, nonce), timestamp, nonce, openid: openId,
      encrypt_type: 'aes', msg_signature: computeCallbackSignature(account.token, timestamp, nonce, encrypt),
    });
    const started = performance.now();
    const res = await fetch(`${baseUrl}/wechat/oa?${query}`, {
      method: 'POST', headers: { 'content-type': 'text/xml' },
      body: `<xml><ToUserName><![CDATA[${account.ghId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    });
    const body = await res.text();
    const ms = Math.round(performance.now() - started);
    console.log(`用户 ▸ ${step.say ?? `[${step.event}${step.key ? ` ${step.key}` : ''}]`}`);
    if (res.status !== 200) {
      console.log(`  (HTTP ${res.status}: ${body})\n`);
      continue;
    }
    const envelope = /<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/s.exec(body)?.[1];
    const reply = envelope ? /<Content><!\[CDATA\[(.*?)\]\]><\/Content>/s.exec(crypt.decrypt(envelope))?.[1] : undefined;
    console.log(`客服 ◂ ${reply ?? `(${body || 'empty'}: answered later as a customer-service message)`}  [${ms} ms]\n`);
  }
});
