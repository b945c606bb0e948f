const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** The longest duration any option takes: 100 years. */
export const MAX_DURATION_MS = 100 * 365.25 * 86_400_000;

/**
 * Parses a duration given as milliseconds or as a string such as `'90d'`, `'24h'`, `'15m'`, `'30s'`, `'500ms'`.
 *
 * @param value - the duration
 * @param name - the option's name, used in the error message
 * @throws TypeError naming the option when the value is not a non-negative finite duration of at most 100 years
 */
export function parseDuration(value: unknown, name: string): number {
  let ms: number | undefined;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) ms = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(value);
    if (m) ms = Math.round(Number(m[1]) * UNITS[m[2]!]!);
  }
  if (ms !== undefined) {
    // Beyond it a time plus the duration can leave what a Date holds (a key's expiry, a token's `exp`, a grace period's
    // end fail with a RangeError), and a failed-auth window of a million years was forgotten at once: refused, by name.
    if (ms > MAX_DURATION_MS) throw new TypeError(`keyward: option "${name}" must be at most 100 years`);
    return ms;
  }
  throw new TypeError(`keyward: option "${name}" must be a non-negative number of milliseconds or a duration like "30s", "15m", "24h", "90d"`);
}
