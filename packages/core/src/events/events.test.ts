import { channel, type Channel } from 'node:diagnostics_channel';
import { EventBus, EVENTS_CHANNEL } from './bus';
import { EVENT_TYPES } from './schema';
import { redactHeaders, redactQuery, REDACTED } from './redact';
import { manualClock } from '../util/clock';

describe('events', () => {
  it('delivers off the request path, in order, with schema and time', async () => {
    const bus = new EventBus(manualClock(Date.parse('2026-01-02T03:04:05.006Z')));
    const seen: string[] = [];
    bus.on('*', (e) => { seen.push(`${e.type}@${e.time}/${e.schema}`); });
    bus.emit({ type: 'key.created', keyId: 'key_1' });
    bus.emit({ type: 'key.revoked', keyId: 'key_1' });
    expect(seen).toEqual([]); // not synchronous
    await bus.drain();
    expect(seen).toEqual(['key.created@2026-01-02T03:04:05.006Z/keyward.event/v1', 'key.revoked@2026-01-02T03:04:05.006Z/keyward.event/v1']);
  });

  it('formats times as ISO 8601 with milliseconds, like Date#toISOString, across seconds and years', () => {
    const bus = new EventBus(Date.now);
    const times = [0, 7, 999, 1_000, 59_999, Date.parse('2026-12-31T23:59:59.999Z'), Date.parse('2027-01-01T00:00:00.000Z'), 253402300799999, 253402300800000, 1.5, 1_000.25];
    for (const ms of times) expect(bus.at(ms)).toBe(new Date(Math.floor(ms)).toISOString());
    for (const ms of [...times].reverse()) expect(bus.at(ms)).toBe(new Date(Math.floor(ms)).toISOString());
  });

  it('isolates a listener that throws or rejects', async () => {
    const errors: unknown[] = [];
    const bus = new EventBus(Date.now, (e) => errors.push(e));
    const seen: string[] = [];
    bus.on('key.created', () => { throw new Error('boom'); });
    bus.on('key.created', async () => { throw new Error('async boom'); });
    bus.on('key.created', (e) => { seen.push(e.type); });
    bus.emit({ type: 'key.created' });
    await bus.drain();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['key.created']);
    expect(errors).toHaveLength(2);
  });

  it('unsubscribes and costs nothing without listeners', async () => {
    const bus = new EventBus(Date.now);
    const seen: string[] = [];
    const off = bus.on('*', (e) => { seen.push(e.type); });
    off();
    // Only the diagnostics channel (the suite's leak guard subscribes to it) can keep the bus active now.
    expect(bus.active).toBe(EVENTS_CHANNEL.hasSubscribers);
    bus.emit({ type: 'key.created' });
    await bus.drain();
    expect(seen).toEqual([]);
  });

  describe('who wants which event', () => {
    // A channel of this test's own: the suite's leak guard subscribes to the process-wide one in every file.
    let own: Channel;
    let n = 0;
    beforeEach(() => {
      own = channel(`keyward:test-wants-${n++}`);
    });

    it('wants a type only while it, or every type, has a listener', () => {
      const bus = new EventBus(Date.now, undefined, own);
      expect(EVENT_TYPES.filter((t) => bus.wants(t))).toEqual([]);
      expect(bus.active).toBe(false);
      const offFailed = bus.on('auth.failed', () => {});
      expect(EVENT_TYPES.filter((t) => bus.wants(t))).toEqual(['auth.failed']);
      expect(bus.active).toBe(true);
      const offAll = bus.on('*', () => {});
      expect(EVENT_TYPES.filter((t) => bus.wants(t))).toEqual(EVENT_TYPES);
      offAll();
      expect(EVENT_TYPES.filter((t) => bus.wants(t))).toEqual(['auth.failed']);
      offAll(); // a second call changes nothing
      expect(EVENT_TYPES.filter((t) => bus.wants(t))).toEqual(['auth.failed']);
      expect(EVENT_TYPES.filter((t) => bus.listened[t])).toEqual(['auth.failed']);
      expect(bus.broadcasting).toBe(false);
      offFailed();
      expect(EVENT_TYPES.filter((t) => bus.wants(t))).toEqual([]);
    });

    it('counts one listener once, however often it subscribes', () => {
      const bus = new EventBus(Date.now, undefined, own);
      const listener = () => {};
      const off1 = bus.on('key.created', listener);
      bus.on('key.created', listener);
      off1();
      expect(bus.wants('key.created')).toBe(false);
    });

    it('wants every type while the channel has a subscriber, and publishes there', async () => {
      const bus = new EventBus(Date.now, undefined, own);
      const published: string[] = [];
      const subscriber = (e: unknown) => published.push((e as { type: string }).type);
      own.subscribe(subscriber);
      expect(EVENT_TYPES.every((t) => bus.wants(t))).toBe(true);
      expect(bus.broadcasting).toBe(true);
      expect(EVENT_TYPES.filter((t) => bus.listened[t])).toEqual([]); // listeners only: the channel is told apart
      bus.emit({ type: 'key.created' });
      expect(published).toEqual(['key.created']); // synchronously
      own.unsubscribe(subscriber);
      expect(bus.wants('key.created')).toBe(false);
      bus.emit({ type: 'key.created' });
      expect(published).toEqual(['key.created']);
    });

    it('builds and delivers nothing of a type nobody wants', async () => {
      const bus = new EventBus(Date.now, undefined, own);
      const seen: string[] = [];
      bus.on('auth.failed', (e) => { seen.push(e.type); });
      bus.emit({ type: 'auth.succeeded' });
      bus.emit({ type: 'auth.failed' });
      await bus.drain();
      expect(seen).toEqual(['auth.failed']);
    });

    it('refuses an unknown event type and a listener that is not a function, naming neither secret nor listener', () => {
      const bus = new EventBus(Date.now, undefined, own);
      expect(() => bus.on('auth.fail' as never, () => {})).toThrow(/unknown event type "auth\.fail" \(did you mean "auth\.failed"\? one of .*, or '\*'\)/);
      expect(() => bus.on('nonsense.event.type' as never, () => {})).toThrow(/unknown event type "nonsense\.event\.type" \(one of /);
      const key = `kw_live_${'A'.repeat(40)}`;
      const keyLike = (() => { try { bus.on(key as never, () => {}); } catch (e) { return (e as Error).message; } return ''; })();
      expect(keyLike).toMatch(/unknown event type \(a name of 48 characters, not shown: it could be a credential\)/);
      expect(keyLike).not.toContain('AAAA');
      expect(() => bus.on(42 as never, () => {})).toThrow(/unknown event type \(a number, not a name\)/);
      expect(() => bus.on('auth.failed', 'nope' as never)).toThrow(/listener must be a function/);
      expect(bus.active).toBe(false);
    });
  });

  it('redacts credential headers and query parameters without touching the input', () => {
    const headers = { Authorization: 'Bearer x', 'x-api-key': 'k', 'X-Custom-Key': 's', accept: '*/*' };
    expect(redactHeaders(headers, ['x-custom-key'])).toEqual({ Authorization: REDACTED, 'x-api-key': REDACTED, 'X-Custom-Key': REDACTED, accept: '*/*' });
    expect(headers.Authorization).toBe('Bearer x');
    expect(redactQuery('/v1/x?api_key=kw_live_abc&page=2&access_token=t')).toBe(`/v1/x?api_key=${REDACTED}&page=2&access_token=${REDACTED}`);
    expect(redactQuery('/v1/x?API%5FKEY=abc')).toBe(`/v1/x?API%5FKEY=${REDACTED}`);
    expect(redactQuery('/plain')).toBe('/plain');
  });
});
