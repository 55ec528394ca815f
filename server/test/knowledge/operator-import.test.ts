import fs from 'node:fs';
import path from 'node:path';
import {
  currentKnowledgeRevision, importFaqFile, importKnowledgeDirectory, KnowledgeImportIncompleteError,
} from '../../src/knowledge/importer';
import { KnowledgeValidationError } from '../../src/knowledge/source';
import { Intent, KnowledgeChange, Scenario, Solution, SubIntent } from '../../src/knowledge/models';
import { writeKnowledgeFixture } from '../support/knowledge-fixture';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

/** What operators run into with `npm run knowledge:import`, beyond one import of well-formed files. */
describe('knowledge import as operators run it', () => {
  const dir = writeKnowledgeFixture();

  it('two imports at once take turns: both finish, and each entry is created (and logged) once', async () => {
    // Several instances starting on an empty database all seed it; two operators may import at the same moment.
    const reports = await Promise.all([importKnowledgeDirectory(dir, { by: 'instance-a' }), importKnowledgeDirectory(dir, { by: 'instance-b' })]);
    expect(reports.map((r) => r.changes.length).sort()).toEqual([0, 16]);
    expect(await KnowledgeChange.countDocuments({ action: 'created' })).toBe(16);
    expect(await currentKnowledgeRevision()).toBe(1);
  });

  it('an FAQ row naming an existing scenario and intent files its question there without renaming them', async () => {
    const faq = path.join(dir, 'ops.jsonl');
    fs.writeFileSync(faq, `${JSON.stringify({ question: '电子发票能改抬头吗', answer: '可以申请重开一次。', scenario: 'invoice', intent: 'e-invoice' })}\n`);
    const report = await importFaqFile(faq, { by: 'ops' });
    expect(report.changes.map((c) => `${c.action} ${c.layer}`).sort()).toEqual(['created solution', 'created subIntent']);
    expect(await Scenario.findById('invoice').lean()).toMatchObject({ name: '发票', source: 'invoice.yaml', version: 1 });
    expect(await Intent.findById('invoice/e-invoice').lean()).toMatchObject({ name: '电子发票', source: 'invoice.yaml', version: 1 });
    // So the next directory import has nothing to rename back.
    expect((await importKnowledgeDirectory(dir, { by: 'deploy' })).changes).toEqual([]);
  });

  it('an FAQ row whose id is another file\'s sub-intent stops the import, naming it, before anything is written', async () => {
    const faq = path.join(dir, 'ops2.jsonl');
    fs.writeFileSync(faq, [
      { question: '营业时间', answer: '全天在线。' },
      { id: 'issue', question: '发票怎么开', answer: '找客服。', scenario: 'invoice', intent: 'e-invoice' },
    ].map((row) => JSON.stringify(row)).join('\n'));
    const revision = await currentKnowledgeRevision();
    const error = await importFaqFile(faq, { by: 'ops' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KnowledgeValidationError);
    expect((error as KnowledgeValidationError).problems).toEqual(['ops2.jsonl: invoice/e-invoice/issue: is an entry of invoice.yaml; give it an id of its own']);
    expect(await SubIntent.findById('invoice/e-invoice/issue').lean()).toMatchObject({ source: 'invoice.yaml', version: 1 });
    expect(await SubIntent.countDocuments({ source: 'ops2.jsonl' })).toBe(0);
    expect(await currentKnowledgeRevision()).toBe(revision);
  });

  it('keeps every version of an edited answer in the change log, and a removed sub-intent retired with its last answer', async () => {
    const invoice = path.join(dir, 'scenarios', 'invoice.yaml');
    const original = fs.readFileSync(invoice, 'utf8');
    const id = 'invoice/e-invoice/issue|*|*';
    const firstText = (await Solution.findById(id).lean())!.text;
    fs.writeFileSync(invoice, original.replace('3个工作日内', '当天'));
    await importKnowledgeDirectory(dir, { by: 'editor-1' });
    fs.writeFileSync(invoice, original.replace('3个工作日内', '1小时内'));
    await importKnowledgeDirectory(dir, { by: 'editor-2' });
    const history = await KnowledgeChange.find({ entityId: id }).sort({ version: 1 }).lean<Array<{ version: number; by: string; content?: { text: string } }>>();
    expect(history.map((h) => [h.version, h.by, h.content?.text])).toEqual([
      [1, 'instance-a', firstText], [2, 'editor-1', firstText.replace('3个工作日内', '当天')], [3, 'editor-2', firstText.replace('3个工作日内', '1小时内')],
    ].map(([version, by, text]) => [version, expect.stringMatching(by === 'instance-a' ? /^instance-/ : String(by)), text]));

    fs.rmSync(invoice);
    await importKnowledgeDirectory(dir, { by: 'editor-3' });
    expect(await Solution.findById(id).lean()).toMatchObject({ status: 'retired', version: 4, text: firstText.replace('3个工作日内', '1小时内') });
    fs.writeFileSync(invoice, original);
    await importKnowledgeDirectory(dir, { by: 'editor-4' });
  });

  it('an import that fails after writing part of its changes still tells every instance, and running it again finishes it', async () => {
    const claims = path.join(dir, 'scenarios', 'claims.yaml');
    fs.writeFileSync(claims, fs.readFileSync(claims, 'utf8').replace('怎么报案', '如何报案').replace('车险出险请先拨打', '车险出险后请先拨打'));
    const revision = await currentKnowledgeRevision();
    // The database goes away after the sub-intents are written, before the solutions are.
    const failing = jest.spyOn(Solution, 'bulkWrite').mockRejectedValueOnce(Object.assign(new Error('connection reset'), { name: 'MongoNetworkError' }));
    const error = await importKnowledgeDirectory(dir, { by: 'ops' }).catch((err: unknown) => err);
    failing.mockRestore();
    expect(error).toBeInstanceOf(KnowledgeImportIncompleteError);
    expect((error as Error).message).toMatch(/connection reset.*run it again to finish/);
    // Instances reload what is now stored (all of it: which solutions were written is not known).
    expect(await currentKnowledgeRevision()).toBe(revision + 1);
    const again = await importKnowledgeDirectory(dir, { by: 'ops' });
    expect(again.changes.map((c) => `${c.action} ${c.layer}`)).toEqual(['updated solution']);
    expect((await Solution.findById('claim-report/how-to-report/online-report|auto|*').lean())?.text).toContain('车险出险后请先拨打');
  });
});
