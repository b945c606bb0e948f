import type { EventBus } from '../events/bus';
import type { KeywardEvent } from '../events/schema';
import type { KeyManager } from '../keys/manager';
import { hash53 } from '../metrics/hash';
import { observationOf } from '../metrics/observation';
import type { Clock } from '../util/clock';
import { LruCache } from '../util/lru';
import type { AnomalyConfig, AnomalyKind } from './options';
import { failureMessage } from '../events/failure-message';
import { CountrySet } from './countries';

const MINUTE = 60_000;
/** Weight of the newest active minute in a baseline (about the last 10 active minutes count). */
const ALPHA = 0.1;
/**
 * A minute counts towards the address, request and bytes baselines with at most this many times the baseline (or the
 * floor `maxAddresses`, `minRate`, `minBytes`), so a client that keeps each minute just under the `MANY_ADDRESSES`,
 * `RATE_SPIKE` or `BYTES_SPIKE` threshold raises the baseline by at most 10 % an active minute (1 + ALPHA × (2 − 1)),
 * not 1.9× (1 + ALPHA × (factor − 1) with the default factor of 10). Legitimate growth up to about 11 % a minute is
 * never capped (the mean then lags the minute by less than 2×).
 */
const BASELINE_STEP = 2;
/**
 * Addresses are held as 30-bit hashes: small integers, which V8 stores inside a Set or Map, where a 53-bit number
 * would be a heap object of its own (about half the memory). A new address takes the hash of a remembered one with
 * odds of `maxKnownAddresses` in 2^30 (one in four million at the default), which only ever hides that `NEW_ADDRESS`.
 */
const addressId = (address: string): number => hash53(address) % 0x40000000;

const SEVERITY: Readonly<Record<AnomalyKind, 'low' | 'medium' | 'high'>> = {
  NEW_ADDRESS: 'low',
  NEW_COUNTRY: 'medium',
  RATE_SPIKE: 'high',
  ERROR_BURST: 'medium',
  AUTH_FAILURE_BURST: 'high',
  BYTES_SPIKE: 'high',
  MANY_ADDRESSES: 'high',
};

/** What an anomaly is reported with, or a function making it when it costs more than a few fields. */
type Evidence = Record<string, unknown> | (() => Record<string, unknown>);

interface Minute {
  requests: number;
  errors: number;
  authFailures: number;
  bytes: number;
  /** Distinct addresses of the minute, at most `maxMinuteAddresses`. */
  addresses: Set<number>;
  /** More distinct addresses came than `addresses` holds. */
  capped: boolean;
  /**
   * Of `addresses`, those first seen in use, not in a refusal: the address baseline's count. A refusal's address counts
   * towards `MANY_ADDRESSES` this minute but never in the baseline, which replayed refusals would otherwise lift.
   */
  used: number;
}

interface Baseline {
  requests: number;
  errors: number;
  bytes: number;
  addresses: number;
  samples: number;
}

interface KeyState {
  /** The time of the first use (a refusal is none: until then, that of the first refusal, and reset by the first use). */
  first: number;
  seen: number;
  /** Warmed up: stays so, even when the clock is set back before `first + warmup`. */
  warm: boolean;
  /** Remembered addresses, least recently seen first (a Set keeps insertion order; a value would only cost memory). */
  readonly known: Set<number>;
  readonly countries: CountrySet;
  minute: number;
  current: Minute;
  readonly base: Baseline;
  readonly fired: Map<AnomalyKind, number>;
}

const emptyMinute = (): Minute => ({ requests: 0, errors: 0, authFailures: 0, bytes: 0, addresses: new Set(), capped: false, used: 0 });
const ewma = (old: number, x: number, samples: number) => (samples === 0 ? x : ALPHA * x + (1 - ALPHA) * old);
/** A minute's contribution to a baseline: uncapped for the first sample, then at most `BASELINE_STEP` × the baseline (or `floor`). */
const stepped = (old: number, x: number, samples: number, floor: number) => (samples === 0 ? x : Math.min(x, Math.max(floor, BASELINE_STEP * old)));

/** What the detector holds for one key: every count is bounded by an option, whatever the traffic. */
export interface AnomalyFootprint {
  /** Addresses remembered for `NEW_ADDRESS` (at most `maxKnownAddresses`). */
  readonly knownAddresses: number;
  /** Distinct addresses counted this minute (at most `maxMinuteAddresses`). */
  readonly minuteAddresses: number;
  /** Countries remembered for `NEW_COUNTRY` (every two-letter code, in 85 bytes, and at most 64 other names). */
  readonly countries: number;
}

/** What the detector needs from the instance. */
export interface AnomalyDetectorDeps {
  readonly events: EventBus;
  readonly keys: KeyManager;
  /** The clock of the country cache's time to live (default `Date.now`). */
  readonly clock?: Clock;
}

/** Countries remembered per client address, and for how long: as the country restrictions remember them. */
const COUNTRY_CACHE_SIZE = 10_000;
const COUNTRY_CACHE_TTL_MS = 10 * 60_000;

/**
 * Watches the audit events and reports, per key, use that looks like theft: a new client address or country, a
 * request rate or response volume far above the key's baseline, bursts of errors or authentication failures, use
 * from many addresses at once. Each finding is an `anomaly.detected` event carrying its evidence (addresses,
 * counts, baselines — never a secret); with `suspend`, the key is disabled and `key.suspended` follows.
 * Runs off the request path; memory is bounded by `maxKeys` × (`maxKnownAddresses` + `maxMinuteAddresses` + a
 * country bitmap and 64 other country names), independent of the request rate and of anything a client sends.
 */
export class AnomalyDetector {
  private readonly state = new Map<string, KeyState>();
  private readonly pending = new Set<Promise<void>>();
  /** The lookup's answers by address (`null`: no country), so a busy address costs one look-up per ten minutes. */
  private readonly countries: LruCache<string, string | null>;

  constructor(
    private readonly config: AnomalyConfig,
    private readonly deps: AnomalyDetectorDeps,
  ) {
    this.countries = new LruCache(COUNTRY_CACHE_SIZE, COUNTRY_CACHE_TTL_MS, deps.clock ?? Date.now);
  }

  /** Feeds one audit event. */
  observe(event: KeywardEvent): void {
    const o = observationOf(event);
    if (!o || o.kind === 'authenticated') return;
    const c = this.config;
    const t = o.time;
    const id = o.keyId; // a token's own use is never a key's (see observationOf)
    let s = this.state.get(id);
    if (s) this.state.delete(id);
    else {
      s = { first: t, seen: 0, warm: false, known: new Set(), countries: new CountrySet(), minute: Math.floor(t / MINUTE), current: emptyMinute(), base: { requests: 0, errors: 0, bytes: 0, addresses: 0, samples: 0 }, fired: new Map() };
      if (this.state.size >= c.maxKeys) this.state.delete(this.state.keys().next().value as string);
    }
    this.state.set(id, s);

    const minute = Math.floor(t / MINUTE);
    // Another minute, later or — the clock set back — earlier: the one counted is over. With `>` alone, a clock set
    // back an hour added an hour of requests to one minute, a RATE_SPIKE (and a suspension) for steady use.
    if (minute !== s.minute) {
      const m = s.current;
      if (m.requests > 0) {
        const b = s.base;
        b.requests = ewma(b.requests, stepped(b.requests, m.requests, b.samples, c.minRate), b.samples);
        b.errors = ewma(b.errors, m.errors, b.samples);
        b.bytes = ewma(b.bytes, stepped(b.bytes, m.bytes, b.samples, c.minBytes), b.samples);
        b.addresses = ewma(b.addresses, Math.min(m.used, Math.max(c.maxAddresses, BASELINE_STEP * b.addresses)), b.samples);
        b.samples++;
      }
      s.minute = minute;
      s.current = emptyMinute();
    }
    const m = s.current;
    // An `auth.failed` naming a key is a refusal for the key's own status (disabled, revoked, expired), or of a verified
    // token of the key or subject (revoked, expired: an unverified one names no one): an authentication
    // failure, not use of the key. Counted as requests, a suspended key's retries made a RATE_SPIKE (and a second
    // suspension) out of the first requests after `keys.enable`, and hours of them raised the baselines.
    if (o.authFailed) m.authFailures++;
    else {
      m.requests++;
      if (o.kind === 'refused' || (o.status ?? 0) >= 400) m.errors++;
      m.bytes += o.bytes ?? 0;
    }
    const addressHash = o.address !== undefined ? addressId(o.address) : undefined;
    if (addressHash !== undefined && !m.addresses.has(addressHash)) {
      // A full count is itself the evidence: the threshold below never exceeds it.
      if (m.addresses.size < c.maxMinuteAddresses) {
        m.addresses.add(addressHash);
        if (!o.authFailed) m.used++;
      } else m.capped = true;
    }
    const country = this.countryOf(event);

    if (!s.warm) s.warm = s.base.samples > 0 && t - s.first >= c.warmupMs && s.seen >= c.warmupRequests;
    if (s.warm) {
      const found: Array<[AnomalyKind, Evidence]> = [];
      const b = s.base;
      const round = (x: number) => Math.round(x * 100) / 100;
      if (addressHash !== undefined && !s.known.has(addressHash)) found.push(['NEW_ADDRESS', { address: o.address, knownAddresses: s.known.size }]);
      if (country !== undefined && !s.countries.has(country)) found.push(['NEW_COUNTRY', () => ({ country, knownCountries: s.countries.list() })]); // listed only when reported
      const rateThreshold = Math.max(c.minRate, c.rateFactor * b.requests);
      if (m.requests >= rateThreshold) found.push(['RATE_SPIKE', { requestsThisMinute: m.requests, baselinePerMinute: round(b.requests), threshold: Math.ceil(rateThreshold) }]);
      const bytesThreshold = Math.max(c.minBytes, c.bytesFactor * b.bytes);
      if (m.bytes >= bytesThreshold) found.push(['BYTES_SPIKE', { bytesThisMinute: m.bytes, baselineBytesPerMinute: Math.round(b.bytes), threshold: Math.ceil(bytesThreshold) }]);
      if (m.errors >= c.errorBurst && m.errors / m.requests >= c.errorRatio) found.push(['ERROR_BURST', { errorsThisMinute: m.errors, requestsThisMinute: m.requests, baselineErrorsPerMinute: round(b.errors) }]);
      if (m.authFailures >= c.authFailureBurst) found.push(['AUTH_FAILURE_BURST', { authFailuresThisMinute: m.authFailures, lastReason: o.reason }]);
      const addrThreshold = Math.min(c.maxMinuteAddresses, Math.max(c.maxAddresses, c.rateFactor * b.addresses));
      if (m.addresses.size >= addrThreshold) {
        found.push(['MANY_ADDRESSES', { addressesThisMinute: m.addresses.size, ...(m.capped ? { capped: true } : {}), baselineAddressesPerMinute: round(b.addresses), threshold: Math.ceil(addrThreshold) }]);
      }
      for (const [kind, evidence] of found) this.fire(kind, evidence, event, s, t, country);
    }

    // A refusal is never use: it counts by its address in the minute (MANY_ADDRESSES) but makes no address or country
    // known. Once it did, and a revoked key (or a subject's expired token) replayed from an attacker's address taught
    // that address, so the key re-enabled (or the subject's next token) used from there was no NEW_ADDRESS.
    if (o.authFailed) return;
    // The warm-up counts from the first use: counted from a refusal, a key refused for an hour was judged after a minute of use.
    if (s.seen === 0) s.first = t;
    s.seen++;
    if (addressHash !== undefined) {
      s.known.delete(addressHash);
      s.known.add(addressHash);
      if (s.known.size > c.maxKnownAddresses) s.known.delete(s.known.values().next().value as number);
    }
    if (country !== undefined) s.countries.add(country);
  }

  /** Resolves once every automatic suspension started so far has finished and its events were delivered. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    await this.deps.events.drain();
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.state.size;
  }

  /** What is held for a key, or a token (`token:<sub>`, see observationOf; `undefined` when it is not tracked): for checking the memory bound. */
  footprint(keyId: string): AnomalyFootprint | undefined {
    const s = this.state.get(keyId);
    return s && { knownAddresses: s.known.size, minuteAddresses: s.current.addresses.size, countries: s.countries.size };
  }

  private countryOf(event: KeywardEvent): string | undefined {
    if (event.country) return event.country.toUpperCase();
    const lookup = this.config.countryLookup;
    const address = event.clientAddress;
    if (!lookup || address === undefined) return undefined;
    const hit = this.countries.get(address);
    if (hit !== undefined) return hit ?? undefined;
    let country: string | undefined;
    try {
      const c = lookup(address);
      country = typeof c === 'string' && c.length > 0 ? c.toUpperCase() : undefined;
    } catch {
      return undefined; // unknown this time, and not remembered
    }
    this.countries.set(address, country ?? null);
    return country;
  }

  private fire(kind: AnomalyKind, evidence: Evidence, event: KeywardEvent, s: KeyState, t: number, country: string | undefined): void {
    const c = this.config;
    if (!c.detect.has(kind)) return;
    const last = s.fired.get(kind);
    // `t < last`: the clock was set back; the cool-down counts from then, not until the clock is past `last` again.
    if (last !== undefined && t >= last && t - last < c.cooldownMs) return;
    s.fired.set(kind, t);
    const keyId = event.keyId!;
    // An `auth.failed` naming a key is a refusal for the key's own status (disabled, revoked, expired): the key is refused
    // already, and such a refusal reaching the detector after `keys.enable` (events come in a later turn) would disable
    // the key its operator just re-enabled, or claim a suspension (`key.suspended`) of a key disabled for another reason.
    // A key is suspended, or a token acting as its key (exchanged for it: its events name the key by id and hint; a
    // stolen key used through its tokens is suspended alike, which ends them too); never for a token's own id, which may
    // be anything its issuer wrote, a key's id among them — nothing to suspend there (revoke the `jti`).
    const suspend = c.suspend.has(kind) && event.type !== 'auth.failed' && (event.principalType !== 'token' || event.hint !== undefined);
    const who = {
      keyId,
      ...(event.owner !== undefined ? { owner: event.owner } : {}),
      ...(event.hint !== undefined ? { hint: event.hint } : {}),
      ...(event.principalType !== undefined ? { principalType: event.principalType } : {}),
      ...(event.subject !== undefined ? { subject: event.subject } : {}),
      ...(event.issuer !== undefined ? { issuer: event.issuer } : {}),
    };
    this.deps.events.emit({
      type: 'anomaly.detected',
      ...who,
      ...(event.requestId !== undefined ? { requestId: event.requestId } : {}),
      ...(event.plan !== undefined ? { plan: event.plan } : {}),
      ...(event.clientAddress !== undefined ? { clientAddress: event.clientAddress } : {}),
      ...(country !== undefined ? { country } : {}),
      ...(event.method !== undefined ? { method: event.method } : {}),
      ...(event.path !== undefined ? { path: event.path } : {}),
      reason: kind,
      data: { kind, severity: SEVERITY[kind], suspend, evidence: typeof evidence === 'function' ? evidence() : evidence },
    });
    if (suspend) this.suspend(keyId, kind, who);
  }

  private suspend(keyId: string, kind: AnomalyKind, who: Record<string, unknown>): void {
    const reason = `anomaly: ${kind}`;
    const p = this.deps.keys
      .disable(keyId, { reason })
      .then(
        (info) => {
          // A key disabled already keeps its reason: this call changed nothing (several kinds found in one request each
          // suspend, the first one disables), and a second `key.suspended` would claim a suspension that did not happen.
          if (info.status === 'disabled' && info.disabledReason === reason) this.deps.events.emit({ type: 'key.suspended', ...(who as { keyId: string }), reason: kind, data: { anomaly: kind } });
        },
        (error: unknown) => {
          const code = (error as { code?: string }).code;
          // already revoked or deleted: nothing to suspend
          if (code === 'KEY_NOT_FOUND' || code === 'INVALID_ARGUMENT') return;
          this.deps.events.emit({ type: 'store.error', keyId, reason: 'SUSPEND_FAILED', data: { anomaly: kind, message: failureMessage(error) } });
        },
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}
