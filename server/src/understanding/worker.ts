import { parentPort, workerData } from 'node:worker_threads';
import { BlendedUnderstander } from '../conversation/understand';
import { KnowledgeBase } from '../knowledge/service';
import { createLogger } from '../logging/logger';
import { createLanguageModels } from '../nlu/language-models';
import { understandingCache } from './cache';
import type { UnderstandingReply, UnderstandingRequest, UnderstandingWorkerData } from './protocol';

/**
 * Runs in a worker thread (see worker-understander.ts): retrieval over the knowledge the serving thread sends
 * (at start and after each reload) and the language models trained from it; answers one request per message.
 * It reads no database: its knowledge is always the serving thread's revision.
 */
async function serve(): Promise<void> {
  const settings = workerData as UnderstandingWorkerData;
  const logger = createLogger(settings.logLevel).child({ thread: 'understanding' });
  const knowledge = new KnowledgeBase();
  knowledge.load(settings.knowledge);
  const port = parentPort!;
  const models = await createLanguageModels(knowledge, logger, {
    modelDir: settings.modelDir,
    onIntentModelState: (intentModel) => port.postMessage({ intentModel } satisfies UnderstandingReply),
  });
  const understander = new BlendedUnderstander(models, knowledge, { cache: understandingCache(knowledge, models.intents) });
  port.on('message', (request: UnderstandingRequest) => {
    if (request.type === 'knowledge') return knowledge.load(request.snapshot);
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
