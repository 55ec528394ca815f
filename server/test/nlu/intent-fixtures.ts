import type { LabelledText } from '../../src/nlu/intent-classifier';

/** A small insurance intent set: three scenarios, five sub-intents, eight phrasings each. */
export const SMALL_INTENTS: LabelledText[] = [
  ...['怎么报案', '出险了在哪里报案', '我要报案', '住院了怎么申请理赔', '理赔怎么报', '发生事故要怎么报案', '报案电话多少', '线上可以报案吗']
    .map((text) => ({ text, label: 'claims/report/how-to-report' })),
  ...['理赔要什么材料', '理赔需要准备哪些资料', '报销要带发票吗', '理赔材料清单', '需要病历吗', '申请理赔要交什么', '诊断证明要原件吗', '材料不全怎么办']
    .map((text) => ({ text, label: 'claims/materials/list' })),
  ...['我想退保', '怎么退保', '退保能退多少钱', '犹豫期内退保扣钱吗', '不想要这份保险了', '取消保单', '退保流程', '退保要多久到账']
    .map((text) => ({ text, label: 'policy/surrender/how' })),
  ...['改受益人', '受益人可以变更吗', '把受益人改成我女儿', '怎么修改受益人', '受益人写错了', '变更受益人要什么', '能加一个受益人吗', '受益人怎么改']
    .map((text) => ({ text, label: 'policy/change/beneficiary' })),
  ...['续保多少钱', '明年保费多少', '保费怎么涨了', '续期保费怎么交', '自动续保扣多少', '保费可以按月交吗', '保费太贵了能便宜吗', '今年保费是多少']
    .map((text) => ({ text, label: 'premium/renewal/price' })),
];

/** A second, larger set with other labels: what a knowledge update might bring. */
export function largerIntents(subIntents = 120, perSubIntent = 8): LabelledText[] {
  const topics = ['发票', '体检', '核保', '复效', '加保', '减保', '押金', '垫付', '直付', '宽限期', '等待期', '免赔额'];
  const asks = ['怎么办理', '需要多久', '在哪里查', '有什么条件', '费用怎么算', '找谁办', '能不能线上办', '要带什么', '什么时候生效', '会不会影响理赔'];
  const templates = [(t: string, a: string) => `${t}${a}`, (t: string, a: string) => `请问${t}${a}`, (t: string, a: string) => `我想问${t}${a}呢`,
    (t: string, a: string) => `${t}的事${a}`, (t: string, a: string) => `你好 ${t}${a}啊`, (t: string, a: string) => `关于${t}，${a}`,
    (t: string, a: string) => `麻烦说下${t}${a}`, (t: string, a: string) => `${t}到底${a}`];
  const rows: LabelledText[] = [];
  for (let k = 0; k < subIntents; k++) {
    const topic = topics[k % topics.length];
    const ask = asks[Math.floor(k / topics.length) % asks.length];
    for (let n = 0; n < perSubIntent; n++) rows.push({ text: templates[n % templates.length](topic, ask), label: `service/${topic}/${k}` });
  }
  return rows;
}
