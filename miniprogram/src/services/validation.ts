/**
 * The checks the server makes on people and dates (server/src/insurance/validation.ts), run before sending so the
 * form can say what is wrong next to the field, in Chinese. The server still decides.
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CHARS = '10X98765432';
const PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
  64, 65, 71, 81, 82, 83,
]);

export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** undefined when valid, otherwise why not. `today` (China calendar date) bounds the birth date, as the server does. */
export function checkIdCard(value: string, today: string = chinaToday()): string | undefined {
  const number = value.trim().toUpperCase();
  if (!number) return '请填写身份证号';
  if (!/^\d{17}[\dX]$/.test(number)) return '身份证号应为18位';
  if (!PROVINCES.has(Number(number.slice(0, 2)))) return '身份证号地区码有误';
  const birth = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`;
  if (!isCalendarDate(birth) || Number(number.slice(6, 10)) < 1900) return '身份证号中的出生日期有误';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(number[i]) * ID_WEIGHTS[i];
  if (ID_CHECK_CHARS[sum % 11] !== number[17]) return '身份证号校验位不正确，请核对';
  if (birth > today) return '身份证号中的出生日期晚于今天，请核对';
  return undefined;
}

export function birthDateFromIdCard(value: string, today: string = chinaToday()): string | undefined {
  if (checkIdCard(value, today)) return undefined;
  const n = value.trim();
  return `${n.slice(6, 10)}-${n.slice(10, 12)}-${n.slice(12, 14)}`;
}

export function checkPhone(value: string): string | undefined {
  if (!value.trim()) return '请填写手机号';
  return /^1[3-9]\d{9}$/.test(value.trim()) ? undefined : '请填写11位手机号';
}

export function checkName(value: string): string | undefined {
  const name = value.trim();
  if (!name) return '请填写姓名';
  return /^(?:[\u4e00-\u9fa5·]{2,20}|[A-Za-z][A-Za-z .'-]{1,49})$/.test(name) ? undefined : '请填写真实姓名（2–20个汉字）';
}

export function checkDate(value: string, label: string): string | undefined {
  if (!value) return `请选择${label}`;
  return isCalendarDate(value) ? undefined : `${label}格式应为 YYYY-MM-DD`;
}

/** Today as a China calendar date (UTC+8, no DST), as the server counts days. */
export function chinaToday(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export type Errors<K extends string> = Partial<Record<K, string>>;

export const hasErrors = (errors: Record<string, string | undefined>) => Object.values(errors).some(Boolean);
