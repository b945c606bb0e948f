import type { PipelineContext } from '../pipeline/context';
import { LocalTotal, UNAVAILABLE, type Guarded, type SKIP } from './guarded-store';
import type { PolicyState } from './headers';
import { isPromise, type Maybe } from '../util/maybe';

/**
 * Limits are evaluated over values that are either here now (memory counters) or promised (a guarded remote store).
 * Everything below stays synchronous until a value is a promise, so a request counted in memory costs no promise and
 * no microtask. Continuations take their data as arguments, never through a closure built on the synchronous path.
 */

function later<V, A, B, C, R>(value: Promise<V>, next: (value: V, a: A, b: B, c: C) => Maybe<R>, a: A, b: B, c: C): Promise<R> {
  return Promise.resolve(value).then((v) => next(v, a, b, c));
}

/**
 * `next(value, a, b, c)` at once when `value` is here, else once it resolves. Kept apart from {@link later} so the
 * synchronous call allocates no closure.
 */
export function andThen<V, A, B, C, R>(value: Maybe<V>, next: (value: V, a: A, b: B, c: C) => Maybe<R>, a: A, b?: B, c?: C): Maybe<R> {
  return isPromise(value) ? later(value, next, a, b as B, c as C) : next(value, a, b as B, c as C);
}

/**
 * What one limit found for one request. It is the policy's {@link PolicyState} (the RateLimit headers read it as
 * is) plus the counter it charged, so each limit costs one object per request.
 */
export class Outcome implements PolicyState {
  /** Units left in the window, from the store's answer. */
  remaining = 0;
  /** The counter's total after this request's charge, as the store answered it. */
  used = 0;
  /** True when this limit refuses the request. */
  violated = false;
  /** True when the `local` failure policy's in-memory fallback counted the charge, not the store (see refunds). */
  local = false;

  constructor(
    readonly name: string,
    readonly limit: number,
    readonly windowSeconds: number,
    readonly resetAt: number,
    readonly unit: 'request' | 'content-bytes',
    /** The store key this limit reads or adds to (empty for a limit of 0, which needs none). */
    readonly counter: string,
    /** What this request added to `counter`, refunded when the request is refused; `undefined` when it added nothing. */
    readonly charge: number | undefined,
    /** The counter's time-to-live, for the refund. */
    readonly ttlMs: number,
  ) {}
}

/** What checking one limit yields: its outcome, the failure policy's answer, or `undefined` when it does not apply. */
export type Checked = Outcome | typeof UNAVAILABLE | typeof SKIP | undefined;

/**
 * Completes a charged outcome from the counter's total after this request's charge. A failure policy's answer
 * (`UNAVAILABLE`, `SKIP`) passes through.
 */
export function counted(total: Guarded, o: Outcome): Checked {
  if (total instanceof LocalTotal) {
    o.local = true;
    total = total.value;
  }
  if (typeof total !== 'number') return total;
  o.used = total;
  o.remaining = Math.max(0, o.limit - total);
  o.violated = total > o.limit;
  return o;
}

function tally(results: readonly Checked[], into: Outcome[], unavailable: boolean): boolean {
  for (const r of results) {
    if (r === UNAVAILABLE) unavailable = true;
    else if (r instanceof Outcome) into.push(r);
  }
  return unavailable;
}

function collectLater(waiting: readonly Maybe<Checked>[], into: Outcome[], unavailable: boolean): Promise<boolean> {
  return Promise.all(waiting).then((results) => tally(results, into, unavailable));
}

/** A check threw after others had been issued: their outcomes are collected (rejections ignored), then `failed` runs. */
function failLater(waiting: readonly Maybe<Checked>[], into: Outcome[], failed: () => Maybe<never>): Promise<never> {
  return Promise.allSettled(waiting).then((results) => {
    for (const r of results) if (r.status === 'fulfilled' && r.value instanceof Outcome) into.push(r.value);
    return failed();
  });
}

/**
 * Checks every item, appending the outcomes to `into` in item order, and tells whether the store was unavailable.
 * Every check is issued before any is waited for (a remote store sees them concurrently); the answer is a promise
 * only when a check had to wait.
 *
 * When a check throws (a `by` function that fails), the outcomes of the checks issued before it are appended to `into`
 * (once they are here), and `failed(error)` decides what follows: it refunds what the request was charged and throws.
 */
export function collect<T>(
  items: readonly T[],
  check: (item: T, ctx: PipelineContext, cost: number) => Maybe<Checked>,
  ctx: PipelineContext,
  cost: number,
  into: Outcome[],
  failed: (ctx: PipelineContext, into: readonly Outcome[], error: unknown) => Maybe<never>,
): Maybe<boolean> {
  let unavailable = false;
  let waiting: Array<Maybe<Checked>> | undefined;
  try {
    for (let i = 0; i < items.length; i++) {
      const r = check(items[i]!, ctx, cost);
      if (waiting !== undefined) waiting.push(r);
      else if (isPromise(r)) waiting = [r];
      else if (r === UNAVAILABLE) unavailable = true;
      else if (r instanceof Outcome) into.push(r);
    }
  } catch (error) {
    return waiting === undefined ? failed(ctx, into, error) : failLater(waiting, into, () => failed(ctx, into, error));
  }
  return waiting === undefined ? unavailable : collectLater(waiting, into, unavailable);
}
