import type Router from '@koa/router';
import type { AppConfig } from './config';
import type { Logger } from './logging/logger';
import { pingDatabase } from './db/connection';
import { healthRoutes } from './health/routes';
import { KnowledgeBase } from './knowledge/service';
import { agentKnowledgeRoutes } from './knowledge/routes';
import { importKnowledgeDirectory } from './knowledge/importer';
import { Scenario } from './knowledge/models';
import { KNOWLEDGE_DIR } from './knowledge/source';

export interface Platform {
  knowledge: KnowledgeBase;
  routers: Router[];
  stop(): Promise<void>;
}

/**
 * Wires the domains together for one server instance. Everything shared between instances lives in the
 * database; what is held here (indexes, models) is derived and refreshed from it.
 */
export async function createPlatform(config: AppConfig, logger: Logger, databaseKind: string): Promise<Platform> {
  if ((await Scenario.estimatedDocumentCount()) === 0) {
    logger.info('empty knowledge store: importing knowledge/');
    const report = await importKnowledgeDirectory(KNOWLEDGE_DIR, { by: 'startup-seed' });
    logger.info({ changes: report.changes.length }, 'knowledge imported');
  }
  const knowledge = new KnowledgeBase();
  await knowledge.refreshIfChanged();
  knowledge.startAutoRefresh(config.KNOWLEDGE_REFRESH_MS, (err) => logger.error({ err }, 'knowledge refresh failed'));
  logger.info({ subIntents: knowledge.size, revision: knowledge.revision }, 'knowledge loaded');

  return {
    knowledge,
    routers: [healthRoutes(() => pingDatabase(), databaseKind), agentKnowledgeRoutes(knowledge)],
    stop: async () => { knowledge.stopAutoRefresh(); },
  };
}
