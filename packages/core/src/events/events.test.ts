import { EventBus, EVENTS_CHANNEL } from './bus';
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

  it('redacts credential headers and query parameters without touching the input', () => {
    const headers = { Authorization: 'Bearer x', 'x-api-key': 'k', 'X-Custom-Key': 's', accept: '*/*' };
    expect(redactHeaders(headers, ['x-custom-key'])).toEqual({ Authorization: REDACTED, 'x-api-key': REDACTED, 'X-Custom-Key': REDACTED, accept: '*/*' });
    expect(headers.Authorization).toBe('Bearer x');
    expect(redactQuery('/v1/x?api_key=kw_live_abc&page=2&access_token=t')).toBe(`/v1/x?api_key=${REDACTED}&page=2&access_token=${REDACTED}`);
    expect(redactQuery('/v1/x?API%5FKEY=abc')).toBe(`/v1/x?API%5FKEY=${REDACTED}`);
    expect(redactQuery('/plain')).toBe('/plain');
  });
});
