/**
 * `call()`'s answer, or a rejection with `onTimeout()`'s error when it has not answered within `timeoutMs`: the
 * promise form of {@link raceDeadline} (one promise, one timer).
 */
export function withDeadline<T>(call: () => Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => raceDeadline(call, timeoutMs, resolve, reject, () => reject(onTimeout())));
}

/**
 * Races `call()` against a deadline of `timeoutMs` with one timer and no promise of its own: exactly one of
 * `onValue`, `onError` (a rejection, or `call` throwing) and `onTimeout` is called, once; whatever comes later is
 * dropped (a late rejection is never unhandled). The remote-store guards wrap it in the one promise they return, so a
 * store call on the request path costs one promise and one timer (no `Promise.race`, no `finally`, no async frame).
 *
 * @example
 * ```ts
 * new Promise((resolve, reject) => raceDeadline(() => store.get(id), 250, resolve, reject, () => reject(new Error('timeout'))));
 * ```
 */
export function raceDeadline<T>(call: () => Promise<T>, timeoutMs: number, onValue: (value: T) => void, onError: (error: unknown) => void, onTimeout: () => void): void {
  let settled = false;
  const timer = setTimeout(() => {
    if (settled) return;
    settled = true;
    onTimeout();
  }, timeoutMs);
  timer.unref?.();
  const value = (v: T) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    onValue(v);
  };
  const error = (e: unknown) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    onError(e);
  };
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (e) {
    return error(e);
  }
  Promise.resolve(pending).then(value, error);
}
