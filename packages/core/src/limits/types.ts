/**
 * Per-key overrides of named rate limits and quotas (e.g. `{ burst: { points: 500 } }`).
 * Filled in by the rate-limits feature; unknown fields are kept as given.
 */
export interface KeyLimitOverrides {
  readonly [name: string]: unknown;
}
