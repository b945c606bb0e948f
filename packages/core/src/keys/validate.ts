import { isValidScope } from '../scopes/expression';

/** Longest owner accepted. */
export const MAX_OWNER = 256;

/** A non-empty string of at most `max` characters, or a TypeError naming the field. */
export function checkString(value: unknown, name: string, max = 256): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new TypeError(`keyward: "${name}" must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

/** Valid, de-duplicated scopes. */
export function checkScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw new TypeError('keyward: "scopes" must be an array of scope strings');
  for (const s of scopes) if (!isValidScope(s)) throw new TypeError(`keyward: "scopes" contains an invalid scope: ${JSON.stringify(String(s)).slice(0, 80)}`);
  return [...new Set(scopes as string[])];
}

/** A JSON deep copy of a plain object (so the caller's object is never stored or mutated). */
export function checkObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`keyward: "${name}" must be a plain object`);
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    throw new TypeError(`keyward: "${name}" must be JSON-serialisable`);
  }
}

/** A Date or epoch milliseconds as epoch milliseconds. */
export function toTime(value: Date | number, name: string): number {
  const t = value instanceof Date ? value.getTime() : value;
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`keyward: "${name}" must be a Date or a time in ms since the epoch`);
  return t;
}
