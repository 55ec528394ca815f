import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { importKnowledgeDirectory } from '../../src/knowledge/importer';
import { KnowledgeBase } from '../../src/knowledge/service';
import { createLogger } from '../../src/logging/logger';
import { inServingThread, inWorkerThread, type Understanding } from '../../src/understanding';
import { WorkerUnderstander } from '../../src/understanding/worker-understander';
import { useTestDatabase } from '../support/database';
import { writeKnowledgeFixture } from '../support/knowledge-fixture';

const { uri } = useTestDatabase(__filename);
const logger = createLogger('silent');
const QUESTIONS = ['犹豫期内退保能全额退吗', '交了三年的保险退保能退多少', '我很生气，你们到底赔不赔', '明天能到账吗', '你好'];

describe('understanding in a worker thread', () => {
  let modelDir: string;
  let knowledge: KnowledgeBase;
  const started: Understanding[] = [];

  beforeAll(async () => {
    await importKnowledgeDirectory(writeKnowledgeFixture(), { by: 'test' });
    knowledge = new KnowledgeBase();
    await knowledge.refreshIfChanged();
    modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-models-'));
  });
  afterAll(async () => {
    for (const understanding of started) await understanding.stop();
  });

  it('understands as the serving thread does, from the same database', async () => {
    const inProcess = await inServingThread({ modelDir })(knowledge, logger);
    const inWorker = await inWorkerThread({ mongodbUri: uri, modelDir, knowledgeRefreshMs: 60_000, logLevel: 'silent' })(knowledge, logger);
    started.push(inProcess, inWorker);
    const now = new Date('2026-03-02T08:00:00Z');
    for (const question of QUESTIONS) {
      const [expected, actual] = await Promise.all([inProcess.understander.understand(question, now), inWorker.understander.understand(question, now)]);
      expect(actual).toEqual(expected);
    }
    expect(inWorker.readEmotion('我很生气，你们到底赔不赔')).toEqual(inProcess.readEmotion('我很生气，你们到底赔不赔'));
  });

  it('starts a new worker when one dies: the requests it held fail, later ones are answered', async () => {
    const understander = await WorkerUnderstander.start({ mongodbUri: uri, modelDir, knowledgeRefreshMs: 60_000, logLevel: 'silent' }, logger);
    started.push({ understander, readEmotion: () => ({ label: 'none', intensity: 0, polarity: 'neutral' }), stop: () => understander.stop() });
    const now = new Date('2026-03-02T08:00:00Z');
    const before = await understander.understand(QUESTIONS[0], now);
    const worker = (understander as unknown as { worker: Worker }).worker;
    const dying = worker.terminate();
    const held = understander.understand(QUESTIONS[1], now); // reaches the dying worker, which never answers it
    await dying;
    await expect(held).rejects.toThrow(/understanding worker exited/);
    expect(await understander.understand(QUESTIONS[0], now)).toEqual(before);
  });

  it('never leaves a request hanging while no worker can start', async () => {
    const data = { mongodbUri: uri, modelDir, knowledgeRefreshMs: 60_000, logLevel: 'silent' };
    const understander = await WorkerUnderstander.start(data, logger);
    started.push({ understander, readEmotion: () => ({ label: 'none', intensity: 0, polarity: 'neutral' }), stop: () => understander.stop() });
    data.mongodbUri = 'mongodb://127.0.0.1:1/none'; // the next worker will not reach its database
    const now = new Date('2026-03-02T08:00:00Z');
    await (understander as unknown as { worker: Worker }).worker.terminate();
    // Sent to the worker that is starting: refused when it gives up, not left waiting.
    await expect(understander.understand(QUESTIONS[0], now)).rejects.toThrow(/understanding worker exited/);
    await expect(understander.understand(QUESTIONS[0], now)).rejects.toThrow(/restarting/);
  });

  it('fails to start with a clear error when the database cannot be reached', async () => {
    await expect(
      WorkerUnderstander.start({ mongodbUri: 'mongodb://127.0.0.1:1/none', modelDir, knowledgeRefreshMs: 60_000, logLevel: 'silent' }, logger),
    ).rejects.toThrow(/Cannot reach the database/);
  });
});
