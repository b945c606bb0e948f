import { compileTime, wallClock } from './time';
import { namer } from './invalid';

const check = (v: object) => compileTime(v, namer(false), '.time')!;
const at = (iso: string) => Date.parse(iso);

describe('time restriction', () => {
  it('notBefore is inclusive, notAfter exclusive; ISO strings and ms both work', () => {
    const c = check({ notBefore: '2026-01-01T00:00:00Z', notAfter: at('2026-02-01T00:00:00Z') });
    expect(c(at('2025-12-31T23:59:59.999Z'))).toBe(false);
    expect(c(at('2026-01-01T00:00:00Z'))).toBe(true);
    expect(c(at('2026-01-31T23:59:59.999Z'))).toBe(true);
    expect(c(at('2026-02-01T00:00:00Z'))).toBe(false);
  });

  it('a date-time without an offset is read in the restriction\'s zone (default UTC), never in the process\'s', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'Asia/Tokyo', 'America/New_York']) {
        process.env.TZ = tz; // Date.parse('2026-06-01T09:00') would follow it
        const utc = check({ notBefore: '2026-06-01T09:00', notAfter: '2026-06-02' });
        expect([tz, utc(at('2026-06-01T08:59:59Z')), utc(at('2026-06-01T09:00:00Z')), utc(at('2026-06-01T23:59:59Z')), utc(at('2026-06-02T00:00:00Z'))]).toEqual([tz, false, true, true, false]);
        const berlin = check({ notBefore: '2026-06-01T09:00:00.000', timeZone: 'Europe/Berlin' }); // CEST, UTC+2
        expect([tz, berlin(at('2026-06-01T06:59:59Z')), berlin(at('2026-06-01T07:00:00Z'))]).toEqual([tz, false, true]);
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    expect(check({ notBefore: '2026-06-01T09:00+02:00' })(at('2026-06-01T07:00:00Z'))).toBe(true); // an offset is kept
    expect(() => check({ notBefore: '2026-13-01T09:00' })).toThrow('must be an ISO 8601 date-time');
  });

  it('every ISO 8601 / RFC 3339 form without an offset is a wall time in the zone: a space or "t" separator, any fraction', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/New_York']) {
        process.env.TZ = tz; // Date.parse reads each of these in the process's zone
        for (const value of ['2026-06-01 09:00', '2026-06-01t09:00', '2026-06-01T09:00:00.1234', '2026-06-01 09:00:00.000000']) {
          const berlin = check({ notBefore: value, timeZone: 'Europe/Berlin' }); // CEST, UTC+2
          expect([tz, value, berlin(at('2026-06-01T06:59:59Z')), berlin(at('2026-06-01T07:00:00.123Z'))]).toEqual([tz, value, false, true]);
        }
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    expect(check({ notBefore: '2026-06-01 09:00:00.5+02:00' })(at('2026-06-01T07:00:00.5Z'))).toBe(true);
    expect(check({ notBefore: '2026-06-01t07:00z' })(at('2026-06-01T07:00:00Z'))).toBe(true);
    expect(check({ notBefore: '2026-06-01T09:00-0230' })(at('2026-06-01T11:30:00Z'))).toBe(true);
    for (const bad of ['2026-06-01 9:00', '2026-06-01T09:00 ', '2026-06-01 09:00 GMT', '2026-06-01T09:00:00.', '2026-06-01Z']) {
      expect(() => check({ notBefore: bad })).toThrow('"restrictions.time.notBefore" must be an ISO 8601 date-time');
    }
  });

  it('refuses a date that does not exist instead of rolling it over into the next month', () => {
    for (const bad of ['2026-02-29', '2026-02-30T09:00', '2026-04-31T09:00Z', '2026-06-31', '2026-11-31T00:00:00+01:00']) {
      expect(() => check({ notAfter: bad })).toThrow('"restrictions.time.notAfter" must be an ISO 8601 date-time');
    }
    expect(check({ notAfter: '2028-02-29' })(at('2028-02-28T23:59:59Z'))).toBe(true); // a leap day
    expect(check({ notAfter: '2028-02-29' })(at('2028-02-29T00:00:00Z'))).toBe(false);
    expect(check({ notAfter: '2026-01-31T24:00' })(at('2026-01-31T23:59:59Z'))).toBe(true); // 24:00 ends the day
    expect(check({ notAfter: '2026-01-31T24:00' })(at('2026-02-01T00:00:00Z'))).toBe(false);
  });

  it('a weekly window: from included, to excluded, days respected', () => {
    const c = check({ windows: [{ days: ['mon', 'Tuesday'], from: '09:00', to: '17:00', timeZone: 'Europe/Berlin' }] });
    // Monday 2026-01-05, CET (UTC+1)
    expect(c(at('2026-01-05T07:59:59Z'))).toBe(false);
    expect(c(at('2026-01-05T08:00:00Z'))).toBe(true);
    expect(c(at('2026-01-05T15:59:59Z'))).toBe(true);
    expect(c(at('2026-01-05T16:00:00Z'))).toBe(false);
    expect(c(at('2026-01-06T12:00:00Z'))).toBe(true);
    expect(c(at('2026-01-07T12:00:00Z'))).toBe(false);
  });

  it('follows daylight-saving changes: 09:00 local stays 09:00 local (New York, 8 March 2026)', () => {
    const c = check({ windows: [{ from: '09:00', to: '17:00', timeZone: 'America/New_York' }] });
    // the day before: EST, UTC-5
    expect(c(at('2026-03-07T13:59:00Z'))).toBe(false);
    expect(c(at('2026-03-07T14:00:00Z'))).toBe(true);
    // DST day: EDT, UTC-4 — a fixed offset would get both of these wrong
    expect(c(at('2026-03-08T12:59:59Z'))).toBe(false);
    expect(c(at('2026-03-08T13:00:00Z'))).toBe(true);
    expect(c(at('2026-03-08T20:59:59Z'))).toBe(true);
    expect(c(at('2026-03-08T21:00:00Z'))).toBe(false);
  });

  it('the skipped hour never happens and the repeated hour happens twice', () => {
    const skipped = check({ windows: [{ days: ['sun'], from: '02:00', to: '03:00', timeZone: 'America/New_York' }] });
    expect(skipped(at('2026-03-08T06:59:59Z'))).toBe(false); // 01:59:59 EST
    expect(skipped(at('2026-03-08T07:00:00Z'))).toBe(false); // 03:00 EDT
    const repeated = check({ windows: [{ days: ['sun'], from: '01:00', to: '02:00', timeZone: 'America/New_York' }] });
    expect(repeated(at('2026-11-01T05:30:00Z'))).toBe(true); // 01:30 EDT
    expect(repeated(at('2026-11-01T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(repeated(at('2026-11-01T07:00:00Z'))).toBe(false); // 02:00 EST
  });

  it('overnight windows belong to their start day', () => {
    const c = check({ windows: [{ days: ['fri'], from: '22:00', to: '06:00' }] });
    expect(c(at('2026-01-09T21:59:00Z'))).toBe(false); // Fri 21:59
    expect(c(at('2026-01-09T22:00:00Z'))).toBe(true); // Fri 22:00
    expect(c(at('2026-01-10T05:59:00Z'))).toBe(true); // Sat 05:59
    expect(c(at('2026-01-10T06:00:00Z'))).toBe(false); // Sat 06:00
    expect(c(at('2026-01-10T22:00:00Z'))).toBe(false); // Sat 22:00
  });

  it('24:00 ends a window at midnight; the default zone is the restriction\'s, else UTC', () => {
    const c = check({ timeZone: 'Asia/Kolkata', windows: [{ from: '18:00', to: '24:00' }] });
    expect(c(at('2026-01-05T12:29:00Z'))).toBe(false); // 17:59 IST
    expect(c(at('2026-01-05T12:30:00Z'))).toBe(true); // 18:00
    expect(c(at('2026-01-05T18:29:59Z'))).toBe(true); // 23:59:59
    expect(c(at('2026-01-05T18:30:00Z'))).toBe(false); // 00:00
    const utc = check({ windows: [{ from: '00:00', to: '01:00' }] });
    expect(utc(at('2026-01-05T00:30:00Z'))).toBe(true);
  });

  it('wallClock reads the zone through Intl', () => {
    expect(wallClock('Europe/Berlin')!(at('2026-03-29T01:00:00Z'))).toEqual({ day: 0, minute: 3 * 60 });
    expect(wallClock('Not/AZone')).toBeUndefined();
  });

  it('refuses bad values, naming them', () => {
    const cases: Array<[object, string]> = [
      [{ notBefore: 'yesterday' }, '"restrictions.time.notBefore" must be an ISO 8601 date-time'],
      [{ notBefore: 2, notAfter: 1 }, '"restrictions.time.notAfter" must be after "notBefore"'],
      [{ windows: [] }, '"restrictions.time.windows" must be a non-empty array'],
      [{ windows: [{ from: '9:00', to: '17:00' }] }, '"restrictions.time.windows[0].from" must be a time "HH:MM"'],
      [{ windows: [{ from: '09:00', to: '24:01' }] }, '"restrictions.time.windows[0].to"'],
      [{ windows: [{ from: '09:00', to: '09:00' }] }, '"restrictions.time.windows[0].to" must differ'],
      [{ windows: [{ from: '09:00', to: '10:00', timeZone: 'Mars/Olympus' }] }, '"restrictions.time.windows[0].timeZone" must be an IANA time zone'],
      [{ windows: [{ from: '09:00', to: '10:00', days: ['someday'] }] }, '"restrictions.time.windows[0].days[0]" must be a day'],
      [{ windows: [{ from: '09:00', to: '10:00', at: 1 }] }, 'unknown field "at"'],
      [{ timeZone: 'nowhere' }, '"restrictions.time.timeZone"'],
    ];
    for (const [v, message] of cases) expect(() => check(v)).toThrow(message);
  });
});
