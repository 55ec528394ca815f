import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { wecomCallbackRoutes } from '../channels/wecom/callback';
import { purgeWeComReceipts } from '../channels/wecom/receipts';
import { loadWechatConfig, type ReplyTexts } from '../config/wechat-config';
import type { UserDelivery } from '../conversation/delivery';
import type { ConversationService } from '../conversation/service';
import type { ChannelName } from '../conversation/types';
import type { EventBus } from '../events/bus';
import type { Logger } from '../logging/logger';
import { customerTicketRoutes, staffLookupOf, staffTicketRoutes, type CustomerResolver } from '../tickets/routes';
import { TicketService, type SlaBreach } from '../tickets/service';
import type { CustomerTicketView } from '../tickets/types';
import { WeChatHttpClient } from '../wechat/api-client';
import { WeComClient } from '../wechat/wecom-client';
import { AuditLog } from './audit';
import { loadAgentDeskConfig, serviceHoursOf, slaTargetsOf, type AgentDeskConfig } from './config';
import { AgentDesk, type ClaimHandling, type DeskSweepReport, type SuggestFn } from './desk';
import { AgentDirectory } from './directory';
import { AgentMessenger, type WeComSender } from './messenger';
import { agentDeskRoutes } from './routes';
import type { AgentDeskSettings } from './settings';

export type { Suggestion } from './cards';
export type { ClaimHandling, SuggestFn } from './desk';
export type { ClaimChange } from './commands';
export { loadAgentDeskSettings, type AgentDeskSettings } from './settings';
export { loadAgentDeskConfig, type AgentDeskConfig } from './config';

export interface AgentDeskOptions {
  settings: AgentDeskSettings;
  delivery: Pick<UserDelivery, 'push'>;
  conversations: ConversationService;
  events: EventBus;
  /** Knowledge suggestions (话术) for a text: for cards, agent assist and /kb. */
  suggest: SuggestFn;
  /** Claims handling by WeCom command (/claim), from the insurance domain. */
  claims?: ClaimHandling;
  logger: Logger;
  /** wechat-config/agents.yaml unless given. */
  config?: AgentDeskConfig;
  /** wechat-config/replies.yaml unless given. */
  replies?: Pick<ReplyTexts, 'handoffQueued' | 'handoffNoAgent' | 'goodbyeAfterAgent'>;
  /** A WeComClient on WECOM_API_BASE unless given. */
  wecom?: WeComSender;
  now?: () => Date;
}

export interface AgentDeskSweepReport extends DeskSweepReport {
  slaBreaches: SlaBreach[];
  purgedReceipts: number;
}

/** Callback receipts are kept a day: far beyond the replay window, which refuses anything older first. */
const RECEIPT_RETENTION_MS = 24 * 3_600_000;

/**
 * Builds the human desk (agents, routing, WeCom relay and assist, tickets with SLA, audit) from its dependencies.
 * `routers`: the WeCom callback and the staff APIs. `start()` syncs agents.yaml, listens to conversation events and
 * sweeps on a timer; `sweep()` is the same pass on demand (tests drive it with a fake clock).
 */
export function createAgentDesk(options: AgentDeskOptions) {
  const now = options.now ?? (() => new Date());
  const config = options.config ?? loadAgentDeskConfig();
  const replies = options.replies ?? loadWechatConfig().replies;
  const { settings, logger } = options;
  const wecom =
    options.wecom ??
    new WeComClient({ http: new WeChatHttpClient({ baseUrl: settings.apiBase }), corpId: settings.corpId, agentId: settings.agentId, corpSecret: settings.secret });
  const messenger = new AgentMessenger(wecom, logger);
  const directory = new AgentDirectory(config, now);
  const audit = new AuditLog(options.events, now);
  const breachAlerts: { desk?: AgentDesk } = {};
  const tickets = new TicketService({
    conversations: options.conversations, events: options.events, slaTargets: slaTargetsOf(config), serviceHours: serviceHoursOf(config), now, delivery: options.delivery,
    onBreach: async (breach) => breachAlerts.desk?.alertBreach(breach),
  });
  const desk = new AgentDesk({
    config, replies, directory, messenger, audit, delivery: options.delivery, conversations: options.conversations,
    events: options.events, tickets, suggest: options.suggest, claims: options.claims, logger, now,
  });
  breachAlerts.desk = desk;

  const routers: Router[] = [
    wecomCallbackRoutes({ settings, handler: desk, logger, now }),
    agentDeskRoutes({ desk, directory, audit }),
    staffTicketRoutes(tickets, staffLookupOf(directory), (entry) => audit.record(entry)),
  ];

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const sweep = async (): Promise<AgentDeskSweepReport> => {
    const report = await desk.sweep();
    const slaBreaches = await tickets.sweepSla();
    const purgedReceipts = await purgeWeComReceipts(new Date(now().getTime() - RECEIPT_RETENTION_MS));
    return { ...report, slaBreaches, purgedReceipts };
  };

  return {
    desk,
    tickets,
    directory,
    audit,
    routers,
    sweep,
    /** 「我的工单」 for customers; `auth` is the customer session middleware, `resolveCustomer` reads who it found. */
    customerTicketRoutes(auth: Middleware, resolveCustomer: CustomerResolver, prefix?: string): Router {
      return customerTicketRoutes({ tickets, auth, resolveCustomer, prefix });
    },
    ticketsForUser(channel: ChannelName, userId: string): Promise<CustomerTicketView[]> {
      return tickets.ticketsForUser(channel, userId);
    },
    async start(): Promise<void> {
      await directory.sync();
      desk.listen();
      if (timer) return;
      timer = setInterval(() => {
        if (running) return; // one pass at a time per instance
        running = sweep()
          .then(
            () => undefined,
            (err: unknown) => { logger.error({ err }, 'agent desk sweep failed'); },
          )
          .finally(() => { running = undefined; });
      }, settings.sweepIntervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type AgentDeskHandle = ReturnType<typeof createAgentDesk>;
