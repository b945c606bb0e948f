import type { KeywardEvent } from '../events/schema';
import type { Clock } from '../util/clock';
import { KeyStats } from './key-stats';
import { observationOf } from './observation';
import type { MetricsConfig } from './options';
import { METRICS_WINDOWS, type KeyMetrics, type MetricsView, type TopBy, type TopKey, type TopQuery } from './types';
import { fieldsOf, refuseUnknownInput } from '../config/fields';

const TOP_BY: readonly TopBy[] = ['requests', 'errors', 'bytes', 'authFailures', 'refused'];
const TOP_FIELDS = fieldsOf<TopQuery>({ by: true, window: true, limit: true });

/** Checks a {@link TopQuery}; throws a `TypeError` naming the field. */
export function parseTopQuery(query: TopQuery = {}): Required<TopQuery> {
  refuseUnknownInput(query, TOP_FIELDS, 'metrics.top()');
  const by = query.by ?? 'requests';
  const window = query.window ?? 'hour';
  const limit = query.limit ?? 10;
  if (!TOP_BY.includes(by)) throw new TypeError(`keyward: "by" must be one of ${TOP_BY.join(', ')}`);
  if (!METRICS_WINDOWS.includes(window)) throw new TypeError(`keyward: "window" must be one of ${METRICS_WINDOWS.join(', ')}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError('keyward: "limit" must be an integer from 1 to 1000');
  return { by, window, limit };
}

/**
 * Per-key metrics held in this process, fed by the audit events. At most `maxKeys` keys are tracked; the least
 * recently active one is dropped to make room. Reads use the injected clock.
 *
 * @example
 * ```ts
 * const kw = createKeyward({ metrics: true });
 * const m = kw.metrics!.forKey('key_…');
 * console.log(m?.windows.hour.requests, m?.windows.hour.errors.rate);
 * ```
 */
export class MemoryMetrics implements MetricsView {
  private readonly keys = new Map<string, KeyStats>();
  private evicted = 0;

  constructor(
    private readonly config: MetricsConfig,
    private readonly clock: Clock,
  ) {}

  /** Adds an audit event (ignored when it names no key or is not about a request). */
  record(event: KeywardEvent): void {
    const o = observationOf(event);
    if (!o) return;
    let stats = this.keys.get(o.keyId);
    if (stats) {
      this.keys.delete(o.keyId);
    } else {
      stats = new KeyStats(o.keyId, this.config.topCapacity, o.time);
      if (this.keys.size >= this.config.maxKeys) {
        const oldest = this.keys.keys().next().value as string;
        this.keys.delete(oldest);
        this.evicted++;
      }
    }
    this.keys.set(o.keyId, stats);
    stats.record(o, this.clock);
  }

  /** The key's metrics over the minute, hour and day windows, or `undefined` when it is not tracked. */
  forKey(keyId: string): KeyMetrics | undefined {
    const s = this.keys.get(keyId);
    if (!s) return undefined;
    const now = this.clock();
    const limit = this.config.topCapacity;
    return {
      keyId,
      ...(s.owner !== undefined ? { owner: s.owner } : {}),
      ...(s.plan !== undefined ? { plan: s.plan } : {}),
      firstSeen: new Date(s.firstSeen).toISOString(),
      lastSeen: new Date(s.lastSeen).toISOString(),
      windows: { minute: s.window('minute', now, limit), hour: s.window('hour', now, limit), day: s.window('day', now, limit) },
    };
  }

  /** The keys with the highest `by` over `window` (zeros left out), highest first. */
  top(query?: TopQuery): TopKey[] {
    const { by, window, limit } = parseTopQuery(query);
    const now = this.clock();
    const rows: TopKey[] = [];
    for (const s of this.keys.values()) {
      const value = s.value(window, by, now);
      if (value > 0) rows.push({ keyId: s.keyId, ...(s.owner !== undefined ? { owner: s.owner } : {}), value });
    }
    return rows.sort((a, b) => b.value - a.value || (a.keyId < b.keyId ? -1 : 1)).slice(0, limit);
  }

  /** How many keys are tracked, and how many were dropped to respect `maxKeys`. */
  stats(): { keysTracked: number; keysEvicted: number; maxKeys: number } {
    return { keysTracked: this.keys.size, keysEvicted: this.evicted, maxKeys: this.config.maxKeys };
  }

  /** Forgets everything. */
  clear(): void {
    this.keys.clear();
    this.evicted = 0;
  }
}
