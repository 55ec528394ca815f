import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { checkKnowledge } from '../../src/knowledge/check';
import { readKnowledgeDir } from '../../src/knowledge/source';
import { writeKnowledgeFixture } from '../support/knowledge-fixture';

/** A second scenario that repeats, in slightly other words, what the fixture's 犹豫期内退保 already answers. */
const OVERLAPPING = `
id: policy-changes
name: 保单变更
intents:
  - id: cancel
    name: 取消保单
    subIntents:
      - id: cancel-new-policy
        name: 新保单取消
        questions:
          - 犹豫期内退保能全额退款吗
          - 刚买的保险想退掉怎么办
          - 买了十天的重疾险想退
          - 犹豫期退保能退多少
          - 新买的保单可以无损退保吗
          - 后悔买保险了想退保
        solutions:
          - id: default
            text: 在保单详情里申请取消。
`;

describe('knowledge:check', () => {
  it('reports the sub-intents whose phrasings another one would answer, grouped by pair', () => {
    const clean = checkKnowledge(readKnowledgeDir(writeKnowledgeFixture()), { answerConfidence: 0.5 });
    expect(clean.phrasings).toBeGreaterThan(20);
    expect(clean.pairs.filter((p) => p.own.startsWith('policy-changes'))).toEqual([]);

    const overlapping = checkKnowledge(readKnowledgeDir(writeKnowledgeFixture({ 'policy-changes.yaml': OVERLAPPING })), { answerConfidence: 0.5 });
    const pair = overlapping.pairs.find((p) => p.own === 'policy-changes/cancel/cancel-new-policy');
    expect(pair).toMatchObject({ answeredBy: 'surrender/cooling-off/full-refund' });
    expect(pair!.count).toBeGreaterThanOrEqual(3);
    expect(overlapping.conflicts.every((c) => c.confidence >= 0.5 && c.own !== c.answeredBy)).toBe(true);
    expect(overlapping.ownFirst).toBeLessThan(overlapping.phrasings);
  });

  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/knowledge-check.ts', ...args], {
    cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', timeout: 60_000,
  });

  it('the CLI names a bad flag, and ends a report with one JSON line', () => {
    const bad = cli('--top', 'lots');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--top must be a whole number, got "lots"');
    expect(cli('--bogus').stderr).toContain('unknown flag --bogus');

    const run = cli('--dir', writeKnowledgeFixture({ 'policy-changes.yaml': OVERLAPPING }), '--top', '1');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.join('\n')).toContain('新保单取消 (policy-changes/cancel/cancel-new-policy)  →  犹豫期内退保全额退款 (surrender/cooling-off/full-refund)');
    expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ phrasings: expect.any(Number), confidentlyElsewhere: expect.any(Number) });
  });
});
