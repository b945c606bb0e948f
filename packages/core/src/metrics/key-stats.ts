import { hash53 } from './hash';
import { DistinctCounter } from './distinct';
import { SpaceSaving } from './top';
import { Ring } from './ring';
import { bucketOf, LATENCY_BUCKETS_MS } from './histogram';
import { statusClass, type Observation } from './observation';
import type { MetricsWindow, TopBy, WindowMetrics } from './types';

/** Slot layout of each window: counters at a fine resolution, top-N and distinct sketches at quarters. */
export const WINDOW_LAYOUT: Readonly<Record<MetricsWindow, { counterSlotMs: number; counterSlots: number; sketchSlotMs: number; sketchSlots: number }>> = {
  minute: { counterSlotMs: 5_000, counterSlots: 12, sketchSlotMs: 15_000, sketchSlots: 4 },
  hour: { counterSlotMs: 300_000, counterSlots: 12, sketchSlotMs: 900_000, sketchSlots: 4 },
  day: { counterSlotMs: 3_600_000, counterSlots: 24, sketchSlotMs: 21_600_000, sketchSlots: 4 },
};

/** Counters of one time slot. */
class Counters {
  requests = 0;
  completed = 0;
  refused = 0;
  readonly status = [0, 0, 0, 0, 0];
  authOk = 0;
  authFailed = 0;
  bytes = 0;
  latencyCount = 0;
  latencySum = 0;
  readonly latency = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  refusals: Record<string, number> | undefined;
}

/** Sketches of one time slot. */
class Sketches {
  readonly addresses: SpaceSaving;
  readonly userAgents: SpaceSaving;
  readonly endpoints: SpaceSaving;
  readonly addressesDistinct = new DistinctCounter();
  readonly userAgentsDistinct = new DistinctCounter();
  readonly endpointsDistinct = new DistinctCounter();

  constructor(capacity: number) {
    this.addresses = new SpaceSaving(capacity);
    this.userAgents = new SpaceSaving(capacity);
    this.endpoints = new SpaceSaving(capacity);
  }
}

const newCounters = (): Counters => new Counters();

/** {@link hash53} remembering its last answer: one client's requests repeat their address, agent and endpoint. */
class LastHash {
  private last = '';
  private hash = hash53('');
  of(value: string): number {
    if (value !== this.last) {
      this.hash = hash53(value);
      this.last = value;
    }
    return this.hash;
  }
}
const addressHashes = new LastHash();
const userAgentHashes = new LastHash();
const endpointHashes = new LastHash();

/** One key's rolling windows. */
export class KeyStats {
  /** Creates this key's sketches for a new slot (one function per key, not one per event). */
  private readonly newSketches = (): Sketches => new Sketches(this.topCapacity);
  owner: string | undefined;
  plan: string | undefined;
  firstSeen: number;
  lastSeen: number;
  private readonly counters = new Map<MetricsWindow, Ring<Counters>>();
  private readonly sketches = new Map<MetricsWindow, Ring<Sketches>>();

  constructor(
    readonly keyId: string,
    private readonly topCapacity: number,
    now: number,
  ) {
    this.firstSeen = now;
    this.lastSeen = now;
    for (const [w, l] of Object.entries(WINDOW_LAYOUT) as Array<[MetricsWindow, (typeof WINDOW_LAYOUT)[MetricsWindow]]>) {
      this.counters.set(w, new Ring(l.counterSlotMs, l.counterSlots));
      this.sketches.set(w, new Ring(l.sketchSlotMs, l.sketchSlots));
    }
  }

  /** Adds one observation to every window; `clock` tells a late event from one after the clock stepped back. */
  record(o: Observation, clock: () => number): void {
    if (o.owner !== undefined) this.owner = o.owner;
    if (o.plan !== undefined) this.plan = o.plan;
    if (o.time > this.lastSeen) this.lastSeen = o.time;
    if (o.time < this.firstSeen) this.firstSeen = o.time;
    const cls = statusClass(o.status);
    const addressHash = o.address !== undefined ? addressHashes.of(o.address) : 0;
    const uaHash = o.userAgent !== undefined ? userAgentHashes.of(o.userAgent) : 0;
    const endpointHash = o.endpoint !== undefined ? endpointHashes.of(o.endpoint) : 0;
    for (const ring of this.counters.values()) {
      const c = ring.at(o.time, newCounters, clock);
      if (!c) continue;
      if (o.kind === 'authenticated') {
        c.authOk++;
        continue;
      }
      c.requests++;
      if (cls >= 0) c.status[cls]!++;
      if (o.kind === 'completed') {
        c.completed++;
        c.bytes += o.bytes ?? 0;
        if (o.durationMs !== undefined) {
          c.latencyCount++;
          c.latencySum += o.durationMs;
          c.latency[bucketOf(o.durationMs)]!++;
        }
      } else {
        c.refused++;
        if (o.authFailed) c.authFailed++;
        if (o.reason !== undefined) {
          c.refusals ??= {};
          c.refusals[o.reason] = (c.refusals[o.reason] ?? 0) + 1;
        }
      }
    }
    if (o.kind === 'authenticated') return;
    for (const ring of this.sketches.values()) {
      const s = ring.at(o.time, this.newSketches, clock);
      if (!s) continue;
      if (o.address !== undefined) {
        s.addresses.add(o.address);
        s.addressesDistinct.add(addressHash);
      }
      if (o.userAgent !== undefined) {
        s.userAgents.add(o.userAgent);
        s.userAgentsDistinct.add(uaHash);
      }
      if (o.endpoint !== undefined) {
        s.endpoints.add(o.endpoint);
        s.endpointsDistinct.add(endpointHash);
      }
    }
  }

  /** One number over a window, for ranking keys. */
  value(window: MetricsWindow, by: TopBy, now: number): number {
    let v = 0;
    for (const c of this.counters.get(window)!.live(now)) {
      switch (by) {
        case 'requests':
          v += c.requests;
          break;
        case 'errors':
          v += c.status[3]! + c.status[4]!;
          break;
        case 'bytes':
          v += c.bytes;
          break;
        case 'authFailures':
          v += c.authFailed;
          break;
        case 'refused':
          v += c.refused;
          break;
      }
    }
    return v;
  }

  /** The window's metrics read at `now`. */
  window(window: MetricsWindow, now: number, limit: number): WindowMetrics {
    const ring = this.counters.get(window)!;
    const status = [0, 0, 0, 0, 0];
    const latency = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
    const refusals: Record<string, number> = {};
    let requests = 0, completed = 0, refused = 0, authOk = 0, authFailed = 0, bytes = 0, latencyCount = 0, latencySum = 0;
    for (const c of ring.live(now)) {
      requests += c.requests;
      completed += c.completed;
      refused += c.refused;
      authOk += c.authOk;
      authFailed += c.authFailed;
      bytes += c.bytes;
      latencyCount += c.latencyCount;
      latencySum += c.latencySum;
      for (let i = 0; i < 5; i++) status[i]! += c.status[i]!;
      for (let i = 0; i < latency.length; i++) latency[i]! += c.latency[i]!;
      if (c.refusals) for (const [k, n] of Object.entries(c.refusals)) refusals[k] = (refusals[k] ?? 0) + n;
    }
    const sk = this.sketches.get(window)!.live(now);
    return {
      window,
      from: new Date(ring.start(now)).toISOString(),
      to: new Date(now).toISOString(),
      requests,
      completed,
      refused,
      status: { '1xx': status[0]!, '2xx': status[1]!, '3xx': status[2]!, '4xx': status[3]!, '5xx': status[4]! },
      errors: { '4xx': status[3]!, '5xx': status[4]!, rate: requests === 0 ? 0 : Math.round(((status[3]! + status[4]!) / requests) * 10_000) / 10_000 },
      auth: { succeeded: authOk, failed: authFailed },
      refusals,
      bytes,
      latency: {
        count: latencyCount,
        sumMs: Math.round(latencySum * 1000) / 1000,
        buckets: latency.map((count, i) => ({ le: i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! : ('+Inf' as const), count })),
      },
      addresses: { distinct: DistinctCounter.union(sk.map((s) => s.addressesDistinct)), top: SpaceSaving.merge(sk.map((s) => s.addresses), limit) },
      userAgents: { distinct: DistinctCounter.union(sk.map((s) => s.userAgentsDistinct)), top: SpaceSaving.merge(sk.map((s) => s.userAgents), limit) },
      endpoints: { distinct: DistinctCounter.union(sk.map((s) => s.endpointsDistinct)), top: SpaceSaving.merge(sk.map((s) => s.endpoints), limit) },
    };
  }
}
