/**
 * When the service desk is staffed, so SLA clocks count only the time agents could have acted: a ticket opened at
 * 22:00 with a 30-minute first-response target is due at 09:30 the next morning, not at 22:30. Opening hours are
 * wall-clock times in one time zone (IANA name), per weekday, with closed dates (public holidays) on top.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ServiceHoursSettings {
  /** IANA time zone the opening hours are written in, e.g. `Asia/Shanghai`. */
  timezone: string;
  /** Opening windows per weekday as `HH:MM-HH:MM` (24:00 allowed as an end); a missing day is closed. */
  weekly: Partial<Record<Weekday, string[]>>;
  /** Whole days closed (YYYY-MM-DD, in `timezone`), e.g. public holidays. */
  closedDates?: string[];
}

export class ServiceHoursError extends Error {}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Bound on the days walked for one answer: a target beyond this many days of calendar is a configuration error. */
const MAX_DAYS_WALKED = 3_660;
const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/** A local calendar day, as the numbers Date.UTC takes. */
interface LocalDay {
  year: number;
  month: number; // 1-12
  day: number;
}

/**
 * Counts time inside opening hours. `add` and `between` are each other's inverse over open time:
 * `between(a, add(a, x)) === x`.
 */
export class ServiceHours {
  private readonly windows: Map<number, Array<[number, number]>>;
  private readonly closed: Set<string>;
  private readonly parts: Intl.DateTimeFormat;

  private constructor(private readonly timezone: string | undefined, windows: Map<number, Array<[number, number]>>, closed: Set<string>) {
    this.windows = windows;
    this.closed = closed;
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone ?? 'UTC', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  }

  /** Built once: the constructor makes an Intl formatter, too costly for every ticket operation. */
  private static readonly aroundTheClock = new ServiceHours(undefined, new Map(), new Set());

  /** Around the clock: every minute counts (calendar time). */
  static always(): ServiceHours {
    return ServiceHours.aroundTheClock;
  }

  /** Validates the settings; errors name the field (`weekly.mon[0]`, `timezone`, `closedDates[2]`). */
  static of(settings: ServiceHoursSettings): ServiceHours {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: settings.timezone });
    } catch {
      throw new ServiceHoursError(`timezone: unknown time zone ${JSON.stringify(settings.timezone)} (use an IANA name such as Asia/Shanghai)`);
    }
    const windows = new Map<number, Array<[number, number]>>();
    for (const [name, list] of Object.entries(settings.weekly)) {
      const weekday = WEEKDAYS.indexOf(name as Weekday);
      if (weekday < 0) throw new ServiceHoursError(`weekly.${name}: not a weekday (use ${WEEKDAYS.join(', ')})`);
      const parsed = (list ?? []).map((text, i): [number, number] => {
        const match = WINDOW.exec(text);
        const from = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
        const to = match ? Number(match[3]) * 60 + Number(match[4]) : NaN;
        if (!match || to > 24 * 60 || to <= from) throw new ServiceHoursError(`weekly.${name}[${i}]: ${JSON.stringify(text)} is not an opening window such as "09:00-21:00"`);
        return [from, to];
      }).sort((a, b) => a[0] - b[0]);
      parsed.forEach(([from], i) => {
        if (i > 0 && from < parsed[i - 1][1]) throw new ServiceHoursError(`weekly.${name}: windows overlap`);
      });
      if (parsed.length) windows.set(weekday, parsed);
    }
    if (!windows.size) throw new ServiceHoursError('weekly: no opening window on any day');
    const closed = new Set<string>();
    (settings.closedDates ?? []).forEach((date, i) => {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
      const valid = match && new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))).toISOString().startsWith(date);
      if (!valid) throw new ServiceHoursError(`closedDates[${i}]: ${JSON.stringify(date)} is not a date such as "2026-10-01"`);
      closed.add(date);
    });
    return new ServiceHours(settings.timezone, windows, closed);
  }

  /** The instant `ms` of open time after `from` (from the next opening when `from` is outside opening hours). */
  add(from: Date, ms: number): Date {
    if (!this.timezone) return new Date(from.getTime() + ms);
    let remaining = Math.max(0, ms);
    let cursor = from.getTime();
    let day = this.localDay(cursor);
    for (let walked = 0; walked < MAX_DAYS_WALKED; walked++, day = nextDay(day)) {
      for (const [open, close] of this.openWindows(day)) {
        if (close <= cursor) continue;
        const start = Math.max(open, cursor);
        if (remaining <= close - start) return new Date(start + remaining);
        remaining -= close - start;
        cursor = close;
      }
    }
    throw new ServiceHoursError(`a target of ${Math.round(ms / MINUTE)} minutes does not fit in ${MAX_DAYS_WALKED} days of opening hours`);
  }

  /** How much open time lies between two instants (0 when `to` is not after `from`). */
  between(from: Date, to: Date): number {
    if (!this.timezone) return Math.max(0, to.getTime() - from.getTime());
    const start = from.getTime();
    const end = to.getTime();
    let total = 0;
    for (let day = this.localDay(start), walked = 0; walked < MAX_DAYS_WALKED; walked++, day = nextDay(day)) {
      const windows = this.openWindows(day);
      if (this.startOfDay(day) >= end) break;
      for (const [open, close] of windows) total += Math.max(0, Math.min(close, end) - Math.max(open, start));
    }
    return total;
  }

  /** A local day's opening windows as instants. */
  private openWindows(day: LocalDay): Array<[number, number]> {
    const key = `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`;
    if (this.closed.has(key)) return [];
    const weekday = new Date(Date.UTC(day.year, day.month - 1, day.day)).getUTCDay();
    return (this.windows.get(weekday) ?? []).map(([from, to]) => [this.instant(day, from), this.instant(day, to)]);
  }

  private startOfDay(day: LocalDay): number {
    return this.instant(day, 0);
  }

  /** The instant of a local wall-clock time (minutes after local midnight; 24:00 is the next midnight). */
  private instant(day: LocalDay, minutes: number): number {
    const wall = Date.UTC(day.year, day.month - 1, day.day) + minutes * MINUTE;
    // The offset at the wall time read as UTC, then again at the first guess: right across DST changes too.
    let guess = wall - this.offsetAt(wall);
    guess = wall - this.offsetAt(guess);
    return guess;
  }

  /** Local time minus UTC at an instant, in ms. */
  private offsetAt(instant: number): number {
    const p = this.fields(instant);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant / 1000) * 1000;
  }

  private localDay(instant: number): LocalDay {
    const { year, month, day } = this.fields(instant);
    return { year, month, day };
  }

  private fields(instant: number): LocalDay & { hour: number; minute: number; second: number } {
    const values: Record<string, number> = {};
    for (const part of this.parts.formatToParts(new Date(instant))) if (part.type !== 'literal') values[part.type] = Number(part.value);
    return { year: values.year, month: values.month, day: values.day, hour: values.hour, minute: values.minute, second: values.second };
  }
}

function nextDay(day: LocalDay): LocalDay {
  const next = new Date(Date.UTC(day.year, day.month - 1, day.day) + DAY);
  return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
}
