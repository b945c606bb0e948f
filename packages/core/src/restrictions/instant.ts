import { zonedInstant } from '../limits/periods';

/**
 * An ISO 8601 / RFC 3339 date or date-time: `T`, `t` or a space between date and time, any number of fraction
 * digits (read to the millisecond), and an optional `Z` or `±HH:MM` / `±HHMM` offset after a time.
 */
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Reads an ISO 8601 date or date-time string as an instant (ms since the epoch), by one grammar on every platform:
 * `Date.parse` reads a value without `Z` or an offset in the process's own zone, and each engine accepts its own
 * variants. A value without `Z` or an offset is a wall time in `timeZone` (see `zonedInstant` for skipped and
 * repeated readings). Fields out of range (month 13, 30 February, 09:60) make it not
 * such a string.
 *
 * @example
 * ```ts
 * parseInstant('2026-06-01T09:00', 'Europe/Berlin'); // Date.parse('2026-06-01T07:00:00Z')
 * parseInstant('2026-06-01 09:00:00.5+02:00', 'UTC'); // Date.parse('2026-06-01T07:00:00.500Z')
 * ```
 * @returns `undefined` when `value` is not such a string
 */
export function parseInstant(value: string, timeZone: string): number | undefined {
  const m = ISO_RE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((f) => (f === undefined ? undefined : Number(f))) as number[];
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31 || minute > 59 || second > 59) return undefined;
  if (hour > 24 || (hour === 24 && (minute > 0 || second > 0 || ms > 0))) return undefined; // 24:00 is the next midnight
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!); // not Date.UTC, which reads years 0–99 as 1900–1999
  if (date.getUTCDate() !== day) return undefined; // 30 February would roll over into March
  date.setUTCHours(hour, minute, second, ms);
  const wall = date.getTime();
  const zone = m[8];
  if (zone === undefined) return zonedInstant(wall, timeZone);
  if (zone === 'Z' || zone === 'z') return wall;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  if (Number(digits.slice(0, 2)) > 23 || Number(digits.slice(2)) > 59) return undefined;
  return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}
