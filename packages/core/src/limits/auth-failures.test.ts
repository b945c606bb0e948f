import { createKeyward } from '../keyward';
import { manualClock } from '../util/clock';
import type { AuthRequest, DenyDecision, KeywardEvent } from '../index';
import { memoryLimiterStore } from './store';
import { MemoryKeyStore } from '../stores/memory-key-store';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const req = (key: string | undefined, remoteAddress: string): AuthRequest => ({ method: 'GET', path: '/x', headers: key ? { 'x-api-key': key } : {}, remoteAddress });

describe('failed-auth blocking', () => {
  it('blocks an address after max failures in the window, before any credential work, then lets it go', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, authFailures: { max: 3, window: '1m', block: '5m' } });
    const events: KeywardEvent[] = [];
    kw.on('auth.blocked', (e) => { events.push(e); });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (let i = 0; i < 3; i++) expect((await kw.check(req('kw_live_wrong' + i, '203.0.113.5'))).ok).toBe(false);
    await kw.flushEvents();
    const spy = jest.spyOn(kw.config.store, 'findByHash');
    const d = (await kw.check(req(key, '203.0.113.5'))) as DenyDecision;
    expect([d.status, d.code, d.headers['Retry-After']]).toEqual([429, 'AUTH_BLOCKED', '300']);
    expect(spy).not.toHaveBeenCalled();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'auth.blocked', clientAddress: '203.0.113.5', reason: 'AUTH_FAILURES', data: { failures: 3, blockSeconds: 300 } });
    expect(JSON.stringify(events)).not.toContain('kw_live_wrong');
    // another address is not affected
    expect((await kw.check(req(key, '203.0.113.6'))).ok).toBe(true);
    clock.advance(299_000);
    expect(((await kw.check(req(key, '203.0.113.5'))) as DenyDecision).headers['Retry-After']).toBe('1');
    clock.advance(1000);
    expect((await kw.check(req(key, '203.0.113.5'))).ok).toBe(true);
    await kw.close();
  });

  it('blocks one IPv4 client behind a NAT64 translator, not every client of the translator', async () => {
    const kw = createKeyward({ clock: manualClock(T0), authFailures: { max: 2, window: '1m', block: '5m' } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (let i = 0; i < 2; i++) await kw.check(req('kw_live_wrong' + i, '64:ff9b::cb00:7109'));
    for (let i = 0; i < 2; i++) await kw.check(req('kw_live_wrong' + i, '64:ff9b:1::cb00:7109'));
    const code = async (address: string) => { const d = await kw.check(req(key, address)); return d.ok ? 'OK' : (d as DenyDecision).code; };
    expect(await code('64:ff9b::cb00:7109')).toBe('AUTH_BLOCKED');
    expect(await code('203.0.113.9')).toBe('AUTH_BLOCKED'); // the same client over IPv4
    expect(await code('64:ff9b::cb00:710a')).toBe('OK');
    expect(await code('64:ff9b:1::cb00:7109')).toBe('AUTH_BLOCKED');
    expect(await code('64:ff9b:1::cb00:710a')).toBe('OK');
    await kw.close();
  });

  it('with the memory store, the block check costs a request no promise: allowed and blocked answers come at once', async () => {
    const clock = manualClock(T0);
    for (const store of [undefined, memoryLimiterStore({ clock })]) {
      const kw = createKeyward({ clock, authFailures: { max: 2, window: '1m', block: '1m', ...(store ? { store } : {}) } });
      const { key } = await kw.keys.create({ owner: 'acme' });
      await kw.check(req(key, '203.0.113.5')); // the key is cached from here on
      const allowed = kw.decide(req(key, '203.0.113.5'));
      expect(allowed).not.toBeInstanceOf(Promise);
      expect((allowed as { ok: boolean }).ok).toBe(true);
      for (let i = 0; i < 2; i++) await kw.check(req('kw_live_wrong' + i, '203.0.113.5'));
      const blocked = kw.decide(req(key, '203.0.113.5'));
      expect(blocked).not.toBeInstanceOf(Promise);
      expect([(blocked as DenyDecision).code, (blocked as DenyDecision).headers['Retry-After']]).toEqual(['AUTH_BLOCKED', '60']);
      await kw.close();
    }
  });

  it('requests in flight when the block starts are answered by it: a failure beyond max, and a valid key too', async () => {
    // A key store answering later (as Redis or PostgreSQL do), so the checks below overlap; each look-up ends in turn.
    class LaterStore extends MemoryKeyStore {
      override async findByHash(hash: string) {
        await new Promise((r) => setImmediate(r));
        return super.findByHash(hash);
      }
    }
    const inner = memoryLimiterStore({ clock: manualClock(T0) });
    let reads = 0;
    const remote = { increment: async (k: string, a: number, t: number) => inner.increment(k, a, t), get: async (k: string) => (reads++, inner.get(k)) };
    for (const store of [undefined, remote]) {
      const kw = createKeyward({ clock: manualClock(T0), store: new LaterStore(), cache: false, authFailures: { max: 3, window: '1m', block: '2m', ...(store ? { store } : {}) } });
      const events: KeywardEvent[] = [];
      kw.on('auth.blocked', (e) => { events.push(e); });
      const { key } = await kw.keys.create({ owner: 'acme' });
      // All pass the block check before any is counted; the valid key's look-up ends after the third failure's.
      const answers = await Promise.all([...['kw_live_w1', 'kw_live_w2', 'kw_live_w3', 'kw_live_w4', 'kw_live_w5'].map((k) => kw.check(req(k, '203.0.113.5'))), kw.check(req(key, '203.0.113.5'))]);
      expect(answers.map((d) => (d.ok ? 'OK' : (d as DenyDecision).code))).toEqual(['CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'AUTH_BLOCKED', 'AUTH_BLOCKED', 'AUTH_BLOCKED']);
      expect(answers.slice(3).map((d) => d.headers['Retry-After'])).toEqual(['120', '120', '120']);
      await kw.flushEvents();
      expect(events).toHaveLength(1); // one block, one event
      // another address is not affected, the allowed path included
      expect((await kw.check(req(key, '203.0.113.6'))).ok).toBe(true);
      if (store) expect(reads).toBe(7); // one block check per request: the valid key in flight was refused from memory
      await kw.close();
    }
  });

  it('a block counted while the store was away still holds once it is back, and blocks while it is away', async () => {
    const clock = manualClock(T0);
    const inner = memoryLimiterStore({ clock });
    let down = false;
    const fail = () => Promise.reject(new Error('store down'));
    // A memory store behind a wrapper, so keyward treats it as a remote one (guarded, with the in-memory fallback).
    const store = { increment: (k: string, a: number, t: number) => (down ? fail() : inner.increment(k, a, t)), get: (k: string) => (down ? fail() : inner.get(k)) };
    const kw = createKeyward({ clock, authFailures: { max: 3, window: '1m', block: '5m', store } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    down = true;
    for (let i = 0; i < 3; i++) expect((await kw.check(req('kw_live_wrong' + i, '203.0.113.5'))).ok).toBe(false);
    const whileDown = (await kw.check(req(key, '203.0.113.5'))) as DenyDecision;
    expect([whileDown.status, whileDown.code]).toEqual([429, 'AUTH_BLOCKED']);
    down = false;
    const afterwards = (await kw.check(req(key, '203.0.113.5'))) as DenyDecision;
    expect([afterwards.status, afterwards.code]).toEqual([429, 'AUTH_BLOCKED']);
    clock.advance(300_000);
    expect((await kw.check(req(key, '203.0.113.5'))).ok).toBe(true);
    await kw.close();
  });

  it('a block entry that outlives its block (a store counting whole seconds) does not keep the next block from starting', async () => {
    const clock = manualClock(T0 + 500);
    const inner = memoryLimiterStore({ clock });
    // As Redis does: a time-to-live in whole seconds, rounded up (a block of 1.5 s is an entry of 2 s).
    const store = { increment: (k: string, a: number, t: number) => inner.increment(k, a, Math.ceil(t / 1000) * 1000), get: (k: string) => inner.get(k) };
    const kw = createKeyward({ clock, authFailures: { max: 1, window: '1m', block: '1500ms', store } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    const code = async (k: string) => {
      const d = await kw.check(req(k, '203.0.113.5'));
      return d.ok ? 'OK' : (d as DenyDecision).code;
    };
    expect([await code('kw_live_wrong1'), await code(key)]).toEqual(['CREDENTIALS_INVALID', 'AUTH_BLOCKED']);
    clock.advance(1700); // the block ended at T0 + 2 s; its entry lasts until T0 + 2.5 s
    expect([await code('kw_live_wrong2'), await code(key)]).toEqual(['CREDENTIALS_INVALID', 'AUTH_BLOCKED']);
    await kw.close();
  });

  it('a share taken back after its block entry ended leaves no entry below zero that would hide the next block', async () => {
    const clock = manualClock(T0);
    const inner = memoryLimiterStore({ clock });
    // The block entry ends while a writer that came second gives its share back (a slow round trip, made here at once).
    const store = {
      increment: (k: string, a: number, t: number) => {
        if (a < 0 && k.startsWith('ab:')) clock.advance(1000);
        return inner.increment(k, a, t);
      },
      get: (k: string) => inner.get(k),
    };
    const kw = createKeyward({ clock, authFailures: { max: 1, window: '1m', block: '1s', store } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    await Promise.all([kw.check(req('kw_live_wrong1', '203.0.113.5')), kw.check(req('kw_live_wrong2', '203.0.113.5'))]);
    const codes: string[] = [];
    for (const k of ['kw_live_wrong3', key]) {
      const d = await kw.check(req(k, '203.0.113.5'));
      codes.push(d.ok ? 'OK' : (d as DenyDecision).code);
    }
    expect(codes).toEqual(['CREDENTIALS_INVALID', 'AUTH_BLOCKED']);
    await kw.close();
  });

  it('a store that fails is reported by at most one store.error event a second, as the limits report theirs', async () => {
    const clock = manualClock(T0);
    const down = () => Promise.reject(new Error('store down'));
    const kw = createKeyward({ clock, authFailures: { max: 3, store: { increment: down, get: down } } });
    const events: KeywardEvent[] = [];
    kw.on('store.error', (e) => { events.push(e); });
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (let i = 0; i < 10; i++) await kw.check(req(i % 2 ? key : 'kw_live_wrong' + i, '203.0.113.5'));
    await kw.flushEvents();
    expect(events.map((e) => [e.reason, e.data])).toEqual([['STORE_ERROR', { component: 'authFailures' }]]);
    clock.advance(1000);
    await kw.check(req(key, '203.0.113.5'));
    await kw.flushEvents();
    expect(events).toHaveLength(2);
    await kw.close();
  });

  it('a store that never answers holds a request no longer than limits.storeTimeout, then counts and blocks in memory', async () => {
    const silent = () => new Promise<number>(() => {});
    const kw = createKeyward({ authFailures: { max: 2, store: { increment: silent, get: silent } }, limits: { storeTimeout: '20ms' } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    const timed = async (k: string) => {
      const started = performance.now();
      const d = await kw.check(req(k, '203.0.113.5'));
      return [d.ok ? 'OK' : (d as DenyDecision).code, performance.now() - started] as const;
    };
    // A failure waits for three store calls (the block check, the count, the block); each must give up after 20 ms.
    const answers = [await timed(key), await timed('kw_live_wrong1'), await timed('kw_live_wrong2'), await timed(key)];
    expect(answers.map(([code]) => code)).toEqual(['OK', 'CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'AUTH_BLOCKED']);
    for (const [, ms] of answers) expect(ms).toBeLessThan(240); // 250 ms each before: the fixed timeout
    await kw.close();
  });

  it('a block shorter than the window is not the end of it: the next failure in the window blocks again', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, authFailures: { max: 3, window: '1h', block: '1m' } });
    const events: KeywardEvent[] = [];
    kw.on('auth.blocked', (e) => { events.push(e); });
    const codes = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(((await kw.check(req('kw_live_wrong' + i, '203.0.113.5'))) as DenyDecision).code);
      return out;
    };
    expect(await codes(4)).toEqual(['CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'AUTH_BLOCKED']);
    clock.advance(61_000);
    expect(await codes(3)).toEqual(['CREDENTIALS_INVALID', 'AUTH_BLOCKED', 'AUTH_BLOCKED']);
    await kw.flushEvents();
    expect(events.map((e) => (e.data as { failures: number }).failures)).toEqual([3, 4]);
    clock.advance(3_600_000); // a new window: the count starts again
    expect(await codes(2)).toEqual(['CREDENTIALS_INVALID', 'CREDENTIALS_INVALID']);
    await kw.close();
  });

  it('failures that cross the threshold together start one block: its Retry-After counts down to its end', async () => {
    const clock = manualClock(T0);
    const inner = memoryLimiterStore({ clock });
    // The memory store itself, and one keyward treats as remote (guarded, awaited).
    const remote = { increment: (k: string, a: number, t: number) => inner.increment(k, a, t), get: (k: string) => inner.get(k) };
    for (const store of [undefined, remote]) {
      clock.set(T0);
      const kw = createKeyward({ clock, authFailures: { max: 3, window: '1m', block: '2m', ...(store ? { store } : {}) } });
      const { key } = await kw.keys.create({ owner: 'acme' });
      // Six bad keys in flight at once: each passes the block check before any is counted, four of them reach `max`.
      await Promise.all(Array.from({ length: 6 }, (_, i) => kw.check(req('kw_live_wrong' + i, '203.0.113.5'))));
      const left = async () => ((await kw.check(req(key, '203.0.113.5'))) as DenyDecision).headers['Retry-After'];
      expect(await left()).toBe('120');
      clock.advance(60_000);
      expect(await left()).toBe('60');
      clock.advance(59_000);
      expect(await left()).toBe('1');
      clock.advance(1000);
      expect((await kw.check(req(key, '203.0.113.5'))).ok).toBe(true);
      await kw.close();
      inner.close?.();
    }
  });

  it('counts an IPv6 /56 as one client and IPv4-mapped addresses as IPv4', async () => {
    const kw = createKeyward({ clock: manualClock(T0), authFailures: { max: 2 } });
    await kw.check(req('bad-1', '2001:db8:0:ab00::1'));
    await kw.check(req('bad-2', '2001:db8:0:abff::2'));
    expect(((await kw.check(req('x', '2001:db8:0:ab12::3'))) as DenyDecision).code).toBe('AUTH_BLOCKED');
    expect(((await kw.check(req('x', '2001:db8:0:ac00::3'))) as DenyDecision).code).toBe('CREDENTIALS_INVALID');
    await kw.check(req('bad-1', '::ffff:192.0.2.9'));
    await kw.check(req('bad-2', '192.0.2.9'));
    expect(((await kw.check(req('x', '192.0.2.9'))) as DenyDecision).code).toBe('AUTH_BLOCKED');
    await kw.close();
  });

  it('a success does not reset the count: a valid key sent between guesses does not buy more guesses', async () => {
    const kw = createKeyward({ clock: manualClock(T0), authFailures: { max: 3, window: '1m' } });
    const { key } = await kw.keys.create({ owner: 'acme' });
    const codes: string[] = [];
    for (const k of ['kw_live_wrong1', key, 'kw_live_wrong2', key, 'kw_live_wrong3', key]) {
      const d = await kw.check(req(k, '203.0.113.5'));
      codes.push(d.ok ? 'OK' : (d as DenyDecision).code);
    }
    expect(codes).toEqual(['CREDENTIALS_INVALID', 'OK', 'CREDENTIALS_INVALID', 'OK', 'CREDENTIALS_INVALID', 'AUTH_BLOCKED']);
    await kw.close();
  });

  it('failures spread over windows do not block; missing credentials are not failures', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock, authFailures: { max: 2, window: '1m' } });
    for (let i = 0; i < 5; i++) await kw.check(req(undefined, '192.0.2.1'));
    await kw.check(req('bad', '192.0.2.1'));
    clock.advance(60_000);
    await kw.check(req('bad', '192.0.2.1'));
    expect(((await kw.check(req(undefined, '192.0.2.1'))) as DenyDecision).code).toBe('CREDENTIALS_MISSING');
    await kw.close();
  });

  it('stays bounded under many distinct addresses sending bogus keys', async () => {
    const store = memoryLimiterStore({ maxEntries: 2000 });
    const kw = createKeyward({ authFailures: { max: 5, store } });
    for (let i = 0; i < 10_000; i++) await kw.check(req(`bogus-${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    expect(store.size).toBeLessThanOrEqual(2000);
    expect(store.size).toBeGreaterThan(0);
    await kw.close();
  });

  it('validates its options', () => {
    expect(() => createKeyward({ authFailures: { max: 0 } })).toThrow('keyward: option "authFailures.max" must be a positive integer');
    expect(() => createKeyward({ authFailures: { window: 'x' } })).toThrow('"authFailures.window"');
    expect(() => createKeyward({ authFailures: { ipv6Subnet: 200 } })).toThrow('"authFailures.ipv6Subnet"');
  });
});
