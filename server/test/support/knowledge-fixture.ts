import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A small knowledge/ folder of our own for tests: three scenarios that a retriever must tell apart. */
export const FIXTURE_SCENARIOS: Record<string, string> = {
  'surrender.yaml': `
id: surrender
name: 退保与犹豫期
intents:
  - id: cooling-off
    name: 犹豫期退保
    subIntents:
      - id: full-refund
        name: 犹豫期内退保全额退款
        sensitive: true
        questions:
          - 犹豫期内退保能全额退吗
          - 刚买的保险想退掉
          - 买了十天的重疾险不想要了
          - 犹豫期退保退多少钱
          - 新买的保单可以无损退吗
          - 后悔买保险了怎么退
        solutions:
          - id: default
            text: 犹豫期内（签收保单后15天内）申请退保，保费全额退还，只扣除最多10元工本费。
  - id: after-cooling-off
    name: 犹豫期后退保
    subIntents:
      - id: cash-value
        name: 犹豫期后退保退现金价值
        questions:
          - 过了犹豫期退保会损失多少
          - 交了三年的保险退保能退多少
          - 退保只退现金价值吗
          - 保单现金价值怎么查
          - 退保亏钱吗
          - 买了好几年了现在想退保
        solutions:
          - id: default
            text: 犹豫期后退保只退还保单的现金价值，通常低于已交保费，请先在保单详情里查看现金价值。
`,
  'claims.yaml': `
id: claim-report
name: 理赔报案
intents:
  - id: how-to-report
    name: 怎么报案
    subIntents:
      - id: online-report
        name: 线上自助报案
        questions:
          - 怎么报案
          - 出险了在哪里报案
          - 住院了怎么申请理赔
          - 理赔在哪里申请啊
          - 我要报案
          - 出事了怎么理培
        solutions:
          - id: default
            text: 在小程序「理赔」页点击「我要报案」，填写出险时间和经过即可，建议出险后48小时内报案。
            rich:
              text: 点击下方按钮在线报案
              links:
                - { title: 在线报案, page: /pages/claims/new }
          - id: auto
            text: 车险出险请先拨打95500-0000报案并拍照保留现场，再在小程序上传材料。
            conditions:
              product: auto
`,
  'invoice.yaml': `
id: invoice
name: 发票
intents:
  - id: e-invoice
    name: 电子发票
    subIntents:
      - id: issue
        name: 开具保费电子发票
        questions:
          - 怎么开发票
          - 保费发票在哪里开
          - 我需要保费的发票报销
          - 能开电子发漂吗
          - 发票抬头怎么填
          - 公司报销要发票
        solutions:
          - id: default
            text: 在保单详情页点「申请发票」，填写抬头和税号，电子发票会在3个工作日内发到您的邮箱。
`,
};

/** Writes the fixture (optionally with overrides) into a fresh temp folder laid out like knowledge/. */
export function writeKnowledgeFixture(overrides: Record<string, string | null> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-knowledge-'));
  fs.mkdirSync(path.join(dir, 'scenarios'));
  for (const [file, content] of Object.entries({ ...FIXTURE_SCENARIOS, ...overrides })) {
    if (content !== null) fs.writeFileSync(path.join(dir, 'scenarios', file), content);
  }
  return dir;
}
