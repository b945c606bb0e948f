/**
 * Every field of an options type, each `true`. Passed as a literal to {@link fieldsOf} (or written with
 * `satisfies FieldNames<T>`), so the compiler refuses the list when a field is added to `T` and not here, or named
 * here and not in `T`.
 */
export type FieldNames<T> = { readonly [K in keyof Required<T>]: true };

/** The names of a {@link FieldNames} list, for {@link refuseUnknownFields}. */
export function fieldsOf<T>(names: FieldNames<T>): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/** Edit distance of two short names, for a suggestion (the names are tens of characters at most). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known name `name` was most likely meant to be: the same but for case, or the nearest within two edits (three
 * for a name of eight characters or more, so `maxEntry` finds `maxEntries`); `undefined` when none is near.
 */
export function likelyMeant(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = name.length >= 8 ? 4 : 3;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/**
 * A field's name as an error may show it: quoted (a line break stays on the line), unless it is longer than 40
 * characters or holds a run of 24 letters and digits, as a key, a token or a secret used as a name by mistake would.
 * No option's name comes near either.
 */
export function shownName(field: unknown): string {
  if (typeof field !== 'string') return `(a ${typeof field}, not a name)`;
  if (field.length > 40 || /[0-9A-Za-z]{24}/.test(field)) return `(a name of ${field.length} characters, not shown: it could be a credential)`;
  return JSON.stringify(field);
}

/** The first field of `value` that `known` does not name, as the error's words: the name as {@link shownName} and a suggestion. */
function unknownField(value: object, known: readonly string[]): { shown: string; hint: string } | undefined {
  for (const field of Object.keys(value)) {
    if (known.includes(field)) continue;
    const meant = likelyMeant(field, known);
    return { shown: shownName(field), hint: meant === undefined ? '' : `did you mean "${meant}"? ` };
  }
  return undefined;
}

/**
 * Refuses a field of an options object that keyward does not know, naming it, the likely intended one and the known
 * ones. A misspelt option must fail at start-up rather than be ignored: `limits: { burst: … }` for
 * `limits: { rules: { burst: … } }`, or `audiance` for `audience`, would otherwise leave an API unlimited or accept
 * tokens minted for another service. `option` names the object (`"limits.rules.burst"`); without it the fields are
 * keyward's top-level options. Names only field names, never a value.
 *
 * @throws TypeError naming the unknown field
 */
export function refuseUnknownFields(value: object, known: readonly string[], option?: string): void {
  const u = unknownField(value, known);
  if (u === undefined) return;
  if (option === undefined) throw new TypeError(`keyward: unknown option ${u.shown}${u.hint ? ` (${u.hint.trimEnd()})` : ''}`);
  throw new TypeError(`keyward: option "${option}" has an unknown field ${u.shown} (${u.hint}known: ${known.join(', ')})`);
}

/**
 * `value` as an options object (`keyward: option "limits.rules.burst" must be an object` otherwise); with `known`, one
 * with only those fields ({@link refuseUnknownFields}).
 *
 * @throws TypeError naming the option
 */
export function optionObject(value: unknown, option: string, known?: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`keyward: option "${option}" must be an object`);
  if (known !== undefined) refuseUnknownFields(value, known, option);
  return value as Record<string, unknown>;
}

/**
 * The same for the input of a call (`keys.create()`, `tokens.issue()`): an object (`keyward: keys.create() takes an
 * options object` otherwise) with only the `known` fields. `keys.create({ owner, expiresInn: '90d' })` must not create
 * a key that never expires.
 *
 * @throws TypeError naming the call, and the unknown field
 */
export function refuseUnknownInput(value: unknown, known: readonly string[], call: string): asserts value is object {
  if (typeof value !== 'object' || value === null) throw new TypeError(`keyward: ${call} takes an options object`);
  const u = unknownField(value, known);
  if (u !== undefined) throw new TypeError(`keyward: ${call} has an unknown field ${u.shown} (${u.hint}known: ${known.join(', ')})`);
}
