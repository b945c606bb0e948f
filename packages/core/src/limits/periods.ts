import type { QuotaPeriod } from './types';

/** A half-open interval `[start, end)` in ms since the epoch. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** The fixed window of length `windowMs` containing `now`, aligned to the epoch. */
export function fixedWindow(now: number, windowMs: number): Window {
  const start = Math.floor(now / windowMs) * windowMs;
  return { start, end: start + windowMs };
}

interface Wall {
  y: number;
  m: number; // 1–12
  d: number;
  h: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function parts(ms: number, timeZone: string): Wall & { mi: number; s: number } {
  const out: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) out[p.type] = p.value;
  return { y: Number(out['year']), m: Number(out['month']), d: Number(out['day']), h: Number(out['hour']), mi: Number(out['minute']), s: Number(out['second']), weekday: WEEKDAYS[out['weekday']!] ?? 0 };
}

/** The zone's offset from UTC at instant `ms`, in ms (wall clock minus UTC). */
function offsetAt(ms: number, timeZone: string): number {
  const p = parts(ms, timeZone);
  const wall = Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s);
  return wall - Math.floor(ms / 1000) * 1000;
}

const DAY_MS = 86_400_000;

/**
 * The first instant when the wall clock in `timeZone` reads the given local time (month may overflow; Date.UTC
 * normalises it). The offsets a day either side are the candidates, each kept only when the zone really has that
 * offset at the instant it gives: a first guess made with the offset at the UTC reading of the wall time is off by the
 * change near a DST transition (local midnight before a transition taken for the hour after it). In a repeated
 * (fall-back) reading the earlier instant is used; in a DST gap, the transition (the first instant after the gap).
 */
function instantOf(y: number, m: number, d: number, h: number, timeZone: string): number {
  return zonedInstant(Date.UTC(y, m - 1, d, h), timeZone);
}

/**
 * The first instant when the wall clock in `timeZone` reads `wall` (a local date and time written as ms since the
 * epoch, as `Date.UTC` gives for the local fields); see {@link instantOf} for repeated and skipped readings.
 */
export function zonedInstant(wall: number, timeZone: string): number {
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  let best: number | undefined;
  for (const o of before === after ? [before] : [before, after]) {
    const t = wall - o;
    if (offsetAt(t, timeZone) === o && (best === undefined || t < best)) best = t;
  }
  if (best !== undefined) return best;
  // A gap: the wall time never occurs. The transition lies between the two readings; find it to the second.
  let lo = wall - Math.max(before, after);
  let hi = wall - Math.min(before, after);
  const late = offsetAt(hi, timeZone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === late) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The calendar period containing `now`: the current hour, day, week (starting on weekday `day`, 0 = Sunday) or month
 * (starting on day-of-month `day`, or on the last day of a shorter month), with boundaries at local midnight (or the
 * hour) in `timeZone`.
 */
export function calendarWindow(now: number, period: QuotaPeriod, day: number, timeZone: string): Window {
  // Intl is slow next to a request: the current window of each (period, day, zone) is remembered.
  const id = `${period}|${day}|${timeZone}`;
  const cached = lastWindows.get(id);
  if (cached !== undefined && cached.start <= now && now < cached.end) return cached;
  let w = calendarWindowOf(now, period, day, timeZone);
  // A local hour that lasts longer than an hour is a repeated (DST fall-back) one: each real hour of it is a window.
  if (period === 'hour' && w.end - w.start > 3_600_000) {
    const start = w.start + Math.floor((now - w.start) / 3_600_000) * 3_600_000;
    w = { start, end: Math.min(start + 3_600_000, w.end) };
  }
  // Never expected; a safe answer should a zone's rules still surprise.
  if (!(w.start <= now && now < w.end)) w = fixedWindow(now, 3_600_000);
  if (lastWindows.size > 1000) lastWindows.clear();
  lastWindows.set(id, w);
  return w;
}

const lastWindows = new Map<string, Window>();

/**
 * The day a monthly period starting on `day` starts in month `m` of year `y` (`m` may overflow, as in `Date.UTC`):
 * `day`, or the month's last day when it is shorter (the 31st starts on Feb 28, Apr 30, …).
 */
function startDay(y: number, m: number, day: number): number {
  return day <= 28 ? day : Math.min(day, new Date(Date.UTC(y, m, 0)).getUTCDate());
}

function calendarWindowOf(now: number, period: QuotaPeriod, day: number, timeZone: string): Window {
  const w = parts(now, timeZone);
  switch (period) {
    case 'hour': {
      const start = instantOf(w.y, w.m, w.d, w.h, timeZone);
      return { start, end: instantOf(w.y, w.m, w.d, w.h + 1, timeZone) };
    }
    case 'day':
      return { start: instantOf(w.y, w.m, w.d, 0, timeZone), end: instantOf(w.y, w.m, w.d + 1, 0, timeZone) };
    case 'week': {
      const back = (w.weekday - day + 7) % 7;
      return { start: instantOf(w.y, w.m, w.d - back, 0, timeZone), end: instantOf(w.y, w.m, w.d - back + 7, 0, timeZone) };
    }
    case 'month': {
      const m = w.d >= startDay(w.y, w.m, day) ? w.m : w.m - 1;
      return { start: instantOf(w.y, m, startDay(w.y, m, day), 0, timeZone), end: instantOf(w.y, m + 1, startDay(w.y, m + 1, day), 0, timeZone) };
    }
  }
}
