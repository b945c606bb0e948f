import type { LimiterStore } from './store';
import type { StoreFailurePolicy } from './types';

/** The store did not answer usefully and the policy is `deny`. */
export const UNAVAILABLE = Symbol('keyward.limits.unavailable');
/** The store did not answer usefully and the policy is `allow`: skip this limit. */
export const SKIP = Symbol('keyward.limits.skip');

/** What a guarded operation yields: a total, or what the failure policy says. */
export type Guarded = number | typeof UNAVAILABLE | typeof SKIP;

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
}

const TIMED_OUT = Symbol('timeout');

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wraps a store so that a failure or a wait longer than `timeoutMs` never stalls or crashes a request: the policy
 * decides — `deny` (503 `STORE_UNAVAILABLE`), `allow` (the limit is skipped) or `local` (count in memory until the
 * store answers again).
 */
export function guardStore(options: GuardOptions): GuardedStore {
  const { store, policy, timeoutMs, local, onFailure } = options;

  async function run(op: (s: LimiterStore) => Promise<number>): Promise<Guarded> {
    let reason: 'STORE_TIMEOUT' | 'STORE_ERROR';
    try {
      let pending: Promise<number>;
      try {
        pending = op(store);
      } catch (e) {
        pending = Promise.reject(e);
      }
      const value = await withTimeout(pending, timeoutMs);
      if (value !== TIMED_OUT && Number.isFinite(value)) return value;
      reason = value === TIMED_OUT ? 'STORE_TIMEOUT' : 'STORE_ERROR';
      // A late rejection must not become an unhandled one.
      if (value === TIMED_OUT) pending.catch(() => {});
    } catch {
      reason = 'STORE_ERROR';
    }
    onFailure(reason);
    if (policy === 'local') return op(local);
    return policy === 'allow' ? SKIP : UNAVAILABLE;
  }

  return {
    increment: (key, amount, ttlMs) => run((s) => s.increment(key, amount, ttlMs)),
    get: (key) => run((s) => s.get(key)),
  };
}
