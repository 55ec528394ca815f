import type { RetrievalDocument } from '../../../src/knowledge/retrieval';

/** A small hand-written insurance knowledge base: sub-intents with a few phrasings and a generic answer each. */
export const INSURANCE_DOCUMENTS: RetrievalDocument[] = [
  {
    id: 'surrender/cooling-off',
    questions: ['犹豫期内怎么退保', '刚买的保险想退掉能全额退款吗', '冷静期退保要扣钱吗', '犹豫期退保需要什么材料'],
    answer: '在犹豫期内申请退保，保险公司会全额退还已交保费，只需提供保单和投保人身份证。',
  },
  {
    id: 'surrender/after-cooling-off',
    questions: ['过了犹豫期还能退保吗', '保单交了三年想退保能退多少钱', '退保按现金价值退吗'],
    answer: '犹豫期过后退保只能退还保单的现金价值，通常低于已交保费，建议慎重考虑。',
  },
  {
    id: 'claim/report',
    questions: ['出险了怎么报案', '发生事故后怎么申请理赔', '理赔报案电话是多少', '住院了怎么报案理赔'],
    answer: '出险后请在48小时内拨打客服电话报案，或在公众号的理赔服务里在线报案。',
  },
  {
    id: 'claim/documents',
    questions: ['理赔需要准备哪些材料', '申请理赔要交什么资料', '住院理赔需要发票原件吗'],
    answer: '理赔一般需要理赔申请书、身份证、银行卡、病历和医疗费用发票原件。',
  },
  {
    id: 'invoice/request',
    questions: ['怎么开保费发票', '保险可以开发票吗', '电子发票在哪里下载', '发票抬头开错了能重开吗'],
    answer: '您可以在公众号的保单服务中申请电子发票，开具后发送到您的邮箱。',
  },
  {
    id: 'policy/loan',
    questions: ['保单贷款怎么办理', '保单可以贷款吗', '保单借款利息多少'],
    answer: '有现金价值的寿险保单可以申请保单贷款，额度一般不超过现金价值的80%。',
  },
  {
    id: 'account/change-phone',
    questions: ['怎么修改保单上的手机号', '手机号换了怎么更新', '变更联系电话'],
    answer: '请在公众号的个人中心里修改手机号，需要验证新号码。',
  },
  {
    id: 'service/human',
    questions: ['转人工', '我要找人工客服', '人工服务在哪里'],
    answer: '正在为您转接人工客服，请稍候。',
  },
];
