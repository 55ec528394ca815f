import type { PushOutcome, UserDelivery } from '../conversation/delivery';
import type { Logger } from '../logging/logger';
import { WeChatApiError, WeChatErrcode, type MiniProgramSubscribeMessage } from '../wechat/api-client';
import { CLAIM_STATUS_LABELS, type ClaimStatus } from './claim-state';
import { findCustomer } from './customers';
import { FollowerBinding } from './models';

/**
 * Telling customers what happened: a mini-program subscription message (one per acceptance the user gave in
 * wx.requestSubscribeMessage), and, when that cannot reach them and they follow the Official Account, a text through
 * the conversation's UserDelivery. Notices never undo or block the change they report.
 */
export type InsuranceNotice =
  | { kind: 'policy_issued'; policyId: string; productName: string; startsOn: string; premiumFen: number }
  | { kind: 'claim_progress'; claimId: string; status: ClaimStatus; note?: string; at: Date }
  | { kind: 'renewal_due'; policyId: string; productName: string; endsOn: string };

export interface InsuranceNotifier {
  notify(customerId: string, notice: InsuranceNotice): Promise<PushOutcome>;
}

/** The one call this needs from the mini-program API client (WeChatAppApi has it). */
export interface SubscribeMessageSender {
  sendMiniProgramSubscribeMessage(message: MiniProgramSubscribeMessage): Promise<{ msgId?: string }>;
}

/** Template ids chosen in the mini-program console; a kind without one is not sent as a subscription message. */
export interface NoticeTemplates {
  policyIssued?: string;
  claimProgress?: string;
  renewalDue?: string;
}

/** Keyword limits (spec §4.3): thing ≤ 20 characters, character_string ≤ 32, phrase ≤ 5. */
const cut = (text: string, max: number) => ([...text].length <= max ? text : `${[...text].slice(0, max - 1).join('')}…`);
const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;
const chinaMinute = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');

/**
 * Keywords per kind. The templates picked in the console must have these keywords:
 * policy issued 投保成功通知 {thing1 产品名称, character_string2 保单号, date3 生效日期, amount4 保费};
 * claim progress 理赔进度通知 {character_string1 案件号, phrase2 理赔状态, thing3 说明, time4 更新时间};
 * renewal 续保提醒 {thing1 产品名称, date2 到期日期, thing3 温馨提示}.
 */
export function subscriptionContent(notice: InsuranceNotice): { page: string; data: Record<string, string> } {
  switch (notice.kind) {
    case 'policy_issued':
      return {
        page: `pages/policies/detail?id=${notice.policyId}`,
        data: { thing1: cut(notice.productName, 20), character_string2: notice.policyId, date3: notice.startsOn, amount4: yuan(notice.premiumFen) },
      };
    case 'claim_progress':
      return {
        page: `pages/claims/detail?id=${notice.claimId}`,
        data: {
          character_string1: notice.claimId,
          phrase2: CLAIM_STATUS_LABELS[notice.status],
          thing3: cut(notice.note?.trim() || CLAIM_STATUS_TEXT[notice.status], 20),
          time4: chinaMinute(notice.at),
        },
      };
    case 'renewal_due':
      return {
        page: `pages/policies/detail?id=${notice.policyId}`,
        data: { thing1: cut(notice.productName, 20), date2: notice.endsOn, thing3: '保障即将到期，请及时续保' },
      };
  }
}

const CLAIM_STATUS_TEXT: Record<ClaimStatus, string> = {
  reported: '已收到您的报案，我们会尽快处理',
  documents_needed: '请在小程序中补充理赔材料',
  under_review: '材料已齐全，正在审核',
  approved: '审核通过，即将赔付',
  rejected: '很遗憾，本次理赔未通过',
  paid: '赔款已支付，请注意查收',
};

/** The same facts as a chat line, for followers reached through the Official Account. */
export function noticeText(notice: InsuranceNotice): string {
  switch (notice.kind) {
    case 'policy_issued':
      return `您投保的「${notice.productName}」已出单，保单号 ${notice.policyId}，${notice.startsOn} 零时起生效。`;
    case 'claim_progress':
      return `理赔案件 ${notice.claimId} 进度更新：${CLAIM_STATUS_LABELS[notice.status]}。${notice.note?.trim() || CLAIM_STATUS_TEXT[notice.status]}`;
    case 'renewal_due':
      return `您的「${notice.productName}」（保单号 ${notice.policyId}）将于 ${notice.endsOn} 到期，请及时续保，以免保障中断。`;
  }
}

function templateFor(templates: NoticeTemplates, notice: InsuranceNotice): string | undefined {
  switch (notice.kind) {
    case 'policy_issued':
      return templates.policyIssued;
    case 'claim_progress':
      return templates.claimProgress;
    case 'renewal_due':
      return templates.renewalDue;
  }
}

export interface SubscriptionNotifierOptions {
  sender?: SubscribeMessageSender;
  templates: NoticeTemplates;
  miniProgramState?: 'developer' | 'trial' | 'formal';
  /** Fallback to Official Account followers linked to the customer (the conversation's UserDelivery). */
  delivery?: Pick<UserDelivery, 'push'>;
  logger?: Logger;
}

export class SubscriptionNotifier implements InsuranceNotifier {
  constructor(private readonly options: SubscriptionNotifierOptions) {}

  async notify(customerId: string, notice: InsuranceNotice): Promise<PushOutcome> {
    const outcome = await this.viaSubscription(customerId, notice);
    if (outcome.ok || !this.options.delivery) return outcome;
    const follower = await FollowerBinding.findOne({ customerId }).sort({ boundAt: -1 }).lean();
    if (!follower) return outcome;
    return this.options.delivery.push('official-account', follower._id, [{ kind: 'text', text: noticeText(notice) }]);
  }

  private async viaSubscription(customerId: string, notice: InsuranceNotice): Promise<PushOutcome> {
    const templateId = templateFor(this.options.templates, notice);
    if (!this.options.sender || !templateId) return { ok: false, reason: 'user_unreachable', detail: `no template for ${notice.kind}` };
    const customer = await findCustomer(customerId);
    if (!customer) return { ok: false, reason: 'user_unreachable', detail: 'unknown customer' };
    const content = subscriptionContent(notice);
    try {
      await this.options.sender.sendMiniProgramSubscribeMessage({
        toUser: customer.mpOpenId,
        templateId,
        page: content.page,
        miniProgramState: this.options.miniProgramState ?? 'formal',
        lang: 'zh_CN',
        data: content.data,
      });
      return { ok: true };
    } catch (err) {
      // 43101: the user gave no (more) acceptances for this template; nothing to retry.
      if (err instanceof WeChatApiError && err.errcode === WeChatErrcode.UserRefusedSubscribeMessage) {
        return { ok: false, reason: 'user_unreachable', detail: 'no subscription acceptance (43101)' };
      }
      this.options.logger?.warn({ err, kind: notice.kind }, 'subscription message failed');
      return { ok: false, reason: 'failed', detail: err instanceof Error ? err.message : String(err) };
    }
  }
}

/**
 * Sends notices after the request that caused them has answered (a pay notify must answer within 5 s); failures are
 * logged. `settled()` lets tests and shutdown wait for what is in flight.
 */
export class NoticeQueue {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly notifier: InsuranceNotifier,
    private readonly logger?: Logger,
  ) {}

  enqueue(customerId: string, notice: InsuranceNotice): void {
    const run = this.notifier
      .notify(customerId, notice)
      .then((outcome) => {
        if (!outcome.ok) this.logger?.info({ kind: notice.kind, reason: outcome.reason, detail: outcome.detail }, 'notice not delivered');
      })
      .catch((err: unknown) => this.logger?.error({ err, kind: notice.kind }, 'notice failed'))
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}
