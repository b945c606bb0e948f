import { checkFields, invalid, type Namer } from './invalid';
import { parseInstant } from './instant';

/** A compiled time restriction: true when the instant `now` (ms since the epoch) is allowed. */
export type TimeCheck = (now: number) => boolean;

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const FULL_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Local wall time in a zone: weekday (0 = Sunday) and minutes since midnight. */
export interface WallTime {
  readonly day: number;
  readonly minute: number;
}

const zones = new Map<string, (now: number) => WallTime>();

/**
 * Returns a function giving the local wall time of an IANA zone at an instant, through `Intl.DateTimeFormat` (so
 * daylight-saving rules come from the platform's time-zone data). Results are cached per minute.
 *
 * @returns `undefined` when the zone is unknown
 */
export function wallClock(timeZone: string): ((now: number) => WallTime) | undefined {
  const cached = zones.get(timeZone);
  if (cached) return cached;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  } catch {
    return undefined;
  }
  let lastMinute = NaN;
  let last: WallTime = { day: 0, minute: 0 };
  const fn = (now: number): WallTime => {
    const m = Math.floor(now / 60_000);
    if (m === lastMinute) return last;
    let day = 0;
    let hour = 0;
    let minute = 0;
    for (const part of format.formatToParts(m * 60_000)) {
      if (part.type === 'weekday') day = DAYS.indexOf(part.value.toLowerCase().slice(0, 3) as (typeof DAYS)[number]);
      else if (part.type === 'hour') hour = Number(part.value) % 24;
      else if (part.type === 'minute') minute = Number(part.value);
    }
    lastMinute = m;
    last = { day, minute: hour * 60 + minute };
    return last;
  };
  if (zones.size < 1000) zones.set(timeZone, fn);
  return fn;
}

/**
 * An instant from ms, a Date or an ISO 8601 string (see {@link parseInstant}). A string without `Z` or an offset is a
 * wall time in `timeZone` (the restriction's, default UTC), never in the process's own zone, so every instance reads
 * it alike.
 */
function instant(value: unknown, name: string, timeZone: string): number {
  const t = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : typeof value === 'string' ? parseInstant(value, timeZone) : undefined;
  if (t === undefined || !Number.isFinite(t)) throw invalid(name, 'must be an ISO 8601 date-time or a time in ms since the epoch');
  return t;
}

function minutes(value: unknown, name: string): number {
  if (typeof value !== 'string' || !HHMM_RE.test(value)) throw invalid(name, 'must be a time "HH:MM" from "00:00" to "24:00"');
  return Number(value.slice(0, 2)) * 60 + Number(value.slice(3));
}

function zoneOf(value: unknown, name: string): (now: number) => WallTime {
  const clock = typeof value === 'string' && value.length <= 64 ? wallClock(value) : undefined;
  if (!clock) throw invalid(name, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
  return clock;
}

function daysOf(value: unknown, name: Namer, path: string): boolean[] {
  if (value === undefined) return DAYS.map(() => true);
  if (!Array.isArray(value) || value.length === 0) throw invalid(name(path), 'must be a non-empty array of days ("mon" … "sun")');
  const set = DAYS.map(() => false);
  value.forEach((d, i) => {
    const key = typeof d === 'string' ? d.toLowerCase() : '';
    let idx = DAYS.indexOf(key as (typeof DAYS)[number]);
    if (idx === -1) idx = FULL_DAYS.indexOf(key);
    if (idx === -1) throw invalid(name(`${path}[${i}]`), 'must be a day: "mon", "tue", "wed", "thu", "fri", "sat" or "sun"');
    set[idx] = true;
  });
  return set;
}

/**
 * Compiles a `time` restriction once: `notBefore <= now < notAfter`, and, when windows are set, `now` inside one
 * of them in its zone's local wall time. A window from 22:00 to 06:00 runs overnight and belongs to its start day.
 *
 * @throws TypeError naming the value that is not valid
 */
export function compileTime(value: unknown, name: Namer, path: string): TimeCheck | undefined {
  const v = checkFields(value, ['notBefore', 'notAfter', 'windows', 'timeZone'], name, path);
  const defaultZone = v.timeZone === undefined ? 'UTC' : v.timeZone;
  zoneOf(defaultZone, name(`${path}.timeZone`));
  const notBefore = v.notBefore === undefined ? undefined : instant(v.notBefore, name(`${path}.notBefore`), defaultZone as string);
  const notAfter = v.notAfter === undefined ? undefined : instant(v.notAfter, name(`${path}.notAfter`), defaultZone as string);
  if (notBefore !== undefined && notAfter !== undefined && notAfter <= notBefore) throw invalid(name(`${path}.notAfter`), 'must be after "notBefore"');
  let windows: Array<{ zone: (now: number) => WallTime; days: boolean[]; from: number; to: number }> | undefined;
  if (v.windows !== undefined) {
    if (!Array.isArray(v.windows) || v.windows.length === 0 || v.windows.length > 100) throw invalid(name(`${path}.windows`), 'must be a non-empty array of at most 100 windows');
    windows = v.windows.map((w, i) => {
      const p = `${path}.windows[${i}]`;
      const wv = checkFields(w, ['days', 'from', 'to', 'timeZone'], name, p);
      const from = minutes(wv.from, name(`${p}.from`));
      const to = minutes(wv.to, name(`${p}.to`));
      if (from === to) throw invalid(name(`${p}.to`), 'must differ from "from" (use "00:00" to "24:00" for a whole day)');
      if (from === 24 * 60) throw invalid(name(`${p}.from`), 'must be before "24:00"');
      return { zone: zoneOf(wv.timeZone ?? defaultZone, name(`${p}.timeZone`)), days: daysOf(wv.days, name, `${p}.days`), from, to };
    });
  }
  if (notBefore === undefined && notAfter === undefined && !windows) return undefined;
  return (now) => {
    if (notBefore !== undefined && now < notBefore) return false;
    if (notAfter !== undefined && now >= notAfter) return false;
    if (!windows) return true;
    for (const w of windows) {
      const { day, minute } = w.zone(now);
      if (w.from < w.to) {
        if (w.days[day] && minute >= w.from && minute < w.to) return true;
      } else if ((w.days[day] && minute >= w.from) || (w.days[(day + 6) % 7] && minute < w.to)) return true;
    }
    return false;
  };
}
