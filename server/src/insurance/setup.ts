import path from 'node:path';
import type Router from '@koa/router';
import type { AppConfig } from '../config';
import { ConfigError } from '../config';
import type { UserDelivery } from '../conversation/delivery';
import type { Logger } from '../logging/logger';
import { demoMiniProgramLogin } from '../channels/miniprogram-api/demo-login';
import { MiniProgramSessions } from '../channels/miniprogram-api/sessions';
import { miniProgramRoutes } from '../channels/miniprogram-api/routes';
import { DemoPaymentGateway } from '../payments/demo-gateway';
import { wechatPayGateway } from '../payments/gateway';
import { payNotifyRoutes } from '../payments/routes';
import { loadPaySettings } from '../payments/settings';
import { defaultDocumentStorage, type DocumentStorage } from '../storage';
import { WeChatAppApi, WeChatHttpClient } from '../wechat/api-client';
import { createInsurance, startInsuranceJobs, type Insurance } from './index';
import { SubscriptionNotifier } from './notices';
import type { ProductCatalog } from './products';
import { loadInsuranceSettings } from './settings';
import { staffClaimRoutes } from './staff-routes';

const REPO_ROOT = path.resolve(__dirname, '../../..');

export interface InsuranceSetup {
  insurance: Insurance;
  sessions?: MiniProgramSessions;
  /** Mini-program API, staff claims API, and (with WeChat Pay configured) the pay notify callbacks. */
  routers: Router[];
  /** Where uploaded files go and how large one may be: claim documents, and chat photos (same store, same limit). */
  documents: { storage: DocumentStorage; maxBytes: number };
  stop(): Promise<void>;
}

/**
 * Builds the insurance domain, mini-program login and WeChat Pay from the environment, for platform.ts and the CLIs.
 * Without WECHAT_MP_* the user routes answer 503, except on a server with no WeChat settings at all outside
 * production, where a demo login and demo payments serve the h5 preview; with WECHAT_MP_* but no WECHATPAY_* orders
 * cannot be paid.
 */
export function setupInsurance(options: {
  config: AppConfig;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Lets notices fall back to Official Account followers. */
  delivery?: Pick<UserDelivery, 'push'>;
  storage?: DocumentStorage;
  /** false for one-shot CLIs. */
  startJobs?: boolean;
  /** The products on sale, when the caller has read them already (default: knowledge/products). */
  catalog?: ProductCatalog;
}): InsuranceSetup {
  const env = options.env ?? process.env;
  const settings = loadInsuranceSettings(env);
  const pay = loadPaySettings(env);
  const mp = settings.miniProgram;
  if (pay && !mp) throw new ConfigError(['WECHAT_MP_APPID: is required for WeChat Pay (payments are taken in the mini-program)']);

  const storage = options.storage ?? defaultDocumentStorage(REPO_ROOT, options.config.DATA_DIR, settings.documentStorageDir);
  const wechat = mp ? new WeChatAppApi({ http: new WeChatHttpClient({ baseUrl: mp.apiBase }), appId: mp.appId, appSecret: mp.secret }) : undefined;
  // Like the Official Account's demo account: outside production, a server with no WeChat settings at all is one to
  // try out. Any real account configured means a real deployment, where free demo policies must never be issued.
  const demo = !mp && options.config.NODE_ENV !== 'production' && !options.config.WECHAT_OA_APPID && !env.WECOM_CORP_ID;
  const demoPayments = demo
    ? new DemoPaymentGateway({
      onPaid: (transaction) => insurance.purchases.onPaymentSucceeded(transaction),
      onError: (err, orderId) => options.logger.error({ err, orderId }, 'demo payment could not be settled'),
    })
    : undefined;
  const insurance: Insurance = createInsurance({
    catalog: options.catalog,
    payments: pay && mp ? wechatPayGateway(pay, mp.appId) : demoPayments,
    notifier: new SubscriptionNotifier({
      sender: wechat,
      templates: mp?.templates ?? {},
      miniProgramState: mp?.state,
      delivery: options.delivery,
      logger: options.logger,
    }),
    storage,
    maxDocumentBytes: settings.maxDocumentBytes,
    renewalReminderDays: settings.renewalReminderDays,
    logger: options.logger,
  });
  const login = wechat ?? (demo ? demoMiniProgramLogin : undefined);
  const sessions = login ? new MiniProgramSessions(login, settings.sessions) : undefined;
  // A warning: whoever reaches this server can sign in as any demo customer (a login code is all it takes).
  if (demo) options.logger.warn('mini-program: demo login (any login code is a demo customer) and demo payments (paid at once), for trying it out only; set NODE_ENV=production on a reachable server, and WECHAT_MP_* / WECHATPAY_* for real ones');

  const routers = [miniProgramRoutes({ insurance, sessions }), staffClaimRoutes({ insurance })];
  if (pay && mp) {
    routers.push(
      payNotifyRoutes({
        mchid: pay.mchid,
        apiV3Key: pay.apiV3Key,
        platformPublicKeys: pay.platformPublicKeys,
        appIds: [mp.appId],
        handler: insurance.purchases,
      }),
    );
  }
  const stopJobs =
    options.startJobs === false
      ? () => {}
      : startInsuranceJobs(() => insurance.housekeeping(sessions ? [() => sessions.purgeExpired()] : []), settings.jobIntervalMinutes);
  return {
    insurance,
    sessions,
    routers,
    documents: { storage, maxBytes: settings.maxDocumentBytes },
    stop: async () => {
      stopJobs();
      await insurance.notices.settled();
    },
  };
}
