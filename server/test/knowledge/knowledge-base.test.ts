import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createApp } from '../../src/app';
import { Agent } from '../../src/agents/models';
import { issueStaffToken } from '../../src/agents/auth';
import { currentKnowledgeRevision, importKnowledgeDirectory, KNOWLEDGE_REVISION_ID, publishKnowledgeRevision } from '../../src/knowledge/importer';
import { KnowledgeRevision, KnowledgeRevisionNote, revisionNoteId, SubIntent } from '../../src/knowledge/models';
import { KnowledgeBase } from '../../src/knowledge/service';
import { agentKnowledgeRoutes } from '../../src/knowledge/routes';
import { FIXTURE_SCENARIOS, writeKnowledgeFixture } from '../support/knowledge-fixture';
import { useTestDatabase } from '../support/database';
import { serve } from '../support/http';

useTestDatabase(__filename);

describe('knowledge base: retrieval and answer selection', () => {
  const dir = writeKnowledgeFixture();
  const knowledge = new KnowledgeBase();
  beforeAll(async () => {
    await importKnowledgeDirectory(dir, { by: 'test' });
    await knowledge.refreshIfChanged();
  });

  it('ranks the right sub-intent first with a usable confidence', () => {
    const [best] = knowledge.search('犹豫期内退保能退全款吗');
    expect(best).toMatchObject({ id: 'surrender/cooling-off/full-refund', scenarioId: 'surrender', sensitive: true });
    expect(best.confidence).toBeGreaterThan(0.3);
    expect(knowledge.search('发票抬头写公司名')[0].id).toBe('invoice/e-invoice/issue');
  });

  it('knows the names of the published scenarios and intents (what managers read in hot issues)', () => {
    expect(knowledge.topicName('surrender')).toBe('退保与犹豫期');
    expect(knowledge.topicName('surrender/cooling-off')).toBe('犹豫期退保');
    expect(knowledge.topicName('no-such-scenario')).toBeUndefined();
  });

  it('hands its sub-intents and generic answers to another thread, which then ranks exactly the same', async () => {
    const elsewhere = new KnowledgeBase();
    const reloads: number[] = [];
    elsewhere.onReload((subIntents) => reloads.push(subIntents.length));
    elsewhere.load(knowledge.snapshot());
    expect(reloads).toEqual([knowledge.size]);
    expect(elsewhere.revision).toBe(knowledge.revision);
    for (const question of ['犹豫期内退保能退全款吗', '发票抬头写公司名', '车险出险了怎么报案', '那个东西怎么弄']) {
      expect(elsewhere.search(question)).toEqual(knowledge.search(question));
    }
    // Only the generic answers travel: a product's variant stays with the instance that answers.
    const id = 'claim-report/how-to-report/online-report';
    expect((await knowledge.selectSolution(id, { product: 'auto' }))?.text).toContain('车险出险');
    expect((await elsewhere.selectSolution(id, { product: 'auto' }))?.text).not.toContain('车险出险');
  });

  it('is less confident about a vague question than a clear one', () => {
    const clear = knowledge.search('怎么报案')[0];
    const vague = knowledge.search('那个东西怎么弄')[0];
    expect(clear.confidence).toBeGreaterThan(vague?.confidence ?? 0);
  });

  it('selects the product variant of a solution when the product is known', async () => {
    const id = 'claim-report/how-to-report/online-report';
    expect((await knowledge.selectSolution(id, { product: 'auto' }))?.text).toContain('车险出险');
    const generic = await knowledge.selectSolution(id, { product: 'medical' });
    expect(generic?.text).toContain('理赔');
    expect(generic?.rich?.links?.[0]).toMatchObject({ page: '/pages/claims/new' });
  });

  it('finds a changed phrasing without a restart (another instance imported it)', async () => {
    const novel = '财务让我拿个凭证去走账';
    expect(knowledge.search(novel)[0]?.matchedQuestion).not.toBe(novel);
    const edited = FIXTURE_SCENARIOS['invoice.yaml'].replace('公司报销要发票', novel);
    fs.writeFileSync(path.join(dir, 'scenarios', 'invoice.yaml'), edited);
    await importKnowledgeDirectory(dir, { by: 'editor' });
    expect(await knowledge.refreshIfChanged()).toBe(true);
    const [hit] = knowledge.search(novel);
    expect(hit).toMatchObject({ id: 'invoice/e-invoice/issue', matchedQuestion: novel });
    expect(await knowledge.refreshIfChanged()).toBe(false);
  });

  it('serves an edited answer after the reload, and a retired one no more (answers are held in memory)', async () => {
    const id = 'invoice/e-invoice/issue';
    expect((await knowledge.selectSolution(id))?.text).toContain('3个工作日');
    const current = fs.readFileSync(path.join(dir, 'scenarios', 'invoice.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'scenarios', 'invoice.yaml'), current.replace('电子发票会在3个工作日内发到您的邮箱', '电子发票当天发到您的邮箱'));
    await importKnowledgeDirectory(dir, { by: 'editor' });
    // Until this instance reloads it keeps serving what it loaded; then the new text.
    expect((await knowledge.selectSolution(id))?.text).toContain('3个工作日');
    expect(await knowledge.refreshIfChanged()).toBe(true);
    expect((await knowledge.selectSolution(id))?.text).toContain('当天发到您的邮箱');
    // Only the edited solution was read again (the revision's note lists it), not every solution.
    expect(knowledge.lastReload).toMatchObject({ incremental: true, solutionsRead: 1 });

    fs.rmSync(path.join(dir, 'scenarios', 'invoice.yaml'));
    const { changes } = await importKnowledgeDirectory(dir, { by: 'editor' });
    await knowledge.refreshIfChanged();
    expect(await knowledge.selectSolution(id)).toBeUndefined();
    expect(knowledge.search('发票抬头写公司名')[0]?.id).not.toBe(id);
    expect(knowledge.lastReload).toMatchObject({ incremental: true, solutionsRead: changes.filter((c) => c.layer === 'solution').length });
  });

  it('reloads every solution when a revision carries no note of what changed', async () => {
    await KnowledgeRevision.updateOne({ _id: KNOWLEDGE_REVISION_ID }, { $inc: { revision: 1 } }); // as before notes existed
    expect(await knowledge.refreshIfChanged()).toBe(true);
    expect(knowledge.lastReload).toMatchObject({ incremental: false });
    expect(knowledge.lastReload!.solutionsRead).toBeGreaterThan(1);
    expect((await knowledge.selectSolution('surrender/cooling-off/full-refund'))?.text).toBeTruthy();
  });

  it('reads every solution when a sub-intent comes back whose answers did not change', async () => {
    const id = 'surrender/cooling-off/full-refund';
    await SubIntent.updateOne({ _id: id }, { $set: { status: 'retired' } });
    await publishKnowledgeRevision([]);
    await knowledge.refreshIfChanged();
    expect(await knowledge.selectSolution(id)).toBeUndefined();
    await SubIntent.updateOne({ _id: id }, { $set: { status: 'published' } });
    await publishKnowledgeRevision([]);
    await knowledge.refreshIfChanged();
    expect(knowledge.lastReload).toMatchObject({ incremental: false });
    expect((await knowledge.selectSolution(id))?.text).toBeTruthy();
  });

  it('gives concurrent publishers different revisions, each with its own note', async () => {
    const before = await currentKnowledgeRevision();
    const published = await Promise.all([publishKnowledgeRevision(['a|*|*']), publishKnowledgeRevision(['b|*|*']), publishKnowledgeRevision('many')]);
    expect(new Set(published).size).toBe(3);
    expect(await currentKnowledgeRevision()).toBe(before + 3);
    const notes = await KnowledgeRevisionNote.find({ _id: { $in: published.map(revisionNoteId) } }).lean();
    expect(notes.map((n) => n.solutionIds ?? 'many').sort()).toEqual([['a|*|*'], ['b|*|*'], 'many'].sort());
  });

  it('counts a published revision whose raise was lost (concurrent read-modify-writes on FerretDB)', async () => {
    const published = await publishKnowledgeRevision(['lost|*|*']);
    // What a second publisher's stale write leaves: the stored number one behind the newest note.
    await KnowledgeRevision.updateOne({ _id: KNOWLEDGE_REVISION_ID }, { $set: { revision: published - 1 } });
    expect(await currentKnowledgeRevision()).toBe(published);
    expect(await publishKnowledgeRevision([])).toBe(published + 1);
  });
});

describe('agent knowledge search API', () => {
  const knowledge = new KnowledgeBase();
  let http: Awaited<ReturnType<typeof serve>>;
  let agentToken: string;
  beforeAll(async () => {
    await importKnowledgeDirectory(writeKnowledgeFixture(), { by: 'test' });
    await knowledge.refreshIfChanged();
    await Agent.create({ _id: 'zhangsan', name: '张三', role: 'agent' });
    agentToken = await issueStaffToken('zhangsan');
    http = await serve(createApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1024, routers: [agentKnowledgeRoutes(knowledge)] }));
  });
  afterAll(() => http.close());
  const get = (url: string, token?: string) => fetch(`${http.baseUrl}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('refuses anyone who is not signed in as staff', async () => {
    const anonymous = await get('/api/agent/knowledge/search?q=退保');
    expect(anonymous.status).toBe(401);
    const forged = await get('/api/agent/knowledge/search?q=退保', 'cs_forged');
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('searches by keyword with pages', async () => {
    const res = await get('/api/agent/knowledge/search?q=退保&pageSize=1', agentToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total: number; items: Array<{ subIntentId: string; answer?: string }> };
    expect(body.items).toHaveLength(1);
    expect(body.total).toBeGreaterThanOrEqual(2);
    expect(body.items[0].subIntentId).toMatch(/^surrender\//);
    expect(body.items[0].answer).toBeTruthy();
  });

  it('browses the tree: scenarios → intents → sub-intents', async () => {
    const scenarios = (await (await get('/api/agent/knowledge/tree', agentToken)).json()) as { items: Array<{ id: string }> };
    expect(scenarios.items.map((s) => s.id)).toEqual(['claim-report', 'invoice', 'surrender']);
    const intents = (await (await get('/api/agent/knowledge/tree?parent=surrender', agentToken)).json()) as { items: Array<{ id: string }> };
    expect(intents.items.map((s) => s.id)).toEqual(['surrender/after-cooling-off', 'surrender/cooling-off']);
    const subs = (await (await get('/api/agent/knowledge/tree?parent=surrender/cooling-off', agentToken)).json()) as { items: Array<{ id: string }> };
    expect(subs.items.map((s) => s.id)).toEqual(['surrender/cooling-off/full-refund']);
  });

  it('lists questions similar to a given one, and a sub-intent in full', async () => {
    const similar = (await (await get(`/api/agent/knowledge/similar?question=${encodeURIComponent('怎么申请理赔')}`, agentToken)).json()) as { items: Array<{ subIntentId: string }> };
    expect(similar.items[0].subIntentId).toBe('claim-report/how-to-report/online-report');
    const detail = await get(`/api/agent/knowledge/sub-intents/${encodeURIComponent('claim-report/how-to-report/online-report')}`, agentToken);
    expect(((await detail.json()) as { solutions: unknown[] }).solutions).toHaveLength(2);
  });

  it('answers bad queries with a 400 naming the field', async () => {
    const res = await get('/api/agent/knowledge/search?q=&page=0', agentToken);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.message).toMatch(/q: is required/);
    expect(body.error.message).toMatch(/page/);
  });
});
