import { randomInt } from 'node:crypto';
import pino from 'pino';
import { createInsight, loadInsightSettings, type Insight } from '../src/analytics';
import { parseArgs, runCli, CliUsageError } from '../src/cli/args';
import { loadConfig } from '../src/config';
import { loadWechatConfig } from '../src/config/wechat-config';
import { readDemoOfficialAccount } from '../src/channels/official-account/settings';
import { Message } from '../src/conversation/models';
import { ConversationStates } from '../src/conversation/states';
import { ConversationPipeline } from '../src/conversation/pipeline';
import { BlendedUnderstander } from '../src/conversation/understand';
import type { EmotionReading, InboundMessage } from '../src/conversation/types';
import { openDatabase } from '../src/db/open';
import { EventBus } from '../src/events/bus';
import { importKnowledgeDirectory } from '../src/knowledge/importer';
import { Scenario } from '../src/knowledge/models';
import { KnowledgeBase } from '../src/knowledge/service';
import { KNOWLEDGE_DIR } from '../src/knowledge/source';
import { computeCallbackSignature, WXBizMsgCrypt } from '../src/wechat/crypto';
import { mulberry32 } from '../src/util/seeded-random';

/**
 * `npm run simulate:traffic`: days of realistic customer-service traffic, so the dashboard, the inspection and the
 * detectors have something real to show.
 *
 * Two parts, because WeChat pushes cannot carry the past (the webhook refuses timestamps more than 5 minutes off,
 * and the pipeline stamps messages with its own clock):
 *  - history (`--days`, default 7): written *through the conversation pipeline* in this process, with a simulated
 *    clock, against the server's database (MONGODB_URI, or the embedded one when no server is using it): a daily
 *    rhythm, quieter weekends, hand-offs answered by simulated agents (one of whom turns rude on the last day), and
 *    on the last afternoon a surge of claim reports and a wave of a new, unanswered question.
 *  - live (`--live-minutes`, with `--url`): signed, encrypted Official Account pushes to a running server, exactly as
 *    WeChat sends them (the demo account unless WECHAT_OA_* are set), with the same wave, so the live chart moves.
 */

const NEUTRAL: EmotionReading = { label: 'none', intensity: 0, polarity: 'neutral' };

/** A keyword reading of the customer's mood, standing in for the emotion model. */
export function simulatedEmotion(text: string): EmotionReading {
  if (/投诉|太慢|气死|垃圾|骗子|差评|过分/.test(text)) return { label: 'anger', intensity: 0.8, polarity: 'negative' };
  if (/担心|害怕|怎么办/.test(text)) return { label: 'fear', intensity: 0.5, polarity: 'negative' };
  if (/谢谢|太好了|满意|感谢/.test(text)) return { label: 'happiness', intensity: 0.6, polarity: 'positive' };
  return NEUTRAL;
}

/** Traffic over the day, 0..1 by Beijing hour: quiet at night, peaks mid-morning and in the evening. */
export function dailyShape(hour: number): number {
  const bump = (centre: number, width: number) => Math.exp(-((hour - centre) ** 2) / (2 * width * width));
  return 0.06 + 0.9 * bump(10.5, 2.2) + 0.7 * bump(20, 1.8) + 0.35 * bump(15, 2.5);
}

export const NEW_TOPIC_WAVE = [
  '打完新冠疫苗出现不良反应保险管不管', '疫苗不良反应保险管吗', '接种疫苗后出现不良反应能赔吗', '疫苗的不良反应在保障范围内吗',
  '打疫苗有不良反应保险赔不赔', '孩子打疫苗后不良反应保险管吗', '疫苗接种不良反应保不保', '新冠疫苗不良反应住院能报销吗',
];
const CHITCHAT = ['你们公司在哪', '客服几点下班', '今天天气怎么样', '你是机器人吗', '公众号怎么改名字了'];
const ANGRY = ['你们理赔太慢了，我要投诉！', '气死我了，到现在还没赔', '什么垃圾服务，转人工'];
const AGENT_ANSWERS = ['已为您查询，材料已审核通过，预计3个工作日到账。', '还需要补充出院小结和费用清单，在小程序上传即可。', '可以在保单服务里修改，需要上传身份证明。'];
const VACCINE_ANSWER = '疫苗接种后的不良反应：如需住院治疗，属于医疗险的保障范围；意外险不保障疫苗反应，具体以保单条款为准。';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BEIJING = 8 * HOUR;


function poisson(mean: number, random: () => number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do { k++; p *= random(); } while (p > limit);
  return k - 1;
}

export interface TrafficSimulationOptions {
  pipeline: Pick<ConversationPipeline, 'handle'>;
  events: EventBus;
  insight: Pick<Insight, 'sweep'>;
  knowledge: Pick<KnowledgeBase, 'allSubIntents'>;
  /** Moves the simulated clock every component reads. */
  setClock(ms: number): void;
  /** The simulation runs up to this instant. */
  end: Date;
  days: number;
  /** Customer questions in the busiest hour of a weekday. */
  peakPerHour: number;
  seed: number;
  agents: string[];
  /** This agent turns rude and slow in the last afternoon. */
  misbehavingAgent?: string;
  onDay?(day: Date, messages: number): void;
}

export interface TrafficSimulationReport {
  messages: number;
  handoffs: number;
  agentSessions: number;
}

/** Writes `days` days of traffic through the pipeline, ending at `end`, with the last afternoon's surge and wave. */
export async function simulateTraffic(options: TrafficSimulationOptions): Promise<TrafficSimulationReport> {
  const random = mulberry32(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const subIntents = options.knowledge.allSubIntents().filter((s) => s.questions.length);
  if (!subIntents.length) throw new Error('the knowledge base is empty: import knowledge/ first (npm run knowledge:import)');
  // A few topics are asked far more often than others (Zipf-like).
  const weights = subIntents.map((_, i) => 1 / (1 + i) ** 0.8);
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  const pickSubIntent = () => {
    let r = random() * totalWeight;
    for (let i = 0; i < subIntents.length; i++) if ((r -= weights[i]) <= 0) return subIntents[i];
    return subIntents[0];
  };
  const claims = subIntents.filter((s) => s.scenarioId.startsWith('claim'));
  const end = options.end.getTime();
  const start = end - options.days * DAY;
  const surgeFrom = end - 3 * HOUR;
  const report: TrafficSimulationReport = { messages: 0, handoffs: 0, agentSessions: 0 };
  let users = 0;
  let dedupe = 0;
  let agentTurn = 0;
  const states = new ConversationStates();

  const send = async (userId: string, text: string, at: number) => {
    options.setClock(at);
    const inbound: InboundMessage = { channel: 'official-account', userId, dedupeKey: `sim:${at}:${++dedupe}`, kind: 'text', text, receivedAt: new Date(at) };
    const result = await options.pipeline.handle(inbound);
    await options.events.settled();
    report.messages++;
    return result;
  };

  /** An agent takes a handed-off conversation: stands in for the agent desk (accept, replies, close). */
  const agentSession = async (conversationId: string, userId: string, at: number, lastQuestion: string) => {
    const agentId = options.agents[agentTurn++ % options.agents.length];
    const misbehaving = agentId === options.misbehavingAgent && at >= end - 8 * HOUR;
    let t = at + (5 + random() * 40) * 1000;
    options.events.publish('agent.action', { actor: agentId, action: 'session.accept', conversationId, at: new Date(t) });
    const store = async (author: 'agent' | 'user', text: string, emotion?: EmotionReading) => {
      const id = `official-account:sim:${author}:${++dedupe}`;
      const common = { _id: id, conversationId, channel: 'official-account', userId, kind: 'text', text, status: 'done' as const, claimedAt: new Date(t), createdAt: new Date(t) };
      if (author === 'agent') await Message.create({ ...common, direction: 'out', author: 'agent', agentId, replies: [{ kind: 'text', text }] });
      else {
        await Message.create({
          ...common, direction: 'in', author: 'user', inbound: { receivedAt: new Date(t) }, replies: [],
          understanding: { candidates: [], entities: [], emotion: emotion ?? NEUTRAL }, decision: { action: 'relay_to_agent', reason: 'conversation is human' },
        });
      }
    };
    const agentWait = () => { t += (misbehaving ? 200 + random() * 250 : random() < 0.05 ? 130 : 10 + random() * 60) * 1000; };
    agentWait();
    await store('agent', misbehaving ? '什么事' : '您好，我是客服，很高兴为您服务。');
    t += (10 + random() * 30) * 1000;
    await store('user', '就是刚才问的问题');
    agentWait();
    const answer = NEW_TOPIC_WAVE.includes(lastQuestion) ? VACCINE_ANSWER : misbehaving ? '说了多少遍了，你自己去查' : pick(AGENT_ANSWERS);
    await store('agent', answer);
    t += (10 + random() * 30) * 1000;
    await store('user', misbehaving ? '你这什么态度，我要投诉' : '好的谢谢', misbehaving ? simulatedEmotion('投诉') : simulatedEmotion('谢谢'));
    t += 10_000;
    await store('agent', misbehaving ? '随便你' : '不客气，还有其他问题随时联系，再见！');
    // The session ends: the bot answers again (what the desk does through ConversationService.returnToBot).
    await states.change(conversationId, () => ({ state: 'bot', lastActivityAt: new Date(t), agentId: undefined, handoff: undefined }));
    options.setClock(t);
    options.events.publish('conversation.closed', { conversationId, by: 'agent', at: new Date(t) });
    await options.events.settled();
    report.agentSessions++;
  };

  let lastSweep = start;
  for (let t = start; t < end; t += 5 * 60_000) {
    const beijing = new Date(t + BEIJING);
    const hour = beijing.getUTCHours() + beijing.getUTCMinutes() / 60;
    const weekend = beijing.getUTCDay() === 0 || beijing.getUTCDay() === 6;
    const arrivals = poisson((options.peakPerHour / 12) * dailyShape(hour) * (weekend ? 0.7 : 1), random);
    const surge = t >= surgeFrom && t < surgeFrom + 75 * 60_000;
    const wave = t >= end - 2 * HOUR;
    const ordinary = () => {
      const roll = random();
      if (roll < 0.08) return pick(CHITCHAT);
      if (roll < 0.11) return pick(ANGRY);
      if (roll < 0.14) return '转人工';
      return pick(pickSubIntent().questions);
    };
    const texts = Array.from({ length: arrivals }, ordinary);
    if (surge && claims.length) for (let k = poisson(3, random); k > 0; k--) texts.push(pick(pick(claims).questions));
    if (wave) for (let k = poisson(1.8, random); k > 0; k--) texts.push(pick(NEW_TOPIC_WAVE));
    for (const text of texts) {
      const at = t + Math.floor(random() * 5 * 60_000);
      const userId = `o_sim_${++users}`;
      const first = await send(userId, text, at);
      if (first.decision.action === 'handoff') {
        report.handoffs++;
        await agentSession(first.conversationId, userId, at, text);
      } else if ((first.decision.action === 'fallback' || first.decision.action === 'clarify') && random() < 0.5) {
        // Some customers insist on a human after a miss.
        const again = await send(userId, '转人工', at + 40_000);
        if (again.decision.action === 'handoff') {
          report.handoffs++;
          await agentSession(again.conversationId, userId, at + 40_000, text);
        }
      } else if (random() < 0.25) {
        await send(userId, pick(pickSubIntent().questions), at + 60_000);
      }
    }
    // The sweeps a running server does on its timer: idle inspection, clustering, hot issues.
    if (t - lastSweep >= 2 * HOUR || t + 5 * 60_000 >= end) {
      options.setClock(t + 5 * 60_000);
      await options.insight.sweep();
      lastSweep = t;
    }
    if ((t - start) % DAY === 0) options.onDay?.(new Date(t), report.messages);
  }
  options.setClock(end);
  return report;
}

/** Live traffic: signed, encrypted Official Account pushes to a running server, as WeChat sends them. */
async function sendLive(baseUrl: string, minutes: number, seed: number): Promise<void> {
  const config = loadConfig();
  const demo = readDemoOfficialAccount();
  const account = config.WECHAT_OA_APPID && config.WECHAT_OA_TOKEN && config.WECHAT_OA_AES_KEY
    ? { appId: config.WECHAT_OA_APPID, token: config.WECHAT_OA_TOKEN, aesKey: config.WECHAT_OA_AES_KEY, ghId: 'gh_configured' }
    : demo;
  const crypt = new WXBizMsgCrypt({ token: account.token, encodingAESKey: account.aesKey, receiveId: account.appId });
  const random = mulberry32(seed);
  const questions = ['怎么报案', '理赔进度怎么查', '保单怎么查', '续保保费怎么变了', '转人工', ...NEW_TOPIC_WAVE];
  const deadline = Date.now() + minutes * 60_000;
  let msgId = BigInt(Date.now()) * 1000n;
  let sent = 0;
  while (Date.now() < deadline) {
    const openId = `o_live_${randomInt(1e9)}`;
    const text = questions[Math.floor(random() * questions.length)];
    const createTime = Math.floor(Date.now() / 1000);
    const xml = `<xml><ToUserName><![CDATA[${account.ghId}]]></ToUserName><FromUserName><![CDATA[${openId}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${msgId++}</MsgId></xml>`;
    const timestamp = String(createTime);
    const nonce = String(randomInt(1e9));
    const encrypt = crypt.encrypt(xml);
    const query = new URLSearchParams({
      signature: computeCallbackSignature(account.token, timestamp, nonce), timestamp, nonce, openid: openId,
      encrypt_type: 'aes', msg_signature: computeCallbackSignature(account.token, timestamp, nonce, encrypt),
    });
    const res = await fetch(`${baseUrl}/wechat/oa?${query}`, {
      method: 'POST', headers: { 'content-type': 'text/xml' }, signal: AbortSignal.timeout(10_000),
      body: `<xml><ToUserName><![CDATA[${account.ghId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
    });
    if (res.status !== 200) throw new Error(`${baseUrl}/wechat/oa answered HTTP ${res.status}: ${await res.text()}`);
    sent++;
    if (sent % 20 === 0) console.log(`live: ${sent} messages sent`);
    await new Promise((resolve) => setTimeout(resolve, 500 + random() * 2_500));
  }
  console.log(`live: ${sent} messages sent to ${baseUrl}`);
}

runCliIfMain();

function runCliIfMain(): void {
  if (require.main !== module) return;
  runCli(async () => {
    const args = parseArgs(process.argv.slice(2), { values: ['days', 'peak-per-hour', 'seed', 'url', 'live-minutes'] });
    const number = (name: string, fallback: number, min: number, max: number) => {
      const raw = args[name];
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min || value > max) throw new CliUsageError(`--${name} must be a number from ${min} to ${max}`);
      return value;
    };
    const days = number('days', 5, 0, 30);
    const liveMinutes = number('live-minutes', 0, 0, 120);
    if (liveMinutes > 0 && typeof args.url !== 'string') throw new CliUsageError('--live-minutes needs --url of the running server (e.g. --url http://127.0.0.1:3000)');

    if (days > 0) {
      const config = loadConfig();
      const logger = pino({ level: 'warn' });
      const db = await openDatabase(config, logger);
      try {
        if ((await Scenario.estimatedDocumentCount()) === 0) await importKnowledgeDirectory(KNOWLEDGE_DIR, { by: 'simulate-traffic' });
        const knowledge = new KnowledgeBase();
        await knowledge.refreshIfChanged();
        let clock = Date.now();
        const now = () => new Date(clock);
        const events = new EventBus((event, err) => logger.error({ err }, `${event} listener failed`));
        const wechat = loadWechatConfig();
        const understander = new BlendedUnderstander(
          { classifyIntents: () => [], extractEntities: () => [], readEmotion: simulatedEmotion }, knowledge,
        );
        const pipeline = new ConversationPipeline({ understander, knowledge, config: wechat, events, now });
        // The script signs nobody in: the dashboard's sign-in warnings are the server's business.
        // A replay waits for each message's effects: metric writes go out at once.
        const insight = createInsight({
          events, knowledge, now, logger, settings: { ...loadInsightSettings(), warnings: [] }, readEmotion: simulatedEmotion, metricLingerMs: 0,
        });
        await insight.start();
        await insight.stop(); // listeners only: the simulation sweeps on its own clock
        const end = new Date();
        console.log(`history: ${days} day(s) through the pipeline into ${db.database.description}`);
        const report = await simulateTraffic({
          pipeline, events, insight, knowledge, setClock: (ms) => { clock = ms; }, end, days,
          peakPerHour: number('peak-per-hour', 12, 1, 2_000), seed: number('seed', 8, 0, 2 ** 31),
          agents: ['zhangsan', 'lisi', 'zhouyu', 'chenjing', 'liuyang'], misbehavingAgent: 'liuyang',
          onDay: (day, messages) => console.log(`  ${day.toISOString().slice(0, 10)} … ${messages} messages so far`),
        });
        console.log(`history: ${report.messages} messages, ${report.handoffs} hand-offs, ${report.agentSessions} agent sessions`);
      } finally {
        await db.close();
      }
    }
    if (liveMinutes > 0) await sendLive(String(args.url).replace(/\/+$/, ''), liveMinutes, number('seed', 8, 0, 2 ** 31));
  });
}
