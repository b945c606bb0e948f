import { fieldsOf, refuseUnknownFields } from '../config/fields';

/**
 * Options of the in-memory per-key metrics (`metrics: true` or an object). Memory is bounded whatever the traffic:
 * at most `maxKeys` keys are tracked (the least recently active is dropped), and each key holds fixed-size
 * structures (see the README's "Monitoring" section for the bounds).
 */
export interface MetricsOptions {
  /** Most keys tracked at once (default 1000). */
  maxKeys?: number;
  /** Counters per top-N summary and time slot (default 10); top lists return at most this many values. */
  topCapacity?: number;
}

/** Parsed metrics options. */
export interface MetricsConfig {
  readonly maxKeys: number;
  readonly topCapacity: number;
}

function int(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`keyward: option "${name}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Parses `metrics` options once; throws a `TypeError` naming the option. */
const METRICS_FIELDS = fieldsOf<MetricsOptions>({ maxKeys: true, topCapacity: true });

export function parseMetricsOptions(options: MetricsOptions | true): MetricsConfig {
  const o: MetricsOptions = options === true ? {} : options;
  if (typeof o !== 'object' || o === null) throw new TypeError('keyward: option "metrics" must be true or an object');
  refuseUnknownFields(o, METRICS_FIELDS, 'metrics');
  return {
    maxKeys: int(o.maxKeys, 'metrics.maxKeys', 1, 1_000_000, 1000),
    topCapacity: int(o.topCapacity, 'metrics.topCapacity', 1, 100, 10),
  };
}

/** What the metrics capability adds to keyward's options. */
export interface MetricsFeatureOptions {
  /** Per-key metrics in memory, read through `kw.metrics`: `true` or {@link MetricsOptions}. Off by default. */
  metrics?: boolean | MetricsOptions;
}
