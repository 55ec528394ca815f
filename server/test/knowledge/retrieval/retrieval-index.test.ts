import { buildRetrievalIndex, RetrievalIndex, type RetrievalDocument, type RetrievalIndexSnapshot } from '../../../src/knowledge/retrieval';
import { INSURANCE_DOCUMENTS } from './fixtures';

const topId = (index: RetrievalIndex, query: string) => index.search(query, 5)[0]?.id;

describe('retrieval index ranking', () => {
  const index = buildRetrievalIndex(INSURANCE_DOCUMENTS);

  it.each([
    ['我在犹豫期内想退保怎么办', 'surrender/cooling-off'],
    ['请问刚买的保险能不能全额退掉呢', 'surrender/cooling-off'],
    ['交了好几年了现在退保能拿回多少', 'surrender/after-cooling-off'],
    ['车撞了怎么报案', 'claim/report'],
    ['理赔要准备什么资料', 'claim/documents'],
    ['发票怎么开', 'invoice/request'],
    ['电子发票去哪下载啊', 'invoice/request'],
    ['保单能借钱吗', 'policy/loan'],
    ['手机号码换了', 'account/change-phone'],
    ['人工', 'service/human'],
  ])('%s → %s', (query, expected) => {
    expect(topId(index, query)).toBe(expected);
  });

  it.each(['已经过了犹豫期还可以退保吗', '犹豫期过了再退保能退多少钱'])('tells apart neighbours that share words: %s', (query) => {
    const hits = index.search(query, 3);
    expect(hits[0].id).toBe('surrender/after-cooling-off');
    expect(hits[1].id).toBe('surrender/cooling-off');
    expect(hits[0].confidence).toBeGreaterThan(hits[1].confidence);
  });

  it('still finds the entry for misspelt queries', () => {
    expect(topId(index, '尤豫期内怎么退保')).toBe('surrender/cooling-off'); // 犹 → 尤
    expect(topId(index, '出险了怎么抱案')).toBe('claim/report'); // 报 → 抱
    expect(topId(index, '怎么开保费发漂')).toBe('invoice/request'); // 票 → 漂
  });

  it('leaves out excluded documents: the rest rank as without them, and the new top-1 is calibrated as a top-1', () => {
    const query = '理赔要准备什么资料';
    const without = buildRetrievalIndex(INSURANCE_DOCUMENTS.filter((d) => d.id !== 'claim/documents'));
    const all = index.search(query, 5);
    const excluded = index.search(query, 3, { exclude: new Set(['claim/documents']) });
    expect(all[0].id).toBe('claim/documents');
    expect(excluded.map((hit) => hit.id)).toEqual(without.search(query, 3).map((hit) => hit.id));
    const asRunnerUp = all.find((hit) => hit.id === excluded[0].id)!;
    expect(excluded[0].confidence).toBeGreaterThan(asRunnerUp.confidence);
  });

  it('names the question that matched, scores in descending order, confidences in [0, 1]', () => {
    const hits = index.search('理赔报案电话是多少啊', 5);
    expect(hits[0]).toMatchObject({ id: 'claim/report', matchedQuestion: '理赔报案电话是多少' });
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
    for (const hit of hits) expect(hit.confidence).toBeGreaterThanOrEqual(0);
    expect(hits.reduce((sum, hit) => sum + hit.confidence, 0)).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('is more confident for an exact question than for a vague one', () => {
    const exact = index.search('犹豫期内怎么退保', 3)[0];
    const paraphrase = index.search('我想在犹豫期把保险退了', 3)[0];
    const vague = index.search('请问一下这个怎么弄', 3)[0];
    expect(exact.confidence).toBeGreaterThan(0.8);
    expect(exact.confidence).toBeGreaterThan(paraphrase.confidence);
    expect(vague === undefined || vague.confidence < paraphrase.confidence).toBe(true);
    expect(vague === undefined || vague.confidence < 0.5).toBe(true);
  });

  it('returns nothing for an empty or unrelated query, and respects k', () => {
    expect(index.search('', 5)).toEqual([]);
    expect(index.search('？？？', 5)).toEqual([]);
    expect(index.search('保险', 0)).toEqual([]);
    expect(index.search('保险', 2)).toHaveLength(2);
  });

  it('blends an external classifier into the ranking and the confidence', () => {
    const query = '保单的事情';
    const plain = index.search(query, 3);
    const boosted = index.search(query, 3, { classifierScores: new Map([['account/change-phone', 0.95]]) });
    expect(plain[0].id).not.toBe('account/change-phone');
    expect(boosted[0].id).toBe('account/change-phone');
    expect(boosted[0].confidence).toBeGreaterThan(0.4);
    // An id the index does not know is ignored rather than returned.
    expect(index.search(query, 3, { classifierScores: new Map([['no/such/id', 1]]) })[0].id).toBe(plain[0].id);
  });
});

describe('incremental updates', () => {
  it('upsert makes a new phrasing findable without a rebuild', () => {
    const index = buildRetrievalIndex(INSURANCE_DOCUMENTS);
    const phrasing = '买错产品了可以撤单拿回本金吗';
    expect(index.search(phrasing, 1)[0]?.id).not.toBe('surrender/cooling-off');
    const original = INSURANCE_DOCUMENTS[0];
    index.upsert({ ...original, questions: [...original.questions, phrasing] });
    const hit = index.search(phrasing, 1)[0];
    expect(hit).toMatchObject({ id: 'surrender/cooling-off', matchedQuestion: phrasing });
    expect(index.size).toBe(INSURANCE_DOCUMENTS.length);
  });

  it('upsert replaces the old phrasings (they no longer match that document)', () => {
    const index = buildRetrievalIndex(INSURANCE_DOCUMENTS);
    index.upsert({ id: 'policy/loan', questions: ['保单质押借款'], answer: '请联系客服。' });
    const hits = index.search('保单贷款怎么办理', 5);
    const loan = hits.find((h) => h.id === 'policy/loan');
    expect(loan?.matchedQuestion).toBe('保单质押借款');
  });

  it('remove takes a document out of every result', () => {
    const index = buildRetrievalIndex(INSURANCE_DOCUMENTS);
    expect(index.remove('invoice/request')).toBe(true);
    expect(index.remove('invoice/request')).toBe(false);
    expect(index.has('invoice/request')).toBe(false);
    expect(index.size).toBe(INSURANCE_DOCUMENTS.length - 1);
    for (const query of ['发票怎么开', '电子发票在哪里下载', '保险可以开发票吗']) {
      expect(index.search(query, 10).map((h) => h.id)).not.toContain('invoice/request');
    }
  });

  it('after many edits ranks exactly like an index built from scratch on the final documents', () => {
    const index = buildRetrievalIndex(INSURANCE_DOCUMENTS);
    const finalDocuments = new Map(INSURANCE_DOCUMENTS.map((d) => [d.id, d]));
    // Enough churn to cross the automatic re-freeze threshold more than once.
    for (let round = 0; round < 300; round++) {
      const base = INSURANCE_DOCUMENTS[round % INSURANCE_DOCUMENTS.length];
      const id = `${base.id}#copy${round % 37}`;
      if (round % 5 === 4) {
        index.remove(id);
        finalDocuments.delete(id);
      } else {
        const document: RetrievalDocument = { ...base, id, questions: base.questions.map((q) => `${q}${round % 3 === 0 ? '呢' : ''}`) };
        index.upsert(document);
        finalDocuments.set(id, document);
      }
    }
    const rebuilt = buildRetrievalIndex([...finalDocuments.values()]);
    expect(index.size).toBe(rebuilt.size);
    for (const query of ['犹豫期内怎么退保', '理赔材料', '发票抬头开错了', '手机号换了']) {
      const incremental = index.search(query, 10);
      const fresh = rebuilt.search(query, 10);
      expect(incremental.map((h) => h.id)).toEqual(fresh.map((h) => h.id));
      incremental.forEach((hit, i) => expect(hit.score).toBeCloseTo(fresh[i].score, 9));
    }
  });
});

describe('serialisation', () => {
  const queries = ['犹豫期内怎么退保', '尤豫期退保', '车撞了怎么报案', '发票', '保单能借钱吗', '请问一下', '人工'];

  it('round-trips through JSON to identical results', () => {
    const index = buildRetrievalIndex(INSURANCE_DOCUMENTS);
    index.upsert({ id: 'extra/tax', questions: ['保险理赔款要交税吗'], answer: '人身保险的理赔款免征个人所得税。', meta: { scenario: 'claim' } });
    index.remove('service/human');
    const json = JSON.stringify(index.toJSON());
    const restored = RetrievalIndex.fromJSON(JSON.parse(json) as RetrievalIndexSnapshot);
    expect(restored.size).toBe(index.size);
    for (const query of queries) expect(restored.search(query, 5)).toEqual(index.search(query, 5));
    expect(restored.search('理赔款交税', 1)[0]).toMatchObject({ id: 'extra/tax', meta: { scenario: 'claim' } });
  });

  it('a restored index keeps accepting edits', () => {
    const restored = RetrievalIndex.fromJSON(JSON.parse(JSON.stringify(buildRetrievalIndex(INSURANCE_DOCUMENTS))) as RetrievalIndexSnapshot);
    restored.upsert({ id: 'extra/hesitation-days', questions: ['犹豫期有几天'], answer: '一般为15天。' });
    expect(restored.search('犹豫期是几天', 1)[0].id).toBe('extra/hesitation-days');
  });

  it('rejects a snapshot of another format', () => {
    const snapshot = { ...buildRetrievalIndex([]).toJSON(), format: 'retrieval-index/0' } as unknown as RetrievalIndexSnapshot;
    expect(() => RetrievalIndex.fromJSON(snapshot)).toThrow(/format/);
  });
});
