import path from 'node:path';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { AppConfig } from './config';
import { loadWechatConfig } from './config/wechat-config';
import type { Logger } from './logging/logger';
import { pingDatabase } from './db/connection';
import { REPO_ROOT } from './db/open';
import { staticSiteRoutes } from './http/static-site';
import { EventBus } from './events/bus';
import { healthRoutes } from './health/routes';
import { KnowledgeBase } from './knowledge/service';
import { agentKnowledgeRoutes } from './knowledge/routes';
import { importKnowledgeDirectory, knowledgeDirChangedSinceImport } from './knowledge/importer';
import { Scenario } from './knowledge/models';
import { KNOWLEDGE_DIR } from './knowledge/source';
import { ConversationPipeline } from './conversation/pipeline';
import { ConversationStates } from './conversation/states';
import { ConversationService } from './conversation/service';
import { startConversationHousekeeping } from './conversation/housekeeping';
import { UserDelivery, type ChannelPusher } from './conversation/delivery';
import type { UnderstandingFactory } from './understanding';
import { officialAccountSettings } from './channels/official-account/settings';
import { officialAccountPusher } from './channels/official-account/pusher';
import { ReplyDelivery } from './channels/official-account/reply-delivery';
import { officialAccountRoutes } from './channels/official-account/webhook';
import { WeChatAppApi, WeChatHttpClient } from './wechat/api-client';
import { createAgentDesk, loadAgentDeskSettings } from './agents';
import { createInsight, loadInsightSettings } from './analytics';
import { WeComClient } from './wechat/wecom-client';
import { setupInsurance } from './insurance/setup';
import { coolingOffPeriods } from './insurance/cooling-off';
import { loadProductCatalog } from './insurance/products';
import { insuranceLiveAnswers } from './insurance/live-answers';
import { agentClaimHandling } from './insurance/agent-claims';
import { requireUser } from './channels/miniprogram-api/sessions';
import { miniProgramChatRoutes, miniProgramPusher, staffChatImageRoutes, type ChatUserResolver } from './channels/miniprogram-chat/routes';
import { ChatImages } from './channels/miniprogram-chat/images';

export interface Platform {
  knowledge: KnowledgeBase;
  events: EventBus;
  pipeline: ConversationPipeline;
  conversations: ConversationService;
  delivery: UserDelivery;
  routers: Router[];
  /** Called with the composed Koa app, for domains that serve pages or static files. */
  mount?(app: Koa): void;
  /** Stops every part in turn; `onStep` hears the name of each before it is awaited (a shutdown that hangs can say where). */
  stop(onStep?: (step: string) => void): Promise<void>;
}

/** How often superseded conversation snapshots and old message claims are deleted. */
const CONVERSATION_HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

const unreachable = (detail: string): ChannelPusher => ({ push: async () => ({ ok: false, reason: 'user_unreachable', detail }) });

/**
 * Wires the domains together for one server instance. Everything shared between instances lives in the
 * database; what is held here (indexes, models) is derived from it and refreshed when it changes.
 */
export async function createPlatform(
  config: AppConfig,
  logger: Logger,
  databaseKind: string,
  createUnderstanding: UnderstandingFactory,
): Promise<Platform> {
  const events = new EventBus((event, err) => logger.error({ err, event }, 'event listener failed'));
  const wechatConfig = loadWechatConfig();
  const stops: Array<[name: string, stop: () => void | Promise<void>]> = [];

  if ((await Scenario.estimatedDocumentCount()) === 0) {
    logger.info('empty knowledge store: importing knowledge/');
    const report = await importKnowledgeDirectory(KNOWLEDGE_DIR, { by: 'startup-seed' });
    logger.info({ changes: report.changes.length }, 'knowledge imported');
  } else if (await knowledgeDirChangedSinceImport(KNOWLEDGE_DIR)) {
    // Not imported here: several instances may be starting, and an operator may want the dry run first.
    logger.warn({ dir: KNOWLEDGE_DIR }, 'knowledge/ has changed since it was last imported: `npm run knowledge:import` loads it (add `-- --dry-run` to see the diff first)');
  }
  const knowledge = new KnowledgeBase();
  await knowledge.refreshIfChanged();
  knowledge.startAutoRefresh(config.KNOWLEDGE_REFRESH_MS, (err) => logger.error({ err }, 'knowledge refresh failed'));
  stops.push(['knowledge refresh', () => knowledge.stopAutoRefresh()]);
  logger.info({ subIntents: knowledge.size, revision: knowledge.revision }, 'knowledge loaded');

  const understanding = await createUnderstanding(knowledge, logger);
  stops.push(['understanding', () => understanding.stop()]);
  const states = new ConversationStates();
  // Read once: the conversation needs the products' cooling-off periods, the insurance domain sells them.
  const catalog = loadProductCatalog();
  // Human agents in WeCom: on when the WECOM_* settings are present.
  const wecom = loadAgentDeskSettings();
  const pipeline = new ConversationPipeline({
    understander: understanding.understander, knowledge, config: wechatConfig, events,
    staleClaimMs: config.CONVERSATION_STALE_CLAIM_MS, liveAnswers: insuranceLiveAnswers, states, humanDesk: Boolean(wecom),
    coolingOffDays: coolingOffPeriods(catalog),
  });
  const conversations = new ConversationService(events, states);
  stops.push(['conversation housekeeping', startConversationHousekeeping(states, CONVERSATION_HOUSEKEEPING_INTERVAL_MS, logger)]);
  const delivery = new UserDelivery((channel, userId, message, from) => conversations.recordOutbound({ channel, userId }, from.author, message, from.agentId));
  const routers: Router[] = [healthRoutes({ isDatabaseReady: () => pingDatabase(), databaseKind, intentModel: () => understanding.intentModel() }), agentKnowledgeRoutes(knowledge)];

  const oa = officialAccountSettings(config);
  if (oa) {
    const api = oa.secret
      ? new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: config.WECHAT_API_BASE }), appId: oa.appId, appSecret: oa.secret })
      : undefined;
    const pusher = api ? officialAccountPusher(api) : unreachable('Official Account without WECHAT_OA_SECRET cannot push messages');
    delivery.register('official-account', pusher);
    const replies = new ReplyDelivery({ pipeline, pusher, budgetMs: config.WECHAT_OA_REPLY_BUDGET_MS, logger });
    replies.startRecovery(config.RECOVERY_INTERVAL_MS, config.CONVERSATION_STALE_CLAIM_MS);
    stops.push(['customer-service replies in flight', async () => { replies.stopRecovery(); await replies.settled(); }]);
    routers.push(officialAccountRoutes({ settings: oa, delivery: replies }));
    logger.info({ appId: oa.appId, demo: oa.demo, encrypted: Boolean(oa.aesKey) }, oa.demo ? 'Official Account webhook: demo account (wechat-config/demo-official-account.json)' : 'Official Account webhook ready');
  }

  // Policies, claims and payments inside WeChat; the mini-program's login guards its routes and its chat.
  const insurance = setupInsurance({ config, logger, delivery, catalog });
  stops.push(['insurance', () => insurance.stop()]);
  routers.push(...insurance.routers);
  const miniProgramUser = requireUser(insurance.sessions);
  const resolveMiniProgramUser: ChatUserResolver = async (ctx) => {
    await miniProgramUser(ctx, async () => {});
    return { userId: ctx.state.customer!.mpOpenId };
  };
  delivery.register('miniprogram', miniProgramPusher);
  const chatImages = new ChatImages(insurance.documents);
  routers.push(miniProgramChatRoutes({ pipeline, conversations, resolveUser: resolveMiniProgramUser, images: chatImages }));
  routers.push(staffChatImageRoutes({ images: chatImages }));
  // The same app for a browser: the h5 build calls /api on the origin that served it.
  routers.push(staticSiteRoutes({
    prefix: '/h5', root: path.resolve(REPO_ROOT, config.MINIPROGRAM_H5_DIR),
    notBuiltMessage: 'the mini-program h5 build is missing: run `npm run build:h5` (or set MINIPROGRAM_H5_DIR)',
  }));

  if (wecom) {
    const desk = createAgentDesk({
      settings: wecom, delivery, conversations, events, logger, replies: wechatConfig.replies,
      claims: agentClaimHandling(insurance.insurance.claims),
      suggest: async (text) => Promise.all(
        knowledge.search(text, { k: 3 }).map(async (hit) => ({
          subIntentId: hit.id, name: hit.name, answer: (await knowledge.selectSolution(hit.id))?.text ?? '',
        })),
      ),
    });
    await desk.start();
    stops.push(['agent desk', () => desk.stop()]);
    routers.push(...desk.routers);
    routers.push(desk.customerTicketRoutes(miniProgramUser, (ctx) => ({ channel: 'miniprogram', userId: ctx.state.customer!.mpOpenId })));
    logger.info({ corpId: wecom.corpId, agentId: wecom.agentId }, 'WeCom agent desk ready');
  } else {
    logger.info('WeCom agent desk off (no WECOM_* settings): a handoff is recorded and the user is pointed to the hotline (replies.yaml handoffUnavailable); the bot keeps serving');
  }

  // Quality inspection, agent alerts, hot issues and forecasts, the learning knowledge base, the manager dashboard.
  const insight = createInsight({
    events, knowledge, logger,
    settings: loadInsightSettings(process.env, { wecomSignIn: Boolean(wecom), demo: config.NODE_ENV !== 'production' }),
    answerConfidence: wechatConfig.handoffRules.answer.minConfidence,
    readEmotion: (text) => understanding.readEmotion(text),
    wecom: wecom
      ? {
          client: new WeComClient({ http: new WeChatHttpClient({ baseUrl: wecom.apiBase }), corpId: wecom.corpId, agentId: wecom.agentId, corpSecret: wecom.secret }),
          apiBase: wecom.apiBase,
        }
      : undefined,
  });
  await insight.start();
  stops.push(['analytics', () => insight.stop()]);
  routers.push(...insight.routers);

  if (process.env.WECHATY_PUPPET) {
    // Loaded only when asked for: Wechaty and its puppets are heavy.
    const { WechatyBuilder } = await import('wechaty');
    const { attachWechatyChannel } = await import('./channels/wechaty/channel');
    const bot = WechatyBuilder.build({ name: 'insurance-cs' });
    delivery.register('wechaty', attachWechatyChannel(bot, { pipeline, logger }));
    bot.on('scan', (qrcode) => logger.info({ qrcode }, 'wechaty: scan to log in'));
    await bot.start();
    stops.push(['wechaty', () => bot.stop()]);
    logger.info({ puppet: process.env.WECHATY_PUPPET }, 'Wechaty channel started');
  }

  return {
    knowledge, events, pipeline, conversations, delivery, routers,
    stop: async (onStep) => {
      for (const [name, stop] of stops.reverse()) {
        onStep?.(name);
        await stop();
      }
      onStep?.('event listeners');
      await events.settled();
      onStep?.('metric counts');
      await insight.buckets.flush(); // what the last events counted
    },
  };
}
