import { calendarWindow, fixedWindow, isTimeZone } from './periods';

const iso = (w: { start: number; end: number }) => [new Date(w.start).toISOString(), new Date(w.end).toISOString()];

describe('periods', () => {
  it('fixed windows are aligned to the epoch', () => {
    expect(fixedWindow(25_000, 10_000)).toEqual({ start: 20_000, end: 30_000 });
    expect(fixedWindow(30_000, 10_000)).toEqual({ start: 30_000, end: 40_000 });
  });

  it('hour and day in UTC', () => {
    const now = Date.parse('2026-03-10T10:17:03Z');
    expect(iso(calendarWindow(now, 'hour', 1, 'UTC'))).toEqual(['2026-03-10T10:00:00.000Z', '2026-03-10T11:00:00.000Z']);
    expect(iso(calendarWindow(now, 'day', 1, 'UTC'))).toEqual(['2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z']);
  });

  it('a day in a time zone starts at local midnight', () => {
    const now = Date.parse('2026-07-01T22:30:00Z'); // 2026-07-02 00:30 in Paris (UTC+2)
    expect(iso(calendarWindow(now, 'day', 1, 'Europe/Paris'))).toEqual(['2026-07-01T22:00:00.000Z', '2026-07-02T22:00:00.000Z']);
  });

  it('an hour in a half-hour zone', () => {
    const now = Date.parse('2026-01-05T10:10:00Z'); // 15:40 in Kolkata (UTC+5:30)
    expect(iso(calendarWindow(now, 'hour', 1, 'Asia/Kolkata'))).toEqual(['2026-01-05T09:30:00.000Z', '2026-01-05T10:30:00.000Z']);
  });

  it('weeks start on the chosen weekday', () => {
    const wed = Date.parse('2026-03-11T12:00:00Z'); // a Wednesday
    expect(iso(calendarWindow(wed, 'week', 1, 'UTC'))).toEqual(['2026-03-09T00:00:00.000Z', '2026-03-16T00:00:00.000Z']);
    expect(iso(calendarWindow(wed, 'week', 0, 'UTC'))).toEqual(['2026-03-08T00:00:00.000Z', '2026-03-15T00:00:00.000Z']);
    expect(iso(calendarWindow(wed, 'week', 3, 'UTC'))).toEqual(['2026-03-11T00:00:00.000Z', '2026-03-18T00:00:00.000Z']);
  });

  it('months start on the chosen day, across years, in the zone', () => {
    expect(iso(calendarWindow(Date.parse('2026-03-20T00:00:00Z'), 'month', 15, 'UTC'))).toEqual(['2026-03-15T00:00:00.000Z', '2026-04-15T00:00:00.000Z']);
    expect(iso(calendarWindow(Date.parse('2026-03-10T00:00:00Z'), 'month', 15, 'UTC'))).toEqual(['2026-02-15T00:00:00.000Z', '2026-03-15T00:00:00.000Z']);
    expect(iso(calendarWindow(Date.parse('2026-01-03T00:00:00Z'), 'month', 5, 'UTC'))).toEqual(['2025-12-05T00:00:00.000Z', '2026-01-05T00:00:00.000Z']);
    expect(iso(calendarWindow(Date.parse('2026-12-20T00:00:00Z'), 'month', 1, 'UTC'))).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
    // New York: March contains the DST change (UTC-5 → UTC-4)
    expect(iso(calendarWindow(Date.parse('2026-03-20T12:00:00Z'), 'month', 1, 'America/New_York'))).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
  });

  it('a month starting on day 29–31 starts on the last day of a shorter month', () => {
    const month = (t: string, day: number, tz = 'UTC') => iso(calendarWindow(Date.parse(t), 'month', day, tz));
    // 2026 is not a leap year: the period of the 31st runs Jan 31 → Feb 28 → Mar 31 → Apr 30.
    expect(month('2026-02-15T12:00:00Z', 31)).toEqual(['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z']);
    expect(month('2026-02-28T00:00:00Z', 31)).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    expect(month('2026-03-30T23:59:59Z', 31)).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    expect(month('2026-04-30T00:00:00Z', 31)).toEqual(['2026-04-30T00:00:00.000Z', '2026-05-31T00:00:00.000Z']);
    expect(month('2026-02-27T23:59:59Z', 29)).toEqual(['2026-01-29T00:00:00.000Z', '2026-02-28T00:00:00.000Z']);
    expect(month('2026-12-31T10:00:00Z', 30)).toEqual(['2026-12-30T00:00:00.000Z', '2027-01-30T00:00:00.000Z']);
    // 2028 is: February has a 29th.
    expect(month('2028-02-29T05:00:00Z', 29)).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-29T00:00:00.000Z']);
    expect(month('2028-02-29T05:00:00Z', 30)).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-30T00:00:00.000Z']);
    expect(month('2028-02-28T05:00:00Z', 31)).toEqual(['2028-01-31T00:00:00.000Z', '2028-02-29T00:00:00.000Z']);
    // In a zone, across the DST change at the end of March (Berlin: 2026-03-29 02:00 → 03:00).
    expect(month('2026-03-30T22:30:00Z', 31, 'Europe/Berlin')).toEqual(['2026-03-30T22:00:00.000Z', '2026-04-29T22:00:00.000Z']);
    expect(month('2026-03-29T12:00:00Z', 31, 'Europe/Berlin')).toEqual(['2026-02-27T23:00:00.000Z', '2026-03-30T22:00:00.000Z']);
  });

  it('the day of a DST change is 23 or 25 hours long', () => {
    const spring = calendarWindow(Date.parse('2026-03-29T12:00:00Z'), 'day', 1, 'Europe/Paris');
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
    const autumn = calendarWindow(Date.parse('2026-10-25T12:00:00Z'), 'day', 1, 'Europe/Paris');
    expect(autumn.end - autumn.start).toBe(25 * 3_600_000);
  });

  it('every instant lies in its window, including the repeated hour', () => {
    for (let t = Date.parse('2026-10-24T22:00:00Z'); t < Date.parse('2026-10-25T04:00:00Z'); t += 7 * 60_000) {
      for (const p of ['hour', 'day', 'week', 'month'] as const) {
        const w = calendarWindow(t, p, 1, 'Europe/Paris');
        expect(w.start <= t && t < w.end).toBe(true);
      }
    }
  });

  it('a period next to a DST change ends at the local boundary, not an hour off', () => {
    // Sydney leaves DST on Sunday 2026-04-05 at 03:00: the Saturday before is an ordinary day, ending at midnight AEDT.
    expect(iso(calendarWindow(Date.parse('2026-04-04T02:00:00Z'), 'day', 1, 'Australia/Sydney'))).toEqual(['2026-04-03T13:00:00.000Z', '2026-04-04T13:00:00.000Z']);
    expect(iso(calendarWindow(Date.parse('2026-04-20T02:00:00Z'), 'month', 5, 'Australia/Sydney'))).toEqual(['2026-04-04T13:00:00.000Z', '2026-05-04T14:00:00.000Z']);
    // Paris, 2026-10-25: the hour before the repeated one is one hour long.
    expect(iso(calendarWindow(Date.parse('2026-10-24T22:30:00Z'), 'hour', 1, 'Europe/Paris'))).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-24T23:00:00.000Z']);
  });

  it('a repeated midnight starts the day at its first occurrence; a skipped one at the transition', () => {
    // Havana goes back from 01:00 to 00:00 on 2026-11-01; Santiago skips 00:00–01:00 on 2026-09-06.
    for (const t of ['2026-11-01T04:30:00Z', '2026-11-01T05:30:00Z']) {
      expect(iso(calendarWindow(Date.parse(t), 'day', 1, 'America/Havana'))).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
    }
    expect(iso(calendarWindow(Date.parse('2026-09-06T12:00:00Z'), 'day', 1, 'America/Santiago'))).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
  });

  it('zones with unusual changes: each instant near a 2026 transition lies in a window with local boundaries', () => {
    const zones = ['Australia/Sydney', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Auckland', 'America/Havana', 'America/Santiago', 'America/Nuuk', 'Pacific/Easter', 'Asia/Jerusalem', 'Asia/Beirut', 'Antarctica/Troll', 'Europe/Paris', 'America/New_York'];
    const wrong: string[] = [];
    for (const tz of zones) {
      const localDay = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
      const name = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
      const offset = (ms: number) => name.formatToParts(ms).find((p) => p.type === 'timeZoneName')!.value;
      for (let h = Date.UTC(2026, 0, 1); h < Date.UTC(2027, 0, 1); h += 3_600_000) {
        if (offset(h) === offset(h + 3_600_000)) continue;
        for (let t = h - 26 * 3_600_000; t < h + 26 * 3_600_000; t += 45 * 60_000) {
          const d = calendarWindow(t, 'day', 1, tz);
          const day = localDay.format(t);
          if (localDay.format(d.start) !== day || localDay.format(d.start - 1) === day || localDay.format(d.end - 1) !== day || localDay.format(d.end) === day) wrong.push(`${tz} day ${new Date(t).toISOString()}`);
          const hour = calendarWindow(t, 'hour', 1, tz);
          if (!(hour.start <= t && t < hour.end && hour.end - hour.start <= 3_600_000)) wrong.push(`${tz} hour ${new Date(t).toISOString()}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
