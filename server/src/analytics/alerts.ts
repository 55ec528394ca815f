import { randomBytes } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import type { EventBus } from '../events/bus';
import type { WeComAppMessage } from '../wechat/wecom-client';
import { isDuplicateKey } from '../db/duplicate-key';

/**
 * Alerts for managers (an agent in trouble, a surging topic), stored for the dashboard and sent in WeCom. No
 * storms: one alert per subject per cool-down, decided by a conditional update or a colliding insert on the
 * subject's cool-down document, so two instances cannot both send it.
 */

export const ALERT_KINDS = ['agent_anomaly', 'topic_spike', 'emerging_topic'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type AlertSeverity = 'info' | 'warning' | 'critical';

export interface AlertEvidence {
  inspectionIds?: string[];
  messageIds?: string[];
  /** e.g. the window counts and the expected level of a spike. */
  figures?: Record<string, number>;
  examples?: string[];
}

export interface AlertRecord {
  _id: string;
  kind: AlertKind;
  /** What the alert is about: an agent id, `scenario:claim-report`, `unanswered:c12ab…`. */
  subject: string;
  severity: AlertSeverity;
  title: string;
  summary: string;
  evidence: AlertEvidence;
  at: Date;
  notified: string[];
  notifyError?: string;
}

const alertSchema = new Schema<AlertRecord>({
  _id: { type: String, required: true },
  kind: { type: String, enum: ALERT_KINDS, required: true },
  subject: { type: String, required: true },
  severity: { type: String, enum: ['info', 'warning', 'critical'], required: true },
  title: { type: String, required: true },
  summary: { type: String, required: true },
  evidence: { type: Schema.Types.Mixed, default: {} },
  at: { type: Date, required: true },
  notified: { type: [String], default: [] },
  notifyError: String,
});
alertSchema.index({ at: -1 });
alertSchema.index({ kind: 1, subject: 1, at: -1 });

/** The last time an alert about a subject went out; the cool-down is measured from it. */
const alertCooldownSchema = new Schema<{ _id: string; lastRaisedAt: Date; suppressed: number }>({
  _id: { type: String, required: true },
  lastRaisedAt: { type: Date, required: true },
  suppressed: { type: Number, default: 0 },
});

export const Alert = mongoose.model<AlertRecord>('InsightAlert', alertSchema);
export const AlertCooldown = mongoose.model('InsightAlertCooldown', alertCooldownSchema);

/** The one WeCom call alerts need (WeComClient satisfies it; tests pass a fake). */
export interface WeComAlertSender {
  sendAppMessage(message: WeComAppMessage): Promise<unknown>;
}

export interface AlertInput {
  kind: AlertKind;
  subject: string;
  severity: AlertSeverity;
  title: string;
  summary: string;
  evidence: AlertEvidence;
  /** Managers to tell in WeCom (userids). */
  recipients: string[];
  /** Overrides the default cool-down for this kind. */
  cooldownMs?: number;
}

export interface AlertCenterOptions {
  events: EventBus;
  now: () => Date;
  wecom?: WeComAlertSender;
  /** Cool-down per kind. */
  cooldownMs: Record<AlertKind, number>;
  /** Link in the WeCom message (the dashboard). */
  dashboardUrl?: string;
  onNotifyError?: (err: unknown) => void;
}


export class AlertCenter {
  constructor(private readonly options: AlertCenterOptions) {}

  /** Raises an alert unless one about the same subject went out within the cool-down; returns it when raised. */
  async raise(input: AlertInput): Promise<AlertRecord | undefined> {
    const now = this.options.now();
    const cooldownMs = input.cooldownMs ?? this.options.cooldownMs[input.kind];
    const key = `${input.kind}:${input.subject}`;
    if (!(await this.claimCooldown(key, now, cooldownMs))) return undefined;

    const alert: AlertRecord = {
      _id: `${now.toISOString()}:${randomBytes(4).toString('hex')}`, kind: input.kind, subject: input.subject, severity: input.severity,
      title: input.title, summary: input.summary, evidence: input.evidence, at: now, notified: [],
    };
    await Alert.create(alert);
    this.options.events.publish('insight.alert_raised', { alertId: alert._id, kind: alert.kind, subject: alert.subject, severity: alert.severity, at: now });
    await this.notify(alert, input.recipients);
    return alert;
  }

  /** True when this caller may raise now (no alert on the subject within the cool-down). */
  private async claimCooldown(key: string, now: Date, cooldownMs: number): Promise<boolean> {
    const expired = await AlertCooldown.updateOne(
      { _id: key, lastRaisedAt: { $lte: new Date(now.getTime() - cooldownMs) } },
      { $set: { lastRaisedAt: now } },
    );
    if (expired.modifiedCount === 1) return true;
    try {
      await AlertCooldown.create({ _id: key, lastRaisedAt: now, suppressed: 0 });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await AlertCooldown.updateOne({ _id: key }, { $inc: { suppressed: 1 } });
      return false;
    }
  }

  private async notify(alert: AlertRecord, recipients: string[]): Promise<void> {
    const to = [...new Set(recipients)];
    if (!this.options.wecom || to.length === 0) return;
    const lines = [`【${alert.severity === 'critical' ? '紧急' : '提醒'}】${alert.title}`, alert.summary];
    if (alert.evidence.inspectionIds?.length) lines.push(`质检记录：${alert.evidence.inspectionIds.slice(0, 5).join('，')}`);
    if (alert.evidence.messageIds?.length) lines.push(`证据消息：${alert.evidence.messageIds.slice(0, 8).join('，')}`);
    if (alert.evidence.examples?.length) lines.push(`示例：${alert.evidence.examples.slice(0, 3).join(' / ')}`);
    if (this.options.dashboardUrl) lines.push(`详情：${this.options.dashboardUrl}`);
    try {
      await this.options.wecom.sendAppMessage({ type: 'text', toUsers: to, content: lines.join('\n') });
      await Alert.updateOne({ _id: alert._id }, { $set: { notified: to } });
      alert.notified = to;
    } catch (err) {
      // The alert stays on the dashboard; WeCom being down must not lose it or break inspection.
      alert.notifyError = (err as Error).message;
      await Alert.updateOne({ _id: alert._id }, { $set: { notifyError: alert.notifyError } });
      this.options.onNotifyError?.(err);
    }
  }

  async recent(limit = 20): Promise<AlertRecord[]> {
    return Alert.find({}).sort({ at: -1 }).limit(limit).lean<AlertRecord[]>();
  }
}
