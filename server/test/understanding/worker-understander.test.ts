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
import { FIXTURE_SCENARIOS, writeKnowledgeFixture } from '../support/knowledge-fixture';

useTestDatabase(__filename);
const logger = createLogger('silent');
const QUESTIONS = ['犹豫期内退保能全额退吗', '交了三年的保险退保能退多少', '我很生气，你们到底赔不赔', '明天能到账吗', '你好'];
const now = new Date('2026-03-02T08:00:00Z');
const noEmotion = () => ({ label: 'none' as const, intensity: 0, polarity: 'neutral' as const });

/** Polls `condition` every 10 ms, noting each value of `watch` seen on the way. */
async function until(condition: (seen: string[]) => boolean, watch: () => string = () => '', timeoutMs = 60_000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = watch();
    if (seen.at(-1) !== value) seen.push(value);
    if (condition(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; seen ${seen.join(' → ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('understanding in a worker thread', () => {
  let modelDir: string;
  const dir = writeKnowledgeFixture();
  const knowledge = new KnowledgeBase();
  const started: Understanding[] = [];
  const startWorker = async (settings = { modelDir, logLevel: 'silent' }) => {
    const understander = await WorkerUnderstander.start(knowledge, settings, logger);
    started.push({ understander, readEmotion: noEmotion, intentModel: () => understander.intentModel, stop: () => understander.stop() });
    return understander;
  };

  beforeAll(async () => {
    await importKnowledgeDirectory(dir, { by: 'test' });
    await knowledge.refreshIfChanged();
    modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-models-'));
  });
  afterAll(async () => {
    for (const understanding of started) await understanding.stop();
  });

  it('understands as the serving thread does', async () => {
    const inProcess = await inServingThread({ modelDir })(knowledge, logger);
    const inWorker = await inWorkerThread({ modelDir, logLevel: 'silent' })(knowledge, logger);
    started.push(inProcess, inWorker);
    for (const question of QUESTIONS) {
      const [expected, actual] = await Promise.all([inProcess.understander.understand(question, now), inWorker.understander.understand(question, now)]);
      expect(actual).toEqual(expected);
    }
    expect(inWorker.readEmotion('我很生气，你们到底赔不赔')).toEqual(inProcess.readEmotion('我很生气，你们到底赔不赔'));
    // Both report a model trained from this knowledge (the worker tells the serving thread).
    await until(() => inWorker.intentModel() === 'current' && inProcess.intentModel() === 'current');
  });

  it('follows the serving thread’s knowledge reloads (a changed phrasing is found without a restart)', async () => {
    const understander = await startWorker();
    await until(() => understander.intentModel === 'current');
    const novel = '财务让我拿个凭证去走账';
    expect((await understander.understand(novel, now)).candidates[0]?.subIntentId).not.toBe('invoice/e-invoice/issue');
    fs.writeFileSync(path.join(dir, 'scenarios', 'invoice.yaml'), FIXTURE_SCENARIOS['invoice.yaml'].replace('公司报销要发票', novel));
    await importKnowledgeDirectory(dir, { by: 'editor' });
    expect(await knowledge.refreshIfChanged()).toBe(true);
    expect((await understander.understand(novel, now)).candidates[0]?.subIntentId).toBe('invoice/e-invoice/issue');
    // The phrasing changed, so the intent model retrains: the older one serves meanwhile.
    const states = await until((seen) => seen.includes('outdated') && understander.intentModel === 'current', () => understander.intentModel);
    expect(states.at(-1)).toBe('current');
  });

  it('starts a new worker when one dies: the requests it held fail, later ones are answered', async () => {
    const understander = await startWorker();
    const before = await understander.understand(QUESTIONS[0], now);
    const dying = (understander as unknown as { worker: Worker }).worker.terminate();
    const held = understander.understand(QUESTIONS[1], now); // reaches the dying worker, which never answers it
    await dying;
    await expect(held).rejects.toThrow(/understanding worker exited/);
    expect(await understander.understand(QUESTIONS[0], now)).toEqual(before);
  });

  it('never leaves a request hanging while no worker can start', async () => {
    const settings = { modelDir, logLevel: 'silent' };
    const understander = await startWorker(settings);
    settings.logLevel = 'no-such-level'; // the next worker fails while starting
    await (understander as unknown as { worker: Worker }).worker.terminate();
    // Sent to the worker that is starting: refused when it gives up, not left waiting.
    await expect(understander.understand(QUESTIONS[0], now)).rejects.toThrow(/understanding worker exited/);
    await expect(understander.understand(QUESTIONS[0], now)).rejects.toThrow(/restarting/);
  });
});
