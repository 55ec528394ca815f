import pino from 'pino';
import { createApp } from '../../src/app';
import { createAgentDesk, type ClaimHandling, type Suggestion } from '../../src/agents';
import { parseAgentDeskConfig, type AgentDeskConfigInput } from '../../src/agents/config';
import { Agent, AgentAction, AgentSeat, HeldReply, HeldReplyClaim, HumanSession, OpenSession } from '../../src/agents/models';
import type { AgentDeskSettings } from '../../src/agents/settings';
import { officialAccountPusher } from '../../src/channels/official-account/pusher';
import { loadWechatConfig } from '../../src/config/wechat-config';
import { UserDelivery } from '../../src/conversation/delivery';
import { ConversationState, Message, MessageClaim } from '../../src/conversation/models';
import { ConversationStates } from '../../src/conversation/states';
import { ConversationPipeline, type KnowledgeReader, type Understander } from '../../src/conversation/pipeline';
import { ConversationService } from '../../src/conversation/service';
import type { InboundMessage } from '../../src/conversation/types';
import { EventBus } from '../../src/events/bus';
import { Ticket } from '../../src/tickets/models';
import { WeChatAppApi, WeChatHttpClient } from '../../src/wechat/api-client';
import { WXBizMsgCrypt } from '../../src/wechat/crypto';
import { WeComClient } from '../../src/wechat/wecom-client';
import { FAKE_APP, FAKE_WECOM_APP, FakeWeChatApi } from '../fakes/wechat-api';
import { scriptedUnderstander } from '../support/fake-understander';
import { serve } from '../support/http';

export const WECOM_TOKEN = 'deskToken2026';
export const WECOM_AES_KEY = 'AgentDeskTestKey0123456789abcdefghijklmnopq';

/** A small contact centre: claims (张三 cap 2, 王五 cap 1), policy service (李四 cap 1), and a manager. */
export const TEST_DESK_CONFIG: AgentDeskConfigInput = {
  offer: { timeoutSeconds: 60, missedSetsBusy: true },
  queue: { averageHandleMinutes: 5, maxWaitMinutes: 30 },
  card: { url: 'https://cs.example.com/agent/sessions/{session}', recentTurns: 6, suggestions: 2 },
  teams: [
    { id: 'claims', name: '理赔组', skills: ['claim-progress', 'claim-report'], managers: ['zhaojl'] },
    { id: 'policy', name: '保单服务组', skills: ['policy-service'], managers: ['zhaojl'] },
  ],
  agents: [
    { id: 'zhangsan', name: '张三', team: 'claims', capacity: 2 },
    { id: 'wangwu', name: '王五', team: 'claims', capacity: 1 },
    { id: 'lisi', name: '李四', team: 'policy', capacity: 1 },
    { id: 'zhaojl', name: '赵经理', team: 'claims', role: 'manager', capacity: 0 },
  ],
  sla: {
    urgent: { firstResponseMinutes: 15, resolutionHours: 4 },
    high: { firstResponseMinutes: 30, resolutionHours: 24 },
    normal: { firstResponseMinutes: 120, resolutionHours: 72 },
    low: { firstResponseMinutes: 480, resolutionHours: 168 },
  },
};

export const knowledge: KnowledgeReader = {
  getSubIntent: (id) => ({
    'claim-progress/delay/too-slow': { id, name: '理赔到账慢', scenarioId: 'claim-progress', sensitive: false, needsProduct: false },
    'policy-service/info-change/phone': { id, name: '修改手机号', scenarioId: 'policy-service', sensitive: false, needsProduct: false },
    'claim-report/how/online': { id, name: '线上报案', scenarioId: 'claim-report', sensitive: false, needsProduct: false },
  } as Record<string, { id: string; name: string; scenarioId: string; sensitive: boolean; needsProduct: boolean }>)[id],
  selectSolution: async (id) => (id === 'claim-report/how/online' ? { id: `${id}|*|*`, text: '请在小程序「理赔」页在线报案，上传材料后3个工作日内审核。' } : { id: `${id}|*|*`, text: `答案:${id}` }),
};

/** Understanding by keyword: claims and policy questions, a complaint with anger, and a calmer follow-up. */
export const understander: Understander = scriptedUnderstander([
  {
    when: '投诉',
    candidates: [{ subIntentId: 'claim-progress/delay/too-slow', name: '理赔到账慢', confidence: 0.82 }],
    emotion: { label: 'anger', intensity: 0.85, polarity: 'negative' },
    entities: [
      { type: 'policy_number', value: 'P2024110012345678', text: 'P2024110012345678' },
      { type: 'amount', value: 50000, text: '5万' },
    ],
  },
  { when: '理赔', candidates: [{ subIntentId: 'claim-progress/delay/too-slow', name: '理赔到账慢', confidence: 0.8 }] },
  { when: '手机号', candidates: [{ subIntentId: 'policy-service/info-change/phone', name: '修改手机号', confidence: 0.8 }] },
  { when: '怎么报案', candidates: [{ subIntentId: 'claim-report/how/online', name: '线上报案', confidence: 0.93 }] },
  { when: '到底', emotion: { label: 'anger', intensity: 0.5, polarity: 'negative' } },
]);

export const suggestions: Suggestion[] = [
  { subIntentId: 'claim-progress/delay/too-slow', name: '理赔到账慢', answer: '非常抱歉让您久等，理赔款审核通过后1-3个工作日到账，我马上为您催办。' },
  { subIntentId: 'claim-progress/query/status', name: '查询理赔进度', answer: '可在小程序「我的理赔」查看每一步进度。' },
];

export type DeskHarness = Awaited<ReturnType<typeof startDeskHarness>>;

/**
 * The desk with the real pipeline, ConversationService and Official Account pusher, the fake WeChat/WeCom API,
 * the callback served on loopback, and a clock the test moves.
 */
export async function startDeskHarness(options: { config?: AgentDeskConfigInput; start?: Date; claims?: ClaimHandling } = {}) {
  const wechat = await FakeWeChatApi.start({ wecomApps: [{ ...FAKE_WECOM_APP, members: ['zhangsan', 'wangwu', 'lisi', 'zhaojl'] }] });
  const clock = { now: options.start ?? new Date('2026-03-02T02:00:00Z') };
  const now = () => clock.now;
  const listenerErrors: unknown[] = [];
  const events = new EventBus((_event, err) => listenerErrors.push(err));
  const states = new ConversationStates();
  const conversations = new ConversationService(events, states);
  const pipeline = new ConversationPipeline({ understander, knowledge, config: loadWechatConfig(), events, now, states });
  const oa = new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: wechat.baseUrl }), appId: FAKE_APP.appId, appSecret: FAKE_APP.secret });
  const delivery = new UserDelivery((channel, userId, message, from) => conversations.recordOutbound({ channel, userId }, from.author, message, from.agentId));
  delivery.register('official-account', officialAccountPusher(oa));
  const settings: AgentDeskSettings = {
    corpId: FAKE_WECOM_APP.corpId, agentId: FAKE_WECOM_APP.agentId, secret: FAKE_WECOM_APP.corpSecret, token: WECOM_TOKEN,
    aesKey: WECOM_AES_KEY, apiBase: wechat.baseUrl, maxClockSkewSeconds: 300, sweepIntervalMs: 3_600_000,
  };
  const wecom = new WeComClient({ http: new WeChatHttpClient({ baseUrl: wechat.baseUrl }), corpId: settings.corpId, agentId: settings.agentId, corpSecret: settings.secret });
  const logger = pino({ level: 'silent' });
  const deskOn = (bus: EventBus) => createAgentDesk({
    settings, delivery, conversations, events: bus, logger, wecom, now,
    suggest: (text) => (text.includes('理赔') || text.includes('到账') ? suggestions : []),
    config: parseAgentDeskConfig(options.config ?? TEST_DESK_CONFIG),
    replies: loadWechatConfig().replies,
    claims: options.claims,
  });
  const desk = deskOn(events);
  const http = await serve(createApp({ logger, bodyLimitBytes: 64 * 1024, routers: desk.routers }));
  const crypt = new WXBizMsgCrypt({ token: WECOM_TOKEN, encodingAESKey: WECOM_AES_KEY, receiveId: settings.corpId });
  let counter = 0;
  let msgId = 9_000_000;

  const harness = {
    wechat, events, clock, pipeline, conversations, delivery, desk, settings, crypt, baseUrl: http.baseUrl, listenerErrors,
    advance(ms: number) { clock.now = new Date(clock.now.getTime() + ms); },
    /** The desk of a second server instance over the same database (listening to nothing: driven by the test). */
    anotherInstance() { return deskOn(new EventBus()); },
    /** Empties the database state the desk and the pipeline keep, and the fake's records; agents back off duty. */
    async reset() {
      await Promise.all([
        HumanSession.deleteMany({}), OpenSession.deleteMany({}), Agent.deleteMany({}), AgentAction.deleteMany({}), AgentSeat.deleteMany({}),
        HeldReply.deleteMany({}), HeldReplyClaim.deleteMany({}),
        Ticket.deleteMany({}), ConversationState.deleteMany({}), MessageClaim.deleteMany({}), Message.deleteMany({}),
      ]);
      states.forget();
      await desk.directory.sync();
      wechat.sent.wecom.length = 0;
      wechat.sent.custom.length = 0;
      listenerErrors.length = 0;
    },
    async onDuty(...ids: string[]) {
      for (const id of ids) await desk.directory.setStatus(id, 'on_duty');
    },
    /** A customer writes on the Official Account (which also opens their 48 h window at the fake). */
    async customerSays(userId: string, text: string, extra: Partial<InboundMessage> = {}) {
      wechat.userMessaged(userId);
      const result = await pipeline.handle({
        channel: 'official-account', userId, dedupeKey: `msg:${++counter}`, kind: 'text', text, receivedAt: clock.now, ...extra,
      });
      await events.settled();
      return result;
    },
    /** An agent types in WeCom (straight to the desk, without the HTTP callback). */
    async agentSays(agentId: string, text: string) {
      await desk.desk.receive({ fromUserId: agentId, kind: 'text', text, sentAt: clock.now });
      await events.settled();
    },
    /** The same through the encrypted callback, as WeCom posts it. */
    async postAgentMessage(agentId: string, text: string, options: { msgId?: number; timestamp?: number; crypt?: WXBizMsgCrypt; token?: string } = {}) {
      const timestamp = String(options.timestamp ?? Math.floor(clock.now.getTime() / 1000));
      const nonce = String(100000 + counter++);
      const xml = `<xml><ToUserName><![CDATA[${settings.corpId}]]></ToUserName><FromUserName><![CDATA[${agentId}]]></FromUserName><CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${options.msgId ?? ++msgId}</MsgId><AgentID>${settings.agentId}</AgentID></xml>`;
      const signer = options.crypt ?? crypt;
      const encrypt = signer.encrypt(xml);
      const signature = options.token ? new WXBizMsgCrypt({ token: options.token, encodingAESKey: WECOM_AES_KEY, receiveId: settings.corpId }).signature(timestamp, nonce, encrypt) : signer.signature(timestamp, nonce, encrypt);
      const body = `<xml><ToUserName><![CDATA[${settings.corpId}]]></ToUserName><AgentID><![CDATA[${settings.agentId}]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
      const res = await fetch(`${http.baseUrl}/wechat/wecom?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
      await events.settled();
      return res;
    },
    /** What WeCom delivered to one member, oldest first. */
    toAgent(agentId: string) {
      return wechat.sent.wecom.filter((m) => m.touser === agentId);
    },
    /** Texts (and textcard titles + descriptions) delivered to a member, for matching. */
    textsTo(agentId: string): string[] {
      return harness.toAgent(agentId).map((m) => {
        const body = m.body as { text?: { content: string }; textcard?: { title: string; description: string } };
        return body.text?.content ?? `${body.textcard?.title ?? ''}\n${body.textcard?.description ?? ''}`;
      });
    },
    /** Customer-service texts the customer received. */
    toCustomer(userId: string): string[] {
      return wechat.sent.custom.filter((m) => m.touser === userId).map((m) => (m.body as { text?: { content: string } }).text?.content ?? '');
    },
    /** Agent replies held for a customer (the channel refused them), oldest first. */
    async heldReplies(conversationUserId: string): Promise<string[]> {
      const session = await harness.session(conversationUserId);
      return (await HeldReply.find({ sessionId: session?._id }).sort({ at: 1, _id: 1 }).lean()).map((r) => r.text);
    },
    async session(conversationUserId: string) {
      return HumanSession.findOne({ userId: conversationUserId }).sort({ createdAt: -1 }).lean();
    },
    async stop() {
      await desk.stop();
      await events.settled();
      await http.close();
      await wechat.stop();
    },
  };
  await desk.start();
  return harness;
}
