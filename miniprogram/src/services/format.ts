/** ¥1,234.50 from integer 分. */
export function formatFen(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '—';
  const yuan = fen / 100;
  const text = Number.isInteger(yuan) ? String(yuan) : yuan.toFixed(2);
  const [int, dec] = text.split('.');
  return `¥${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${dec ? `.${dec}` : ''}`;
}

/** Sums insured read better in 万: 100万 / 30万 / 5,000元. */
export function formatSumInsured(fen: number): string {
  const yuan = fen / 100;
  if (yuan >= 10_000 && yuan % 10_000 === 0) return `${yuan / 10_000}万元`;
  return `${yuan.toLocaleString('en-US')}元`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant in China time: 2026-11-23 14:05. */
export function formatDateTime(iso: string | undefined): string {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const c = new Date(t.getTime() + 8 * 3_600_000);
  return `${c.getUTCFullYear()}-${pad(c.getUTCMonth() + 1)}-${pad(c.getUTCDate())} ${pad(c.getUTCHours())}:${pad(c.getUTCMinutes())}`;
}

/**
 * A deadline in China time. One that falls at midnight is shown as 24:00 of the day before (2026-12-10 24:00, as
 * policies write it), so the last day it covers is the day shown, not the day after.
 */
export function formatDeadline(iso: string | undefined): string {
  const text = formatDateTime(iso);
  if (!text.endsWith(' 00:00')) return text;
  const day = new Date(`${text.slice(0, 10)}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return `${day.toISOString().slice(0, 10)} 24:00`;
}

/** Chat time stamps: 14:05. */
export function formatClock(iso: string): string {
  return formatDateTime(iso).slice(11);
}

export const INCIDENT_KIND_LABELS: Record<string, string> = {
  accident: '意外',
  illness: '疾病',
  hospitalization: '住院',
  outpatient: '门诊',
  trip: '旅行',
  death: '身故',
  other: '其他',
};

export const DOCUMENT_KIND_LABELS: Record<string, string> = {
  id_card: '身份证',
  diagnosis: '诊断证明',
  medical_record: '病历',
  discharge_summary: '出院小结',
  invoice: '发票',
  expense_list: '费用清单',
  accident_proof: '事故证明',
  disability_assessment: '伤残鉴定',
  bank_card: '银行卡',
  travel_proof: '行程证明',
  other: '其他材料',
};

export const RELATION_LABELS: Record<string, string> = { self: '本人', spouse: '配偶', child: '子女', parent: '父母' };
