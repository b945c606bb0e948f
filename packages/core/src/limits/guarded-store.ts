import type { LimiterStore } from './store';
import type { StoreFailurePolicy } from './types';
import { raceDeadline } from '../util/deadline';

/** The store did not answer usefully and the policy is `deny`. */
export const UNAVAILABLE = Symbol('keyward.limits.unavailable');
/** The store did not answer usefully and the policy is `allow`: skip this limit. */
export const SKIP = Symbol('keyward.limits.skip');

/**
 * A total counted by the in-memory fallback of the `local` policy, not by the store: a refund of that charge must go
 * where the charge went (boxed only on the fallback path; the store's own totals stay plain numbers).
 */
export class LocalTotal {
  constructor(readonly value: number) {}
}

/** A guarded answer with a fallback's total unboxed: where it was counted does not matter to the reader. */
export function plainTotal(answer: Guarded): number | typeof UNAVAILABLE | typeof SKIP {
  return answer instanceof LocalTotal ? answer.value : answer;
}

/** What a guarded operation yields: a total (the store's, or the `local` fallback's), or what the failure policy says. */
export type Guarded = number | LocalTotal | typeof UNAVAILABLE | typeof SKIP;

/** Options of {@link guardStore}. */
export interface GuardOptions {
  readonly store: LimiterStore;
  readonly policy: StoreFailurePolicy;
  readonly timeoutMs: number;
  /** The in-memory fallback for the `local` policy. */
  readonly local: LimiterStore;
  /** Told about each failure: `'STORE_TIMEOUT'` or `'STORE_ERROR'` (never with store data). */
  readonly onFailure: (reason: 'STORE_TIMEOUT' | 'STORE_ERROR') => void;
}

/** A limiter store behind a timeout and a failure policy. */
export interface GuardedStore {
  increment(key: string, amount: number, ttlMs: number): Promise<Guarded>;
  get(key: string): Promise<Guarded>;
  /**
   * Gives back a charge to the store that counted it (`local`: the `local` fallback), with no fallback of its own: a
   * refund that fails is dropped (the counter stays over by the charge), never counted against the other store.
   */
  refund(key: string, amount: number, ttlMs: number, local: boolean): Promise<unknown>;
}

/**
 * Wraps a store so that a failure or a wait longer than `timeoutMs` never stalls or crashes a request: the policy
 * decides — `deny` (503 `STORE_UNAVAILABLE`), `allow` (the limit is skipped) or `local` (count in memory until the
 * store answers again).
 */
export function guardStore(options: GuardOptions): GuardedStore {
  const { store, policy, timeoutMs, local, onFailure } = options;

  /** The policy's answer after a failure: a fallback count, a skip or "unavailable". */
  function failed(reason: 'STORE_TIMEOUT' | 'STORE_ERROR', op: (s: LimiterStore) => Promise<number>): Guarded | Promise<Guarded> {
    onFailure(reason);
    if (policy === 'local') {
      try {
        return op(local).then((total) => new LocalTotal(total), () => UNAVAILABLE);
      } catch {
        return UNAVAILABLE; // runs from a timer too: never throw out of here
      }
    }
    return policy === 'allow' ? SKIP : UNAVAILABLE;
  }

  /** One store call raced against its deadline ({@link raceDeadline}): one promise and one timer per call. */
  function run(op: (s: LimiterStore) => Promise<number>): Promise<Guarded> {
    return new Promise<Guarded>((resolve) =>
      raceDeadline(
        () => op(store),
        timeoutMs,
        (value) => resolve(Number.isFinite(value) ? value : failed('STORE_ERROR', op)),
        () => resolve(failed('STORE_ERROR', op)),
        () => resolve(failed('STORE_TIMEOUT', op)),
      ),
    );
  }

  /** A refund: raced against the deadline like every call, dropped on failure (see {@link GuardedStore.refund}). */
  function refund(key: string, amount: number, ttlMs: number, toLocal: boolean): Promise<unknown> {
    const target = toLocal ? local : store;
    return new Promise<unknown>((resolve) => raceDeadline(() => target.increment(key, amount, ttlMs), timeoutMs, resolve, () => resolve(undefined), () => resolve(undefined)));
  }

  return {
    increment: (key, amount, ttlMs) => run((s) => s.increment(key, amount, ttlMs)),
    get: (key) => run((s) => s.get(key)),
    refund,
  };
}
