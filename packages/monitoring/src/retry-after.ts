/**
 * The delay a `Retry-After` header asks for (RFC 9110 §10.2.3), in ms: delay-seconds, or an HTTP date read against
 * `now`. `undefined` when absent or unreadable; 0 for a date already past.
 *
 * @param value - the header's value
 * @param now - the current time in ms since the epoch
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
