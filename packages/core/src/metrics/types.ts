import type { TopEntry } from './top';

/** The rolling windows metrics are kept over. */
export type MetricsWindow = 'minute' | 'hour' | 'day';

/** The windows, shortest first. */
export const METRICS_WINDOWS: readonly MetricsWindow[] = ['minute', 'hour', 'day'];

/** Distinct values seen and the most frequent ones. */
export interface DistinctSummary {
  /** Distinct values: exact up to 32, a HyperLogLog estimate (±~6.5 %) above. */
  readonly distinct: number;
  /** The most frequent values with their counts, most frequent first (space-saving summary). */
  readonly top: readonly TopEntry[];
}

/** One key's use over one rolling window. */
export interface WindowMetrics {
  readonly window: MetricsWindow;
  /** ISO start of the window (slot-aligned) and the time it was read. */
  readonly from: string;
  readonly to: string;
  /** Requests made with the key: completed plus refused. */
  readonly requests: number;
  /** Requests let through whose response finished. */
  readonly completed: number;
  /** Requests refused after the key was identified (scope, restriction, limit, revoked/disabled/expired key). */
  readonly refused: number;
  /** Responses by status class (refusals count with their denial status). */
  readonly status: { readonly '1xx': number; readonly '2xx': number; readonly '3xx': number; readonly '4xx': number; readonly '5xx': number };
  /** 4xx and 5xx responses and their share of `requests` (0 when there were none). */
  readonly errors: { readonly '4xx': number; readonly '5xx': number; readonly rate: number };
  /** Authentication outcomes for this key. */
  readonly auth: { readonly succeeded: number; readonly failed: number };
  /** Refusals by denial code. */
  readonly refusals: Readonly<Record<string, number>>;
  /** Response body bytes of completed requests. */
  readonly bytes: number;
  /** Response times of completed requests (ms): fixed buckets, `le` is the upper bound, counts are per bucket. */
  readonly latency: {
    readonly count: number;
    readonly sumMs: number;
    readonly buckets: ReadonlyArray<{ readonly le: number | '+Inf'; readonly count: number }>;
  };
  readonly addresses: DistinctSummary;
  readonly userAgents: DistinctSummary;
  /** `METHOD path` (query removed). */
  readonly endpoints: DistinctSummary;
}

/** Everything known about one key's use. */
export interface KeyMetrics {
  readonly keyId: string;
  readonly owner?: string;
  readonly plan?: string;
  /** ISO times of the first and last event seen for the key (since it was last tracked). */
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly windows: { readonly minute: WindowMetrics; readonly hour: WindowMetrics; readonly day: WindowMetrics };
}

/** What {@link MetricsView.top} ranks keys by. */
export type TopBy = 'requests' | 'errors' | 'bytes' | 'authFailures' | 'refused';

/** A query for the busiest keys. */
export interface TopQuery {
  /** Default `requests`. */
  readonly by?: TopBy;
  /** Default `hour`. */
  readonly window?: MetricsWindow;
  /** 1–1000, default 10. */
  readonly limit?: number;
}

/** One row of a top-keys answer. */
export interface TopKey {
  readonly keyId: string;
  readonly owner?: string;
  readonly value: number;
}

/** Per-key metrics, read side. The in-memory aggregator (`kw.metrics`) and the Redis one both implement it. */
export interface MetricsView {
  /** The key's metrics over the minute, hour and day windows, or `undefined` when it has not been seen. */
  forKey(keyId: string): Promise<KeyMetrics | undefined> | KeyMetrics | undefined;
  /** The keys with the highest value of `by` over `window`, highest first. */
  top(query?: TopQuery): Promise<TopKey[]> | TopKey[];
}
