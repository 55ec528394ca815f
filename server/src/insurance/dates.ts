/**
 * Calendar dates as the insurer counts them: China time (UTC+8, no daylight saving), 'YYYY-MM-DD' strings.
 * Cover starts and ends at 00:00 China time; ages are 周岁 (full years) on a given date.
 */
export type CalendarDate = string;

const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The China-time calendar date of an instant. */
export function chinaDate(instant: Date): CalendarDate {
  return new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** 00:00 China time on that date. */
export function startOfChinaDay(day: CalendarDate): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

/** True for a real calendar date written YYYY-MM-DD (no 2023-02-30). */
export function isCalendarDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

export function addDays(day: CalendarDate, days: number): CalendarDate {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Same month and day `years` later; 29 February becomes 28 February in a common year. */
export function addYears(day: CalendarDate, years: number): CalendarDate {
  const [y, m, d] = day.split('-').map(Number);
  const target = new Date(Date.UTC(y + years, m - 1, d));
  if (target.getUTCMonth() !== m - 1) target.setUTCDate(0);
  return target.toISOString().slice(0, 10);
}

export function daysBetween(from: CalendarDate, to: CalendarDate): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

export interface Age {
  /** 周岁: full years lived. Negative when born after `on`. */
  years: number;
  /** Days lived (出生满 N 天). */
  days: number;
}

export function ageOn(birthDate: CalendarDate, on: CalendarDate): Age {
  const [by, bm, bd] = birthDate.split('-').map(Number);
  const [y, m, d] = on.split('-').map(Number);
  let years = y - by;
  if (m < bm || (m === bm && d < bd)) years -= 1;
  return { years, days: daysBetween(birthDate, on) };
}
