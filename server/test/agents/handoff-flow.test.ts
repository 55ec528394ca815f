import pino from 'pino';
import { createApp } from '../../src/app';
import { createAgentDesk } from '../../src/agents';
import { parseAgentDeskConfig } from '../../src/agents/config';
import type { AgentDeskSettings } from '../../src/agents/settings';
import { officialAccountPusher } from '../../src/channels/official-account/pusher';
import { loadWechatConfig } from '../../src/config/wechat-config';
import { UserDelivery } from '../../src/conversation/delivery';
import { Message } from '../../src/conversation/models';
import { readConversation } from '../../src/conversation/states';
import { ConversationService } from '../../src/conversation/service';
import { WeChatAppApi, WeChatHttpClient } from '../../src/wechat/api-client';
import { WXBizMsgCrypt } from '../../src/wechat/crypto';
import { WeComClient } from '../../src/wechat/wecom-client';
import { FAKE_APP, FAKE_WECOM_APP } from '../fakes/wechat-api';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';
import { postPush, replyContent, startOfficialAccountHarness, textPushXml } from '../support/official-account';
import { knowledge, suggestions, TEST_DESK_CONFIG, understander, WECOM_AES_KEY, WECOM_TOKEN } from './desk-harness';

useTestDatabase(__filename);

const OPENID = 'oAngryCustomer0000000000001';
const replies = loadWechatConfig().replies;

/**
 * The "Done when": a complaint on the Official Account reaches the claims agent in WeCom as a card, the
 * agent's WeCom reply reaches the customer through the customer-service API, the agent ends, the bot answers again.
 * Real webhook, pipeline, desk and callback; only WeChat and WeCom are the local fake.
 */
describe('handoff to a human agent, end to end', () => {
  let oa: Awaited<ReturnType<typeof startOfficialAccountHarness>>;
  let desk: ReturnType<typeof createAgentDesk>;
  let deskHttp: Awaited<ReturnType<typeof serve>>;
  let crypt: WXBizMsgCrypt;
  let settings: AgentDeskSettings;
  let msgId = 5_000;

  beforeAll(async () => {
    oa = await startOfficialAccountHarness({ understander, knowledge });
    const conversations = new ConversationService(oa.events);
    const api = new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: oa.wechat.baseUrl }), appId: FAKE_APP.appId, appSecret: FAKE_APP.secret });
    const delivery = new UserDelivery((channel, userId, message, from) => conversations.recordOutbound({ channel, userId }, from.author, message, from.agentId));
    delivery.register('official-account', officialAccountPusher(api));
    settings = {
      corpId: FAKE_WECOM_APP.corpId, agentId: FAKE_WECOM_APP.agentId, secret: FAKE_WECOM_APP.corpSecret, token: WECOM_TOKEN,
      aesKey: WECOM_AES_KEY, apiBase: oa.wechat.baseUrl, maxClockSkewSeconds: 300, sweepIntervalMs: 3_600_000,
    };
    const logger = pino({ level: 'silent' });
    desk = createAgentDesk({
      settings, delivery, conversations, events: oa.events, logger,
      suggest: (text) => (text.includes('理赔') || text.includes('到账') ? suggestions : []),
      config: parseAgentDeskConfig(TEST_DESK_CONFIG), replies,
      wecom: new WeComClient({ http: new WeChatHttpClient({ baseUrl: oa.wechat.baseUrl }), corpId: settings.corpId, agentId: settings.agentId, corpSecret: settings.secret }),
    });
    deskHttp = await serve(createApp({ logger, bodyLimitBytes: 64 * 1024, routers: desk.routers }));
    crypt = new WXBizMsgCrypt({ token: WECOM_TOKEN, encodingAESKey: WECOM_AES_KEY, receiveId: settings.corpId });
    await desk.start();
    // 张三 (claims) and 李四 (policy service) are at work.
    await desk.directory.setStatus('zhangsan', 'on_duty');
    await desk.directory.setStatus('lisi', 'on_duty');
  });
  afterAll(async () => {
    await desk.stop();
    await oa.events.settled();
    await deskHttp.close();
    await oa.stop();
  });

  const customerWrites = async (text: string) => {
    oa.wechat.userMessaged(OPENID); // WeChat opens the 48 h customer-service window when the user writes
    const res = await postPush(oa.baseUrl, textPushXml(OPENID, text), { safe: oa.crypt });
    expect(res.status).toBe(200);
    const body = await res.text();
    await oa.events.settled();
    return body === 'success' ? undefined : replyContent(body, oa.crypt);
  };

  const agentWrites = async (agentId: string, text: string) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(++msgId);
    const xml = `<xml><ToUserName><![CDATA[${settings.corpId}]]></ToUserName><FromUserName><![CDATA[${agentId}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${msgId}</MsgId><AgentID>${settings.agentId}</AgentID></xml>`;
    const encrypt = crypt.encrypt(xml);
    const res = await fetch(`${deskHttp.baseUrl}/wechat/wecom?msg_signature=${crypt.signature(timestamp, nonce, encrypt)}&timestamp=${timestamp}&nonce=${nonce}`, {
      method: 'POST', headers: { 'content-type': 'text/xml' },
      body: `<xml><ToUserName><![CDATA[${settings.corpId}]]></ToUserName><AgentID><![CDATA[${settings.agentId}]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await oa.events.settled();
  };

  const wecomTo = (agentId: string) => oa.wechat.sent.wecom.filter((m) => m.touser === agentId);
  const customerServiceTexts = () => oa.wechat.sent.custom.filter((m) => m.touser === OPENID).map((m) => (m.body as { text: { content: string } }).text.content);

  it('complaint → card to the claims agent → WeCom reply reaches the customer → end → the bot answers again', async () => {
    // 1. The complaint is handed off, for the complaint and the anger.
    const handoffReply = await customerWrites('我要投诉，理赔拖了一个月了还没到账');
    expect(handoffReply).toBe(replies.handoff);
    const handoffMessage = await Message.findOne({ conversationId: `official-account:${OPENID}`, direction: 'in' }).lean();
    expect(handoffMessage?.decision).toMatchObject({ action: 'handoff', reasons: ['complaint', 'negative_emotion'] });

    // 2. The card reaches 张三, who has the claims skill, and nobody else.
    const toZhangsan = wecomTo('zhangsan');
    expect(toZhangsan.map((m) => m.msgtype)).toEqual(['textcard', 'text']);
    expect(wecomTo('lisi')).toEqual([]);
    const card = (toZhangsan[0].body as { textcard: { title: string; description: string; url: string } }).textcard;
    expect(card.title).toMatch(/^人工客服请求 #\d+$/);
    expect(card.description).toContain('投诉、情绪激动');
    expect(card.description).toContain('愤怒 0.85');
    expect(card.description).toContain('诉求：理赔到账慢');
    expect(card.description).toContain('保单号：P2***********5678'); // masked
    expect(card.description).not.toContain('P2024110012345678');
    expect(card.description).toContain('金额：50000元');
    expect(Buffer.byteLength(card.description)).toBeLessThanOrEqual(512);
    const details = (toZhangsan[1].body as { text: { content: string } }).text.content;
    expect(details).toContain('客户：我要投诉，理赔拖了一个月了还没到账');
    expect(details).toContain(`机器人：${replies.handoff}`);
    expect(details).toContain('1. 理赔到账慢：非常抱歉让您久等');

    // 3. 张三 accepts and replies in WeCom; the customer gets it through the customer-service API.
    await agentWrites('zhangsan', '接入');
    expect(await readConversation(`official-account:${OPENID}`)).toMatchObject({ state: 'human', agentId: 'zhangsan' });
    await agentWrites('zhangsan', '您好，非常抱歉让您久等了，我马上为您催办，今天内给您答复。');
    expect(customerServiceTexts()).toEqual(['您好，非常抱歉让您久等了，我马上为您催办，今天内给您答复。']);
    expect(await Message.countDocuments({ conversationId: `official-account:${OPENID}`, direction: 'out', author: 'agent', agentId: 'zhangsan' })).toBe(1);

    // 4. The customer's next message goes to the agent, with the mood trend and suggested answers; the bot stays quiet.
    expect(await customerWrites('到底什么时候能到账？')).toBeUndefined();
    const assist = (wecomTo('zhangsan').at(-1)!.body as { text: { content: string } }).text.content;
    expect(assist).toContain('客户：到底什么时候能到账？');
    expect(assist).toContain('情绪：愤怒 0.85 → 愤怒 0.50（缓和）');
    expect(assist).toContain('参考话术');

    // 5. 张三 ends; the bot takes the conversation back and answers the next question.
    await agentWrites('zhangsan', '/end');
    expect(customerServiceTexts().at(-1)).toBe(replies.goodbyeAfterAgent);
    expect(await readConversation(`official-account:${OPENID}`)).toMatchObject({ state: 'bot' });
    expect(await customerWrites('怎么报案')).toBe('请在小程序「理赔」页在线报案，上传材料后3个工作日内审核。');
  });
});
