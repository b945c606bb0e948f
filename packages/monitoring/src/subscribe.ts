import { isEventType, unknownEventType, type Keyward, type KeywardEvent, type KeywardEventType } from '@keyward/core';

/**
 * Checks a sink's `types` option once, at start-up: absent (every type), or a non-empty array of known event types.
 *
 * @throws TypeError naming the option
 */
export function parseTypes(types: readonly KeywardEventType[] | undefined): ReadonlySet<KeywardEventType> | undefined {
  if (types === undefined) return undefined;
  if (!Array.isArray(types) || types.length === 0) throw new TypeError('keyward: option "types" must be a non-empty array of event types');
  for (const t of types) {
    if (!isEventType(t)) throw new TypeError(`keyward: option "types" has an ${unknownEventType(t, false)}`);
  }
  return new Set(types);
}

/**
 * Subscribes a sink to the event types it takes: each of `types`, or every type (`'*'`) when it takes all. A sink
 * that takes only some types subscribes to those alone, so keyward builds no event, and tracks no response, for the
 * others (an alerting sink costs the requests that succeed nothing). Returns the unsubscribe function, `undefined`
 * without an instance.
 */
export function subscribeTo(keyward: Pick<Keyward, 'on'> | undefined, types: ReadonlySet<KeywardEventType> | undefined, listener: (event: KeywardEvent) => void): (() => void) | undefined {
  if (!keyward) return undefined;
  if (!types) return keyward.on('*', listener);
  const offs = [...types].map((t) => keyward.on(t, listener));
  return () => {
    for (const off of offs) off();
  };
}
