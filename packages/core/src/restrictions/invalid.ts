import { likelyMeant, shownName } from '../config/fields';

/**
 * Names a value in a restriction for error messages: `option "restrictions.ip.allow[0]"` for the global policy,
 * `"restrictions.ip.allow[0]"` for a key's restrictions.
 */
export type Namer = (path: string) => string;

/** A namer for the global policy (`option "restrictions…"`) or for key restrictions (`"restrictions…"`). */
export function namer(isOption: boolean, root = 'restrictions'): Namer {
  return (path) => `${isOption ? 'option ' : ''}"${root}${path}"`;
}

/** The TypeError for an invalid restriction value. Never echoes the value itself. */
export function invalid(name: string, what: string): TypeError {
  return new TypeError(`keyward: ${name} ${what}`);
}

/** Checks that `value` is a plain object with only the given fields; an unknown one is named with the field it likely meant. */
export function checkFields(value: unknown, fields: readonly string[], name: Namer, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(name(path), 'must be an object');
  for (const k of Object.keys(value)) {
    if (fields.includes(k)) continue;
    const meant = likelyMeant(k, fields);
    throw invalid(name(path), `has an unknown field ${shownName(k)} (${meant === undefined ? '' : `did you mean "${meant}"? `}known: ${fields.join(', ')})`);
  }
  return value as Record<string, unknown>;
}

/** Checks an optional array of strings (at most `max`, each at most `maxLength` characters). */
export function stringList(value: unknown, name: Namer, path: string, max = 1000, maxLength = 256): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid(name(path), 'must be an array of strings');
  if (value.length > max) throw invalid(name(path), `must have at most ${max} entries`);
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) throw invalid(name(`${path}[${i}]`), `must be a non-empty string of at most ${maxLength} characters`);
  });
  return value as string[];
}

/** Checks an optional boolean. */
export function optionalBool(value: unknown, name: Namer, path: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(name(path), 'must be a boolean');
  return value;
}
