import { parentPort, workerData } from 'node:worker_threads';
import { BlendedUnderstander } from '../conversation/understand';
import { connectDatabase } from '../db/connection';
import { KnowledgeBase } from '../knowledge/service';
import { createLogger } from '../logging/logger';
import { createLanguageModels } from '../nlu/language-models';
import type { UnderstandingReply, UnderstandingRequest, UnderstandingWorkerData } from './protocol';

/**
 * Runs in a worker thread (see worker-understander.ts): its own knowledge base, refreshed from the database like
 * the serving thread's, and its own language models; answers one understanding request per message.
 */
async function serve(): Promise<void> {
  const settings = workerData as UnderstandingWorkerData;
  const logger = createLogger(settings.logLevel).child({ thread: 'understanding' });
  await connectDatabase(settings.mongodbUri);
  const knowledge = new KnowledgeBase({ answers: 'generic' }); // retrieval reads only the generic answers
  await knowledge.refreshIfChanged();
  knowledge.startAutoRefresh(settings.knowledgeRefreshMs, (err) => logger.error({ err }, 'knowledge refresh failed'));
  const models = await createLanguageModels(knowledge, logger, { modelDir: settings.modelDir });
  const understander = new BlendedUnderstander(models, knowledge);
  const port = parentPort!;
  port.on('message', (request: UnderstandingRequest) => {
    understander.understand(request.text, new Date(request.now)).then(
      (understanding) => port.postMessage({ id: request.id, understanding } satisfies UnderstandingReply),
      (err: unknown) => port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies UnderstandingReply),
    );
  });
  port.postMessage({ ready: true } satisfies UnderstandingReply);
}

serve().catch((err: unknown) => {
  throw err; // surfaces as the worker's 'error' event
});
