import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { fieldsOf, observedKeyId, refuseUnknownInput, safeEqual, type Endpoint, type EndpointResponse, type Keyward, type KeywardEvent } from '@keyward/core';
import { boundedRoutes, defaultRouteNormaliser, type RouteNormaliser } from './route';
import { LabelSets, Tally } from './tally';

/** `Bearer` and the spaces after it, in any case. */
const BEARER_SCHEME = /^bearer +/i;

/** Options of {@link createPrometheusExporter}. */
export interface PrometheusExporterOptions {
  /** The keyward instance whose events are counted. */
  keyward: Pick<Keyward, 'on'>;
  /** The registry to register into (default: a new one of its own, not prom-client's global registry). */
  registry?: Registry;
  /** Metric name prefix (default `keyward_`). */
  prefix?: string;
  /** Add a `key_id` label to request metrics. Multiplies series by the number of keys: only for few keys. Default false. */
  perKeyLabels?: boolean;
  /**
   * With `perKeyLabels`, most distinct `key_id` labels; further ones are labelled `other` (default 1000). A label names
   * what per-key metrics count under ({@link observedKeyId}): a key's id (also for a token exchanged from it), any other
   * token's subject as `token:<sub>` (`token:<sub>@"<iss>"` with several trusted issuers).
   */
  maxKeys?: number;
  /** Path → route label (default {@link defaultRouteNormaliser}: ids become `:id`). */
  routeNormaliser?: RouteNormaliser;
  /**
   * Most distinct route labels; further routes are labelled `other` (default 100). Only a request whose credential was
   * accepted and passed its restrictions adds one.
   */
  maxRoutes?: number;
  /** Histogram buckets in seconds (default 5 ms … 10 s). */
  buckets?: readonly number[];
  /** When set, `/metrics` requires `Authorization: Bearer <token>` (scheme in any case; the token compared in constant time). */
  token?: string;
  /** Also collect prom-client's process metrics into the registry (default false). */
  defaultMetrics?: boolean;
}

/** Every field of {@link PrometheusExporterOptions}: a misspelt `token` must not leave `/metrics` open. */
const OPTIONS = fieldsOf<PrometheusExporterOptions>({
  keyward: true, registry: true, prefix: true, perKeyLabels: true, maxKeys: true, routeNormaliser: true, maxRoutes: true, buckets: true, token: true, defaultMetrics: true,
});

/** A running exporter. */
export interface PrometheusExporter {
  readonly registry: Registry;
  /** The `/metrics` endpoint, for any adapter's generic endpoint helper (Express: `endpoint(exporter.endpoint())`). */
  endpoint(): Endpoint;
  /** The exposition text. */
  metrics(): Promise<string>;
  /** Counts one event (what the subscription calls). */
  record(event: KeywardEvent): void;
  /**
   * Stops listening to events and takes the exporter's metrics out of the registry (a shared registry then serves no
   * counts that no longer move, and a new exporter can register the same names).
   */
  close(): void;
}

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The `buckets` option as a new array: increasing, positive, finite numbers. prom-client adds the `+Inf` bucket itself,
 * so an `Infinity` here would be a second `+Inf` bucket (`le="Infinity"` beside `le="+Inf"`): two buckets with one
 * threshold, an invalid histogram. A string would be compared and labelled as text.
 */
function checkBuckets(value: unknown): number[] {
  const fail = () => new TypeError('keyward: option "buckets" must be an array of increasing, positive, finite numbers (seconds; the +Inf bucket is added by itself)');
  if (!Array.isArray(value) || value.length === 0) throw fail();
  const buckets: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const b: unknown = value[i]; // an index loop: a hole in a sparse array is refused, not skipped
    if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= buckets[i - 1]!)) throw fail();
    buckets.push(b);
  }
  return buckets;
}

/** The denials of a credential's restrictions: the request was not the credential holder's as the key allows it. */
const RESTRICTION_DENIALS: ReadonlySet<string> = new Set(['IP_FORBIDDEN', 'REFERRER_FORBIDDEN', 'USER_AGENT_FORBIDDEN', 'OUTSIDE_TIME_WINDOW', 'COUNTRY_FORBIDDEN', 'ROUTE_FORBIDDEN']);

/** The names of the exporter's metrics, after the prefix. */
const METRICS = ['requests_total', 'request_duration_seconds', 'response_bytes_total', 'anomalies_total', 'events_total'] as const;

/**
 * The `registry` option (a new one when absent), checked before anything is registered: it must be a prom-client
 * registry holding none of the exporter's metric names. Else prom-client's own "already been registered" error came
 * after some of the metrics were in, naming neither the option nor the way out, and a retry met those leftovers.
 */
function checkRegistry(value: unknown, prefix: string): Registry {
  if (value === undefined) return new Registry();
  const r = value as Partial<Record<'registerMetric' | 'getSingleMetric' | 'removeSingleMetric' | 'metrics' | 'getMetricsAsArray', unknown>> | null;
  if (typeof r !== 'object' || r === null || [r.registerMetric, r.getSingleMetric, r.removeSingleMetric, r.metrics, r.getMetricsAsArray].some((f) => typeof f !== 'function')) {
    throw new TypeError('keyward: option "registry" must be a prom-client Registry');
  }
  const registry = value as Registry;
  for (const metric of METRICS) {
    const name = `${prefix}${metric}`;
    if (registry.getSingleMetric(name) !== undefined) throw new TypeError(`keyward: the "registry" given to createPrometheusExporter() already has a metric named "${name}" (another exporter's, or your own): give this exporter another "prefix"`);
  }
  return registry;
}

/**
 * Exports keyward's events as Prometheus metrics with prom-client: requests by outcome (`allowed` or the denial
 * code), status, route and plan; a response-time histogram; response bytes; anomalies by kind; every event by type.
 *
 * @example
 * ```ts
 * const exporter = createPrometheusExporter({ keyward: kw });
 * app.all('/metrics', endpoint(exporter.endpoint())); // before app.use(apiKeyAuth(...)); every method: 405 for all but GET, HEAD
 * ```
 * @throws TypeError naming the option: a mistake in the options, or a `registry` that has one of the exporter's metric
 * names already (another exporter with the same `prefix`, or a metric of your own), before anything is registered
 */
export function createPrometheusExporter(options: PrometheusExporterOptions): PrometheusExporter {
  refuseUnknownInput(options, OPTIONS, 'createPrometheusExporter()');
  if (typeof options.keyward?.on !== 'function') throw new TypeError('keyward: option "keyward" must be a keyward instance');
  const prefix = options.prefix ?? 'keyward_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new TypeError('keyward: option "prefix" must be a valid Prometheus metric name prefix');
  // A flag given as text ('false' from an environment variable) would read as its truthiness: refused instead.
  for (const flag of ['perKeyLabels', 'defaultMetrics'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw new TypeError(`keyward: option "${flag}" must be a boolean`);
  }
  const maxRoutes = options.maxRoutes ?? 100;
  if (!Number.isInteger(maxRoutes) || maxRoutes < 1) throw new TypeError('keyward: option "maxRoutes" must be a positive integer');
  const maxKeys = options.maxKeys ?? 1000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError('keyward: option "maxKeys" must be a positive integer');
  if (options.routeNormaliser !== undefined && typeof options.routeNormaliser !== 'function') throw new TypeError('keyward: option "routeNormaliser" must be a function');
  // `token: process.env.METRICS_TOKEN` with the variable unset would serve /metrics to anyone, without a word.
  if ('token' in options && options.token === undefined) throw new TypeError('keyward: option "token" is undefined (an unset environment variable?); leave the option out to serve /metrics without one');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 16)) throw new TypeError('keyward: option "token" must be a string of at least 16 characters');
  const buckets = checkBuckets(options.buckets ?? DEFAULT_BUCKETS);
  const registry = checkRegistry(options.registry, prefix);
  const perKey = options.perKeyLabels === true;
  const route = boundedRoutes(options.routeNormaliser ?? defaultRouteNormaliser, maxRoutes);
  // The key_id label: what per-key metrics and anomaly detection count under (observedKeyId): a key's id, also for a
  // token exchanged from the key; any other token's `token:<sub>`, never its jti (a new one per token).
  const keyIds = new Set<string>();
  const keyLabel = (id: string | undefined): string => {
    if (id === undefined) return 'none';
    if (keyIds.has(id)) return id;
    if (keyIds.size >= maxKeys) return 'other';
    keyIds.add(id);
    return id;
  };
  const requestLabels = ['outcome', 'status', 'route', 'plan', ...(perKey ? ['key_id'] : [])];

  // Counters are tallied here and handed to prom-client when scraped (see Tally); the histogram is prom-client's, fed
  // with label objects built once per series.
  const requestCounts = new Tally(requestLabels);
  const byteCounts = new Tally(['route', 'plan', ...(perKey ? ['key_id'] : [])]);
  const anomalyCounts = new Tally(['kind', ...(perKey ? ['key_id'] : [])]);
  const eventCounts = new Tally(['type']);
  new Counter({ name: `${prefix}requests_total`, help: 'Requests decided by keyward, by outcome (allowed or the denial code), status, route and plan.', labelNames: requestLabels, registers: [registry], collect() { requestCounts.publish(this); } });
  const durationLabels = ['status', 'route', 'plan', ...(perKey ? ['key_id'] : [])];
  const duration = new Histogram({ name: `${prefix}request_duration_seconds`, help: 'Time from the keyward check to the end of the response, for allowed requests.', labelNames: durationLabels, buckets, registers: [registry] });
  const durationSeries = new LabelSets(durationLabels);
  new Counter({ name: `${prefix}response_bytes_total`, help: 'Response body bytes of allowed requests.', labelNames: ['route', 'plan', ...(perKey ? ['key_id'] : [])], registers: [registry], collect() { byteCounts.publish(this); } });
  new Counter({ name: `${prefix}anomalies_total`, help: 'Anomalies detected, by kind.', labelNames: ['kind', ...(perKey ? ['key_id'] : [])], registers: [registry], collect() { anomalyCounts.publish(this); } });
  new Counter({ name: `${prefix}events_total`, help: 'keyward events, by type.', labelNames: ['type'], registers: [registry], collect() { eventCounts.publish(this); } });
  const registered: string[] = METRICS.map((m) => `${prefix}${m}`);
  if (options.defaultMetrics) {
    const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
    try {
      collectDefaultMetrics({ register: registry, prefix });
      registered.push(...registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n)));
    } catch (error) {
      // Nothing half-registered stays behind: neither keyward's metrics nor the process metrics registered before the clash.
      for (const name of [...METRICS.map((m) => `${prefix}${m}`), ...registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n))]) registry.removeSingleMetric(name);
      throw new TypeError(`keyward: option "defaultMetrics" of createPrometheusExporter(): the "registry" has process metrics with the prefix "${prefix}" already (${error instanceof Error ? error.message : String(error)}); leave "defaultMetrics" off or give another "prefix"`);
    }
  }

  function record(e: KeywardEvent): void {
    eventCounts.add([e.type]);
    if (e.type === 'auth.succeeded') return; // counted by type only: its request is counted once, when it completes
    const plan = e.plan ?? 'none';
    // Only a request whose key (or token) was accepted and passed its restrictions adds a route label; any other gets
    // a label already known, else `other`, so made-up paths cannot fill `maxRoutes` ahead of the real routes: not from
    // anonymous clients, nor from whoever holds a key that is revoked, expired or restricted to other addresses (a
    // leaked one), whose refusals name the key too.
    const admit = e.keyId !== undefined && (e.type === 'request.completed' || (e.type === 'access.denied' && !RESTRICTION_DENIALS.has(e.reason ?? '')));
    const r = e.path !== undefined ? route(e.path, e.method, admit) : 'unknown';
    const status = e.status ?? 0;
    // Read only by the request and anomaly events below, so that no other event takes a key_id label.
    const k = perKey && (e.type === 'request.completed' || e.type === 'auth.failed' || e.type === 'access.denied' || e.type === 'anomaly.detected') ? keyLabel(observedKeyId(e)) : '';
    switch (e.type) {
      case 'request.completed':
        requestCounts.add(perKey ? ['allowed', status, r, plan, k] : ['allowed', status, r, plan]);
        if (e.durationMs !== undefined) duration.observe(durationSeries.of(perKey ? [status, r, plan, k] : [status, r, plan]), e.durationMs / 1000);
        // A count from the app's own `done()` call is taken only when it is one: a string would be concatenated into the
        // total, and a negative or infinite number makes prom-client refuse the counter; either failed every later scrape.
        if (typeof e.bytes === 'number' && e.bytes > 0 && e.bytes !== Infinity) byteCounts.add(perKey ? [r, plan, k] : [r, plan], e.bytes);
        break;
      case 'auth.failed':
      case 'access.denied':
        requestCounts.add(perKey ? [e.reason ?? 'UNKNOWN', status, r, plan, k] : [e.reason ?? 'UNKNOWN', status, r, plan]);
        break;
      case 'anomaly.detected':
        anomalyCounts.add(perKey ? [e.reason ?? 'UNKNOWN', k] : [e.reason ?? 'UNKNOWN']);
        break;
      default:
    }
  }
  const off = options.keyward.on('*', record);

  const expected = options.token;
  const endpoint: Endpoint = async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Method Not Allowed\n' };
    if (expected !== undefined) {
      // The scheme is case-insensitive (RFC 9110 §11.1), the token is compared in constant time.
      const got = req.headers['authorization'];
      const scheme = typeof got === 'string' ? BEARER_SCHEME.exec(got) : null;
      if (scheme === null || !safeEqual((got as string).slice(scheme[0].length), expected)) {
        return { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="metrics"', 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, body: 'Unauthorized\n' };
      }
    }
    const res: EndpointResponse = { status: 200, headers: { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }, body: await registry.metrics() };
    return res;
  };

  return {
    registry,
    endpoint: () => endpoint,
    metrics: () => registry.metrics(),
    record,
    close() {
      off();
      for (const name of registered.splice(0)) registry.removeSingleMetric(name);
    },
  };
}
