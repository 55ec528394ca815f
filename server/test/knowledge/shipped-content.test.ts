import { readKnowledgeDir } from '../../src/knowledge/source';

/** The knowledge we ship must stay within what the knowledge issue promises: size, shape, and the 转人工 intent. */
describe('shipped knowledge/', () => {
  const set = readKnowledgeDir();

  it('validates and has the promised size', () => {
    expect(set.scenarios.length).toBeGreaterThanOrEqual(12);
    expect(set.intents.length).toBeGreaterThanOrEqual(80);
    expect(set.subIntents.length).toBeGreaterThanOrEqual(400);
  });

  it('gives every sub-intent at least 6 phrasings and a solution, and repeats no phrasing', () => {
    expect(set.subIntents.filter((s) => s.questions.length < 6).map((s) => s.id)).toEqual([]);
    const withSolution = new Set(set.solutions.map((s) => s.subIntentId));
    expect(set.subIntents.filter((s) => !withSolution.has(s.id)).map((s) => s.id)).toEqual([]);
    const seen = new Map<string, string>();
    const repeated: string[] = [];
    for (const sub of set.subIntents) for (const q of sub.questions) {
      const key = q.replace(/[\s\p{P}]/gu, '');
      if (seen.has(key) && seen.get(key) !== sub.id) repeated.push(`${q} (${seen.get(key)} / ${sub.id})`);
      seen.set(key, sub.id);
    }
    expect(repeated).toEqual([]);
  });

  it('covers the scenarios an insurer needs, greetings and an explicit 转人工', () => {
    const ids = set.scenarios.map((s) => s.id);
    for (const id of ['purchase-consulting', 'products-and-terms', 'premium', 'health-disclosure', 'policy-service', 'renewal', 'claim-report', 'claim-documents', 'claim-progress', 'surrender', 'invoice', 'payment-account', 'complaints', 'small-talk']) {
      expect(ids).toContain(id);
    }
    const human = set.subIntents.find((s) => s.id === 'small-talk/human/request');
    expect(human?.questions).toEqual(expect.arrayContaining(['转人工', '人工客服']));
  });
});
