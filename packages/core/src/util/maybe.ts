/** A value now, or its promise when a store or a signature check has to be waited for. */
export type Maybe<T> = T | Promise<T>;

/**
 * True when `value` has to be waited for (any thenable: user stores may return non-native promises). Continuations
 * should go through `Promise.resolve(value)` so what they hand on is a native promise.
 */
export function isPromise<T>(value: Maybe<T> | unknown): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
