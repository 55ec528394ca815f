import fs from 'node:fs';
import path from 'node:path';
import { importKnowledge, importKnowledgeDirectory, importFaqFile, currentKnowledgeRevision, knowledgeDirChangedSinceImport } from '../../src/knowledge/importer';
import { parseScenarioFile, type KnowledgeSet } from '../../src/knowledge/source';
import { KnowledgeChange, Solution, SubIntent } from '../../src/knowledge/models';
import { FIXTURE_SCENARIOS, writeKnowledgeFixture } from '../support/knowledge-fixture';
import { useTestDatabase } from '../support/database';

useTestDatabase(__filename);

describe('knowledge import', () => {
  const dir = writeKnowledgeFixture();

  it('imports every layer once and records who did it', async () => {
    const report = await importKnowledgeDirectory(dir, { by: 'alice' });
    const created = (layer: string) => report.changes.filter((c) => c.layer === layer && c.action === 'created').length;
    expect([created('scenario'), created('intent'), created('subIntent'), created('solution')]).toEqual([3, 4, 4, 5]);
    const sub = await SubIntent.findById('claim-report/how-to-report/online-report').lean();
    expect(sub).toMatchObject({ status: 'published', version: 1, updatedBy: 'alice', source: 'claims.yaml' });
    expect(await KnowledgeChange.countDocuments({ by: 'alice', action: 'created' })).toBe(16);
    expect(report.revision).toBe(1);
  });

  it('changes nothing when the same files are imported again', async () => {
    const report = await importKnowledgeDirectory(dir, { by: 'bob' });
    expect(report.changes).toEqual([]);
    expect(report.unchanged).toBe(16);
    expect(await KnowledgeChange.countDocuments({ by: 'bob' })).toBe(0);
    expect(await currentKnowledgeRevision()).toBe(1);
  });

  it('shows a dry-run diff without writing', async () => {
    const edited = FIXTURE_SCENARIOS['invoice.yaml'].replace('公司报销要发票', '单位报销需要保费发票');
    fs.writeFileSync(path.join(dir, 'scenarios', 'invoice.yaml'), edited);
    const report = await importKnowledgeDirectory(dir, { by: 'carol', dryRun: true });
    expect(report.changes).toEqual([{ layer: 'subIntent', id: 'invoice/e-invoice/issue', action: 'updated', source: 'invoice.yaml' }]);
    expect((await SubIntent.findById('invoice/e-invoice/issue').lean())?.questions).toContain('公司报销要发票');
  });

  it('updates a changed phrasing with a new version and a logged change', async () => {
    const report = await importKnowledgeDirectory(dir, { by: 'carol' });
    expect(report.changes.map((c) => c.id)).toEqual(['invoice/e-invoice/issue']);
    const sub = await SubIntent.findById('invoice/e-invoice/issue').lean();
    expect(sub).toMatchObject({ version: 2, updatedBy: 'carol' });
    expect(sub?.questions).toContain('单位报销需要保费发票');
    expect(await KnowledgeChange.findOne({ entityId: 'invoice/e-invoice/issue', action: 'updated' }).lean()).toMatchObject({ by: 'carol', version: 2 });
  });

  it('retires what a file no longer has, and keeps other sources alone', async () => {
    const faq = path.join(dir, 'ops-faq.jsonl');
    fs.writeFileSync(faq, `${JSON.stringify({ id: 'a1', question: '营业时间', answer: '7×24小时在线。' })}\n`);
    await importFaqFile(faq, { by: 'ops' });
    fs.rmSync(path.join(dir, 'scenarios', 'invoice.yaml'));
    const report = await importKnowledgeDirectory(dir, { by: 'dave' });
    expect(new Set(report.changes.map((c) => c.action))).toEqual(new Set(['retired']));
    expect(report.changes.map((c) => c.id).sort()).toEqual(['invoice', 'invoice/e-invoice', 'invoice/e-invoice/issue', 'invoice/e-invoice/issue|*|*']);
    expect((await Solution.findById('invoice/e-invoice/issue|*|*').lean())?.status).toBe('retired');
    expect((await SubIntent.findById('faq/general/a1').lean())?.status).toBe('published');
  });

  it('seeds the learning module\'s learned.yaml into a database without it, then leaves those entries to that module', async () => {
    const learned = (answer: string) => [
      'id: learned', 'name: 新学知识', 'intents:', '  - id: general', '    name: 综合', '    subIntents:',
      '      - id: c1', '        name: 疫苗不良反应', '        questions: [打疫苗后不良反应保险管吗, 疫苗反应能赔吗, 疫苗出问题保险赔不赔, 接种疫苗后生病了能理赔吗, 疫苗不良反应理赔, 疫苗副作用保险管不管]',
      '        solutions:', '          - id: default', `            text: ${answer}`, '',
    ].join('\n');
    const file = path.join(dir, 'scenarios', 'learned.yaml');
    fs.writeFileSync(file, learned('按条款约定的意外或疾病责任处理。'));
    const seeded = await importKnowledgeDirectory(dir, { by: 'erin' });
    expect(seeded.changes.map((c) => `${c.action} ${c.id}`).sort()).toEqual([
      'created learned', 'created learned/general', 'created learned/general/c1', 'created learned/general/c1|*|*',
    ]);

    // A stale copy of the file neither reverts nor (once gone) retires what the learning module now keeps.
    fs.writeFileSync(file, learned('旧的答案。'));
    expect((await importKnowledgeDirectory(dir, { by: 'erin' })).changes).toEqual([]);
    fs.rmSync(file);
    expect((await importKnowledgeDirectory(dir, { by: 'erin' })).changes).toEqual([]);
    expect(await Solution.findById('learned/general/c1|*|*').lean()).toMatchObject({ status: 'published', text: '按条款约定的意外或疾病责任处理。' });
  });

  it('an import scoped to an id prefix reads, compares and retires only the entries under it', async () => {
    const set: KnowledgeSet = { scenarios: [], intents: [], subIntents: [], solutions: [] };
    const problems: string[] = [];
    parseScenarioFile('scoped.yaml', [
      'id: learned', 'name: 新学知识', 'intents:', '  - id: general', '    name: 综合', '    subIntents:',
      '      - id: c2', '        name: 宠物医疗', '        questions: [猫生病能报销吗, 狗狗看病保险管吗, 宠物医疗险怎么赔, 宠物住院能报吗, 宠物看病费用能赔吗, 给猫买的保险怎么理赔]',
      '        solutions:', '          - id: default', '            text: 宠物医疗险按条款报销。', '',
    ].join('\n'), set, problems);
    expect(problems).toEqual([]);
    // It owns every source, yet retires nothing outside "learned": c1 (under it, not in this set) goes, claims stay.
    const everything = () => true;
    const report = await importKnowledge(set, { by: 'frank', owns: everything, idPrefix: 'learned' });
    expect(report.changes.map((c) => `${c.action} ${c.id}`).sort()).toEqual([
      'created learned/general/c2', 'created learned/general/c2|*|*', 'retired learned/general/c1', 'retired learned/general/c1|*|*',
    ]);
    expect((await SubIntent.findById('claim-report/how-to-report/online-report').lean())?.status).toBe('published');

    const stray = { ...set, subIntents: [...set.subIntents, { ...set.subIntents[0], id: 'learned-elsewhere/x/y' }] };
    await expect(importKnowledge(stray, { by: 'frank', owns: everything, idPrefix: 'learned' })).rejects.toThrow('import scoped to "learned" was given learned-elsewhere/x/y');
  });

  it('tells whether the scenario files changed since the folder was last imported (npm start warns)', async () => {
    await importKnowledgeDirectory(dir, { by: 'frank' });
    expect(await knowledgeDirChangedSinceImport(dir)).toBe(false);
    const claims = path.join(dir, 'scenarios', 'claims.yaml');
    fs.writeFileSync(claims, fs.readFileSync(claims, 'utf8').replace('怎么报案', '如何报案'));
    expect(await knowledgeDirChangedSinceImport(dir)).toBe(true);
    await importKnowledgeDirectory(dir, { by: 'frank', dryRun: true });
    expect(await knowledgeDirChangedSinceImport(dir)).toBe(true); // a dry run loads nothing
    await importKnowledgeDirectory(dir, { by: 'frank' });
    expect(await knowledgeDirChangedSinceImport(dir)).toBe(false);
    // The dashboard's export of learned knowledge is not a change to import.
    fs.writeFileSync(path.join(dir, 'scenarios', 'learned.yaml'), 'id: learned\nname: 新学知识\nintents: []\n');
    expect(await knowledgeDirChangedSinceImport(dir)).toBe(false);
    fs.rmSync(path.join(dir, 'scenarios', 'learned.yaml'));
    expect(await knowledgeDirChangedSinceImport(writeKnowledgeFixture())).toBeUndefined();
  });

  it('re-imports an operator FAQ whose answers all changed (hundreds of updates to existing entries)', async () => {
    const faq = path.join(dir, 'big-faq.jsonl');
    const rows = (edition: number) => Array.from({ length: 150 }, (_, i) => JSON.stringify({ id: `q${i}`, question: `第${i}个问题`, answer: `第${edition}版答案${i}` })).join('\n');
    fs.writeFileSync(faq, rows(1));
    await importFaqFile(faq, { by: 'ops' });
    fs.writeFileSync(faq, rows(2));
    const report = await importFaqFile(faq, { by: 'ops' });
    expect(report.changes.filter((c) => c.action === 'updated')).toHaveLength(150);
    expect((await Solution.findById('faq/general/q149|*|*').lean())?.version).toBe(2);
  });

  it('drops an optional field the file no longer has (an age band, say), instead of keeping the old value', async () => {
    const claims = path.join(dir, 'scenarios', 'claims.yaml');
    const original = fs.readFileSync(claims, 'utf8');
    fs.writeFileSync(claims, original.replace('        name: 线上自助报案\n', '        name: 线上自助报案\n        sensitive: true\n        forAges: { from: 18, to: 60 }\n'));
    await importKnowledgeDirectory(dir, { by: 'gina' });
    expect(await SubIntent.findById('claim-report/how-to-report/online-report').lean()).toMatchObject({ sensitive: true, forAges: { from: 18, to: 60 } });
    fs.writeFileSync(claims, original);
    await importKnowledgeDirectory(dir, { by: 'gina' });
    const sub = await SubIntent.findById('claim-report/how-to-report/online-report').lean();
    expect(sub?.forAges).toBeUndefined();
    expect(sub?.sensitive).toBe(false);
  });

  it('updates a solution without rich text, and drops the rich text a solution no longer has', async () => {
    const claims = path.join(dir, 'scenarios', 'claims.yaml');
    const original = fs.readFileSync(claims, 'utf8');
    const edited = original
      .replace('车险出险请先拨打95500-0000报案', '车险出险请先拨打95500-0000电话报案')
      .replace(/            rich:\n              text: 点击下方按钮在线报案\n              links:\n                - \{ title: 在线报案, page: \/pages\/claims\/new \}\n/, '');
    expect(edited).not.toContain('rich:');
    fs.writeFileSync(claims, edited);
    const report = await importKnowledgeDirectory(dir, { by: 'hana' });
    expect(report.changes.map((c) => c.id).sort()).toEqual(['claim-report/how-to-report/online-report|*|*', 'claim-report/how-to-report/online-report|auto|*']);
    expect((await Solution.findById('claim-report/how-to-report/online-report|auto|*').lean())?.text).toContain('电话报案');
    expect((await Solution.findById('claim-report/how-to-report/online-report|*|*').lean())?.rich).toBeUndefined();
    fs.writeFileSync(claims, original);
  });
});
