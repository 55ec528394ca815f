import { ServiceHours, ServiceHoursError, type ServiceHoursSettings } from '../../src/tickets/service-hours';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Beijing wall-clock time as an instant (UTC+8, no daylight saving). */
const beijing = (local: string) => new Date(`${local}+08:00`);

const DAILY: ServiceHoursSettings = {
  timezone: 'Asia/Shanghai',
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ['09:00-21:00']])),
};
const WEEKDAYS_WITH_LUNCH: ServiceHoursSettings = {
  timezone: 'Asia/Shanghai',
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, ['13:00-18:00', '09:00-12:00']])),
  closedDates: ['2026-10-01', '2026-10-02'],
};

describe('service hours', () => {
  const daily = ServiceHours.of(DAILY);
  const office = ServiceHours.of(WEEKDAYS_WITH_LUNCH);

  it('counts a target inside opening hours as plain time', () => {
    expect(daily.add(beijing('2026-03-02T10:00:00'), 30 * MINUTE)).toEqual(beijing('2026-03-02T10:30:00'));
  });

  it('starts counting at the next opening when a ticket comes in after hours', () => {
    expect(daily.add(beijing('2026-03-02T22:00:00'), 30 * MINUTE)).toEqual(beijing('2026-03-03T09:30:00'));
    expect(daily.add(beijing('2026-03-03T06:15:00'), 30 * MINUTE)).toEqual(beijing('2026-03-03T09:30:00'));
  });

  it('carries what is left of a target over the night', () => {
    expect(daily.add(beijing('2026-03-02T20:50:00'), 30 * MINUTE)).toEqual(beijing('2026-03-03T09:20:00'));
    // 24 service hours from 10:00 = two full days of 12 hours.
    expect(daily.add(beijing('2026-03-02T10:00:00'), 24 * HOUR)).toEqual(beijing('2026-03-04T10:00:00'));
  });

  it('skips lunch, weekends and closed dates', () => {
    expect(office.add(beijing('2026-03-02T11:30:00'), 60 * MINUTE)).toEqual(beijing('2026-03-02T13:30:00'));
    // Friday 17:00 + 2 h: one hour on Friday, then Monday 09:00 + 1 h (2026-03-06 is a Friday).
    expect(office.add(beijing('2026-03-06T17:00:00'), 2 * HOUR)).toEqual(beijing('2026-03-09T10:00:00'));
    // Wednesday 30 September 17:30 + 1 h: the 1st and 2nd of October are closed.
    expect(office.add(beijing('2026-09-30T17:30:00'), HOUR)).toEqual(beijing('2026-10-05T09:30:00'));
  });

  it('measures only open time between two instants', () => {
    expect(daily.between(beijing('2026-03-02T20:00:00'), beijing('2026-03-03T10:00:00'))).toBe(2 * HOUR);
    expect(daily.between(beijing('2026-03-02T22:00:00'), beijing('2026-03-03T08:00:00'))).toBe(0);
    expect(office.between(beijing('2026-03-06T17:00:00'), beijing('2026-03-09T10:00:00'))).toBe(2 * HOUR);
    expect(daily.between(beijing('2026-03-03T10:00:00'), beijing('2026-03-02T10:00:00'))).toBe(0);
  });

  it('is its own inverse: the open time to add(from, x) is x', () => {
    let seed = 7;
    const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    for (let i = 0; i < 200; i++) {
      const from = new Date(beijing('2026-03-01T00:00:00').getTime() + Math.floor(random() * 60 * 24 * 60) * MINUTE);
      const x = Math.floor(random() * 5 * 24 * 60) * MINUTE;
      for (const hours of [daily, office]) expect(hours.between(from, hours.add(from, x))).toBe(x);
    }
  });

  it('follows daylight saving time in zones that have it', () => {
    const sundays = ServiceHours.of({ timezone: 'Europe/Berlin', weekly: { sun: ['00:00-24:00'] } });
    // Sunday 29 March 2026 has 23 hours in Berlin (02:00 → 03:00): local midnight to midnight.
    const start = new Date('2026-03-28T23:00:00Z');
    const end = new Date('2026-03-29T22:00:00Z');
    expect(sundays.between(start, end)).toBe(23 * HOUR);
    expect(sundays.add(start, 23 * HOUR)).toEqual(end);
    // Opening at 09:00 local is 07:00 UTC after the change, 08:00 before it.
    const mornings = ServiceHours.of({ timezone: 'Europe/Berlin', weekly: { sat: ['09:00-10:00'], sun: ['09:00-10:00'] } });
    expect(mornings.add(new Date('2026-03-28T00:00:00Z'), 0)).toEqual(new Date('2026-03-28T08:00:00Z'));
    expect(mornings.add(new Date('2026-03-28T12:00:00Z'), 0)).toEqual(new Date('2026-03-29T07:00:00Z'));
  });

  it('counts every minute around the clock when no hours are set', () => {
    const always = ServiceHours.always();
    expect(always.add(beijing('2026-03-02T23:00:00'), 30 * MINUTE)).toEqual(beijing('2026-03-02T23:30:00'));
    expect(always.between(beijing('2026-03-02T20:00:00'), beijing('2026-03-03T10:00:00'))).toBe(14 * HOUR);
  });

  it('refuses settings it cannot use, naming the field', () => {
    const refused = (settings: ServiceHoursSettings) => {
      try {
        ServiceHours.of(settings);
      } catch (err) {
        expect(err).toBeInstanceOf(ServiceHoursError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ ...DAILY, timezone: 'Beijing' })).toMatch(/^timezone: unknown time zone "Beijing"/);
    expect(refused({ ...DAILY, weekly: { mon: ['9-21'] } })).toMatch(/^weekly\.mon\[0\]: "9-21" is not an opening window/);
    expect(refused({ ...DAILY, weekly: { mon: ['21:00-09:00'] } })).toMatch(/^weekly\.mon\[0\]/);
    expect(refused({ ...DAILY, weekly: { mon: ['09:00-12:00', '11:00-18:00'] } })).toBe('weekly.mon: windows overlap');
    expect(refused({ ...DAILY, weekly: { monday: ['09:00-12:00'] } as ServiceHoursSettings['weekly'] })).toMatch(/^weekly\.monday: not a weekday/);
    expect(refused({ ...DAILY, weekly: {} })).toBe('weekly: no opening window on any day');
    expect(refused({ ...DAILY, closedDates: ['2026-02-30'] })).toMatch(/^closedDates\[0\]: "2026-02-30" is not a date/);
  });
});
