import type { LiveAnswers } from '../conversation/pipeline';
import { redeemBindingCode } from './bindings';
import { insuranceFacts, type ClaimFact, type PolicyFact } from './facts';
import { yuanText } from './views';

const BIND_COMMAND = /^\s*绑定\s*(\d{6})\s*$/;
/** "绑定123", "绑定 1234567": meant as the command, with a code of the wrong length. */
const MALFORMED_BIND_COMMAND = /^\s*绑定[\s:：]*[\d\s]+$/;
const NOT_LINKED = '还没有找到您名下的保单。如果在小程序里买过保险，请在小程序「我的」→「关联公众号」获取6位绑定码，然后在这里发送“绑定 123456”。';

function describePolicies(policies: PolicyFact[]): string {
  if (policies.length === 0) return '您名下暂时没有保单。可以在小程序「保险」页看看适合您的保障。';
  const lines = policies.slice(0, 5).map((p, i) =>
    `${i + 1}. ${p.productName}（${p.planName}）${p.statusLabel}，保单号 ${p.policyNumber}，被保险人 ${p.insuredName}，保额 ${yuanText(p.sumInsuredFen)}，${p.startsOn} 至 ${p.endsOn}` +
    (p.coolingOffEndsAt ? `，犹豫期至 ${p.coolingOffEndsAt.toISOString().slice(0, 10)}` : ''));
  const more = policies.length > 5 ? `\n还有 ${policies.length - 5} 张，请在小程序「我的保单」查看全部。` : '';
  return `您名下共有 ${policies.length} 张保单：\n${lines.join('\n')}${more}`;
}

function describeClaims(claims: ClaimFact[]): string {
  if (claims.length === 0) return '您目前没有处理中的理赔。如需报案，可以在小程序「我的」→「我的保单」里选择保单，点“申请理赔”。';
  const lines = claims.slice(0, 5).map((c, i) => {
    const missing = c.neededDocuments.length ? `，还需补充：${c.neededDocuments.join('、')}` : '';
    const approved = c.approvedAmountFen !== undefined ? `，核定金额 ${yuanText(c.approvedAmountFen)}` : '';
    return `${i + 1}. 案件 ${c.claimNumber}（${c.productName}）：${c.statusLabel}${missing}${approved}，更新于 ${c.updatedAt.toISOString().slice(0, 10)}`;
  });
  return `您有 ${claims.length} 件理赔在处理中：\n${lines.join('\n')}`;
}

/**
 * "我的保单" and "理赔进度到哪了" from the user's own records, the states answers may be written for (a policy in its
 * cooling-off period, a claim being handled), and the follower's binding command.
 */
export const insuranceLiveAnswers: LiveAnswers = {
  async answer(kind, user, now) {
    // Mini-program users are known by their mini-program openid; Official Account followers through a binding or unionid.
    const facts = await insuranceFacts.forUser({ openId: user.userId, unionId: user.unionId }, now);
    if (!facts.linked) return NOT_LINKED;
    if (kind === 'my-policies') return describePolicies(facts.policies);
    if (kind === 'claim-progress') return describeClaims(facts.openClaims);
    return undefined;
  },
  async userStates(user, now) {
    const facts = await insuranceFacts.forUser({ openId: user.userId, unionId: user.unionId }, now);
    if (!facts.linked) return [];
    const states: string[] = [];
    if (facts.policies.some((p) => p.coolingOffEndsAt)) states.push('in-cooling-off');
    if (facts.openClaims.length) states.push('claim-open');
    states.push(facts.policies.some((p) => p.status === 'in_force' || p.status === 'pending') ? 'has-policy' : 'no-policy');
    return states;
  },
  async command(text, user, now) {
    if (user.channel !== 'official-account') return undefined;
    const match = BIND_COMMAND.exec(text);
    if (!match) return MALFORMED_BIND_COMMAND.test(text) ? '绑定码是6位数字，请发送“绑定”加小程序「我的」→「关联公众号」里显示的6位数字，例如：绑定 123456。' : undefined;
    const result = await redeemBindingCode({ oaOpenId: user.userId, code: match[1], now });
    if (result.ok) return '绑定成功！现在可以直接发“我的保单”或“理赔进度”查询。';
    return result.reason === 'too_many_attempts'
      ? '尝试次数过多，请一小时后再试。'
      : '绑定码无效或已过期，请在小程序重新获取。';
  },
};
