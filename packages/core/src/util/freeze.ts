/** Freezes `value` and everything reachable from it (plain data: objects and arrays). Returns `value`. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * A deeply frozen copy of plain data (the caller's object stays mutable). A value that cannot be cloned is returned
 * as it is — never the case for metadata read from a store or for JWT claims.
 */
export function frozenCopy<T>(value: T): T {
  try {
    return deepFreeze(structuredClone(value));
  } catch {
    return value;
  }
}
