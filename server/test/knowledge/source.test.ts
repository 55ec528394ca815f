import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KnowledgeValidationError, parseCsv, readFaqFile, readKnowledgeDir } from '../../src/knowledge/source';
import { writeKnowledgeFixture } from '../support/knowledge-fixture';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof KnowledgeValidationError) return err.problems;
    throw err;
  }
  throw new Error('expected a KnowledgeValidationError');
}

describe('reading knowledge files', () => {
  it('flattens the four layers with stable path ids', () => {
    const set = readKnowledgeDir(writeKnowledgeFixture());
    expect(set.scenarios.map((s) => s.id).sort()).toEqual(['claim-report', 'invoice', 'surrender']);
    expect(set.intents.map((i) => i.id)).toContain('surrender/cooling-off');
    const sub = set.subIntents.find((s) => s.id === 'claim-report/how-to-report/online-report');
    expect(sub?.questions).toHaveLength(6);
    expect(sub?.solutionVariants).toEqual({ hasGeneric: true, products: ['auto'], userStates: [], fallbackKey: 'claim-report/how-to-report/online-report|*|*' });
    expect(set.solutions.find((s) => s.conditions.product === 'auto')?.name).toBe('auto');
    expect(set.subIntents.find((s) => s.id === 'surrender/cooling-off/full-refund')?.sensitive).toBe(true);
  });

  it('names the file when YAML is broken', () => {
    const problems = problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'broken.yaml': 'id: x\nintents: [\n  - a: b' })));
    expect(problems).toEqual([expect.stringMatching(/^broken\.yaml: not valid YAML/)]);
  });

  it('names the file and the entry for every invalid field', () => {
    const bad = `
id: bad-scenario
name: 坏的
intents:
  - id: first
    name: 第一
    subIntents:
      - id: no-questions
        name: 没有问法
        questions: []
        solutions:
          - id: default
            text: 有答案
      - id: Bad_Id
        name: 坏id
        questions: [问]
        solutions:
          - id: default
            text: "${'长'.repeat(601)}"
            rich:
              links:
                - { title: 外链, page: https://example.com }
`;
    const problems = problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'bad.yaml': bad })));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.yaml: intents\[0\] \(first\)\.subIntents\[0\] \(no-questions\)\.questions: needs at least one question$/),
        expect.stringMatching(/^bad\.yaml: intents\[0\] \(first\)\.subIntents\[1\] \(Bad_Id\)\.id: must be lowercase/),
        expect.stringMatching(/subIntents\[1\] \(Bad_Id\)\.solutions\[0\] \(default\)\.text: must be at most 600 characters/),
        expect.stringMatching(/solutions\[0\] \(default\)\.rich\.links\[0\]\.page: must be a mini-program page/),
      ]),
    );
  });

  it('names the file and the entry of a menu that points at no sub-intent, at itself, or is malformed', () => {
    const menus = `
id: menus
name: 菜单
intents:
  - id: topic
    name: 话题
    subIntents:
      - id: ok
        name: 正常
        questions: [正常的问法]
        solutions: [{ id: default, text: 正常的答案 }]
      - id: broken
        name: 坏菜单
        menu: [menus/topic/ok, menus/topic/missing, menus/topic/broken]
        questions: [坏菜单的问法]
        solutions: [{ id: default, text: 请选择： }]
      - id: malformed
        name: 格式不对
        menu: [ok]
        questions: [格式不对的问法]
        solutions: [{ id: default, text: 请选择： }]
`;
    const problems = problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'menus.yaml': menus })));
    expect(problems).toEqual([
      expect.stringMatching(/^menus\.yaml: intents\[0\] \(topic\)\.subIntents\[2\] \(malformed\)\.menu\[0\]: must be a full sub-intent id/),
      'menus.yaml: intents[0] (topic).subIntents[2] (malformed).menu: needs at least two choices',
    ]);
    const fixed = menus.replace('menu: [ok]', 'menu: [menus/topic/ok, menus/topic/broken]');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'menus.yaml': fixed })))).toEqual([
      'menus.yaml: menus/topic/broken: menu: "menus/topic/missing" is no sub-intent',
      'menus.yaml: menus/topic/broken: menu: "menus/topic/broken" is the sub-intent itself',
    ]);
  });

  it('names the entry of a cooling-off presumption whose counterpart is missing, on the same side, or malformed', () => {
    const sides = `
id: sides
name: 退保
intents:
  - id: topic
    name: 话题
    subIntents:
      - id: within
        name: 犹豫期内退保
        coolingOff: { presumes: within, otherwise: sides/topic/after }
        questions: [犹豫期内怎么退]
        solutions: [{ id: default, text: 全额退 }]
      - id: after
        name: 犹豫期后退保
        coolingOff: { presumes: after, otherwise: sides/topic/within }
        questions: [过了犹豫期怎么退]
        solutions: [{ id: default, text: 退现金价值 }]
`;
    expect(readKnowledgeDir(writeKnowledgeFixture({ 'sides.yaml': sides })).subIntents.filter((sub) => sub.id.startsWith('sides/')).map((sub) => sub.coolingOff?.presumes)).toEqual(['within', 'after']);
    const missing = sides.replace('otherwise: sides/topic/within', 'otherwise: sides/topic/gone');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'sides.yaml': missing })))).toEqual([
      'sides.yaml: sides/topic/after: coolingOff.otherwise: "sides/topic/gone" is no sub-intent',
    ]);
    const sameSide = sides.replace('presumes: within', 'presumes: after');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'sides.yaml': sameSide })))).toEqual([
      'sides.yaml: sides/topic/within: coolingOff.otherwise: "sides/topic/after" must presume the other side (coolingOff: { presumes: within, ... })',
      'sides.yaml: sides/topic/after: coolingOff.otherwise: "sides/topic/within" must presume the other side (coolingOff: { presumes: within, ... })',
    ]);
    const malformed = sides.replace('presumes: within', 'presumes: during');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'sides.yaml': malformed })))).toEqual([
      expect.stringMatching(/^sides\.yaml: intents\[0\] \(topic\)\.subIntents\[0\] \(within\)\.coolingOff\.presumes: /),
    ]);
  });

  it('names the entry of ages that overlap within an intent, run backwards or are no ages', () => {
    const ages = `
id: ages
name: 推荐
intents:
  - id: stage
    name: 人生阶段
    subIntents:
      - id: kids
        name: 孩子
        forAges: { from: 0, to: 17 }
        questions: [孩子买什么]
        solutions: [{ id: default, text: 少儿险 }]
      - id: adults
        name: 成人
        forAges: { from: 18, to: 120 }
        questions: [大人买什么]
        solutions: [{ id: default, text: 重疾险 }]
`;
    expect(readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': ages })).subIntents.filter((sub) => sub.id.startsWith('ages/')).map((sub) => sub.forAges)).toEqual([
      { from: 0, to: 17 }, { from: 18, to: 120 },
    ]);
    const overlapping = ages.replace('from: 18', 'from: 16');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': overlapping })))).toEqual([
      'ages.yaml: ages/stage/kids: forAges: 0–17 overlaps ages/stage/adults (16–120)',
    ]);
    const backwards = ages.replace('{ from: 0, to: 17 }', '{ from: 17, to: 0 }');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': backwards })))).toEqual([
      expect.stringMatching(/^ages\.yaml: intents\[0\] \(stage\)\.subIntents\[0\] \(kids\)\.forAges: from must not be above to/),
    ]);
    const deferring = ages.replace('      - id: kids\n', '      - id: any\n        name: 买什么\n        deferToAge: true\n        questions: [买什么]\n        solutions: [{ id: default, text: 先保障 }]\n      - id: kids\n');
    expect(readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': deferring })).subIntents.find((sub) => sub.id === 'ages/stage/any')?.deferToAge).toBe(true);
    const deferringToNone = deferring.replace(/        forAges: .*\n/g, '');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': deferringToNone })))).toEqual([
      'ages.yaml: ages/stage/any: deferToAge: no sub-intent of ages/stage declares forAges',
    ]);
    const bandedAndDeferring = ages.replace('        forAges: { from: 0, to: 17 }\n', '        forAges: { from: 0, to: 17 }\n        deferToAge: true\n');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': bandedAndDeferring })))).toEqual([
      'ages.yaml: ages/stage/kids: deferToAge: an answer written for some ages (forAges) defers to none',
    ]);
    const notAnAge = ages.replace('to: 120', 'to: 300');
    expect(problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'ages.yaml': notAnAge })))).toEqual([
      expect.stringMatching(/^ages\.yaml: intents\[0\] \(stage\)\.subIntents\[1\] \(adults\)\.forAges\.to: /),
    ]);
  });

  it('names the entry of a solution written for a user state the platform does not know', () => {
    const states = `
id: states
name: 用户状态
intents:
  - id: topic
    name: 话题
    subIntents:
      - id: surrender
        name: 退保
        questions: [怎么退保]
        solutions:
          - { id: default, text: 通用答案 }
          - { id: vip, conditions: { userState: vip }, text: 贵宾答案 }
          - { id: cooling, conditions: { userState: in-cooling-off }, text: 犹豫期答案 }
`;
    const problems = problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'states.yaml': states })));
    expect(problems).toEqual([expect.stringMatching(/^states\.yaml: intents\[0\] \(topic\)\.subIntents\[0\] \(surrender\)\.solutions\[1\] \(vip\)\.conditions\.userState: /)]);
  });

  it('names the entry of a link to a product the mini-program does not sell (the page would say 没有找到这个产品)', () => {
    const links = `
id: links
name: 链接
intents:
  - id: topic
    name: 话题
    subIntents:
      - id: quotes
        name: 报价
        questions: [怎么报价]
        solutions:
          - id: default
            text: 试算一下
            rich:
              links:
                - { title: 医疗险试算, page: /pages/quote/index?product=medical }
                - { title: 车险报价, page: /pages/quote/index?product=auto }
                - { title: 车险详情, page: /pages/products/detail?id=auto }
                - { title: 我的保单, page: /pages/policies/index }
`;
    const dir = writeKnowledgeFixture({ 'links.yaml': links });
    expect(() => readKnowledgeDir(dir)).not.toThrow(); // no products/ folder: nothing to check against
    fs.mkdirSync(path.join(dir, 'products'));
    fs.writeFileSync(path.join(dir, 'products', 'medical.yaml'), 'id: medical\nname: 医疗险\n');
    expect(problemsOf(() => readKnowledgeDir(dir))).toEqual([
      'links.yaml: links/topic/quotes|*|*: link "车险报价" opens product "auto", which knowledge/products/ does not sell',
      'links.yaml: links/topic/quotes|*|*: link "车险详情" opens product "auto", which knowledge/products/ does not sell',
    ]);
  });

  it('refuses two solutions with the same conditions and a scenario id used twice', () => {
    const dup = `
id: invoice
name: 重复
intents:
  - id: x
    name: x
    subIntents:
      - id: y
        name: y
        questions: [问题]
        solutions:
          - { id: a, text: 答案一 }
          - { id: b, text: 答案二 }
`;
    const problems = problemsOf(() => readKnowledgeDir(writeKnowledgeFixture({ 'dup.yaml': dup })));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dup\.yaml: intents\[0\] \(x\)\.subIntents\[0\] \(y\): solutions \(b\): another solution has the same conditions$/),
        expect.stringMatching(/scenario id "invoice" is used by another file too/),
      ]),
    );
  });
});

describe('operator FAQ files', () => {
  it('reads JSONL rows, keeping ids stable and merging a repeated id as another phrasing', () => {
    const jsonl = [
      JSON.stringify({ id: 7, question: '保单丢了怎么办', answer: '可以下载电子保单。' }),
      JSON.stringify({ id: 7, question: '纸质保单不见了', answer: '可以下载电子保单。' }),
      JSON.stringify({ question: '怎么改手机号', answer: '在我的-设置里修改。', scenario: '保单服务', intent: '信息变更' }),
    ].join('\n');
    const set = readFaqFile('faq.jsonl', jsonl);
    expect(set.subIntents.find((s) => s.id === 'faq/general/7')?.questions).toEqual(['保单丢了怎么办', '纸质保单不见了']);
    const named = set.subIntents.find((s) => s.questions[0] === '怎么改手机号');
    expect(named?.id).toMatch(/^x[0-9a-f]{10}\/x[0-9a-f]{10}\/q[0-9a-f]{10}$/);
    expect(readFaqFile('faq.jsonl', jsonl).subIntents.map((s) => s.id)).toEqual(set.subIntents.map((s) => s.id));
  });

  it('reads CSV with quotes, commas and newlines inside fields', () => {
    expect(parseCsv('question,answer\n"a, b","say ""hi""\nthere"\n')).toEqual([['question', 'answer'], ['a, b', 'say "hi"\nthere']]);
    const set = readFaqFile('faq.csv', '\uFEFFquestion,answer,scenario\n发票怎么开,"在保单详情页申请，3个工作日内发送",发票\n');
    expect(set.solutions[0].text).toBe('在保单详情页申请，3个工作日内发送');
  });

  it('names the line of a bad row', () => {
    const problems = problemsOf(() => readFaqFile('faq.jsonl', '{"question":"q1","answer":"a1"}\n{"question":""}\nnot json\n'));
    expect(problems).toEqual([
      'faq.jsonl: line 3: not valid JSON',
      'faq.jsonl: line 2: question: must not be empty',
      expect.stringMatching(/^faq\.jsonl: line 2: answer: /),
    ]);
  });

  it('names the line a CSV row starts on, though quoted answers span lines and blank lines sit between rows', () => {
    const csv = 'question,answer\nq1,"第一行\n第二行\n第三行"\n\nq2,\n';
    expect(problemsOf(() => readFaqFile('faq.csv', csv))).toEqual(['faq.csv: line 6: answer: must not be empty']);
  });

  it('refuses a CSV quote that is never closed instead of reading the rest of the file as one answer', () => {
    const csv = 'question,answer\n"怎么退保,在保单详情里申请\n怎么报案,拨打热线\n发票怎么开,保单详情页申请\n';
    expect(problemsOf(() => readFaqFile('faq.csv', csv))).toEqual([
      'faq.csv: line 2: a quoted field is never closed (a " is missing), so every row after it would be lost',
    ]);
  });

  it('refuses a CSV row with more fields than columns (an unquoted comma would cut its answer short)', () => {
    const csv = 'question,answer\n发票怎么开,在保单详情页申请,3个工作日内发送\n怎么报案,拨打热线,\n';
    expect(problemsOf(() => readFaqFile('faq.csv', csv))).toEqual([
      'faq.csv: line 2: 3 fields but the header names 2; put a field containing a comma in double quotes',
    ]);
  });

  it('refuses the same question (or id) given twice with different answers instead of keeping one silently', () => {
    const csv = 'question,answer\n保单丢了怎么办,下载电子保单\n保单丢了怎么办,联系客服补发\n保单丢了怎么办,下载电子保单\n';
    expect(problemsOf(() => readFaqFile('faq.csv', csv))).toEqual(['faq.csv: line 3: the same question as line 2, with another answer']);
    const jsonl = [{ id: 7, question: '保单丢了怎么办', answer: 'A' }, { id: 7, question: '纸质保单不见了', answer: 'B' }].map((r) => JSON.stringify(r)).join('\n');
    expect(problemsOf(() => readFaqFile('faq.jsonl', jsonl))).toEqual(['faq.jsonl: line 2: the same id (7) as line 1, with another answer']);
  });

  it('reads a JSONL file saved with a byte-order mark', () => {
    expect(readFaqFile('faq.jsonl', '\uFEFF{"question":"营业时间","answer":"全天在线"}\r\n').solutions.map((s) => s.text)).toEqual(['全天在线']);
  });

  it('refuses a file saved as GBK, or text already garbled by one, naming the line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faq-'));
    const gbk = path.join(dir, 'faq.csv');
    // "question,answer\n发票,开票" with the Chinese in GBK bytes, as Excel on Chinese Windows saves it.
    fs.writeFileSync(gbk, Buffer.concat([Buffer.from('question,answer\n'), Buffer.from([0xb7, 0xa2, 0xc6, 0xb1, 0x2c, 0xbf, 0xaa, 0xc6, 0xb1, 0x0a])]));
    expect(problemsOf(() => readFaqFile(gbk))).toEqual(['faq.csv: line 2: not UTF-8 text (saved as GBK?); save the file as UTF-8']);
    expect(problemsOf(() => readFaqFile('faq.csv', 'question,answer\n\uFFFD\uFFFD,\uFFFD\uFFFD\n'))).toEqual([
      expect.stringMatching(/^faq\.csv: line 2: contains "\uFFFD", text garbled by a wrong encoding/),
    ]);
    const yamlDir = writeKnowledgeFixture();
    fs.writeFileSync(path.join(yamlDir, 'scenarios', 'gbk.yaml'), Buffer.concat([Buffer.from('id: gbk\nname: '), Buffer.from([0xb7, 0xa2, 0xc6, 0xb1]), Buffer.from('\n')]));
    expect(problemsOf(() => readKnowledgeDir(yamlDir))).toEqual(['gbk.yaml: line 2: not UTF-8 text (saved as GBK?); save the file as UTF-8']);
  });

  it('requires question and answer columns in CSV', () => {
    expect(problemsOf(() => readFaqFile('faq.csv', 'q,a\nx,y\n'))).toEqual(['faq.csv: line 1: the header must name "question" and "answer" columns']);
  });
});
