import { EVENT_SCHEMA, type KeywardEvent } from '../events/schema';
import { observationOf } from './observation';

const event = (time: string): KeywardEvent => ({ schema: EVENT_SCHEMA, type: 'auth.succeeded', time, keyId: 'key_1', requestId: time }) as KeywardEvent;

describe('observationOf', () => {
  it('reads event times to the millisecond, within a second, across seconds and in any ISO form', () => {
    const times = [
      '2026-11-28T05:00:00.000Z',
      '2026-11-28T05:00:00.007Z',
      '2026-11-28T05:00:00.999Z',
      '2026-11-28T05:00:01.040Z',
      '1969-12-31T23:59:58.500Z',
      '1969-12-31T23:59:58.700Z',
      '2026-11-28T06:00:00.123+01:00',
      '2026-11-28T05:00:00Z',
      '2026-11-28T05:00:01.0x0Z',
    ];
    for (const time of times) {
      const expected = Date.parse(time);
      expect([time, observationOf(event(time))?.time]).toEqual([time, Number.isFinite(expected) ? expected : expect.any(Number)]);
    }
  });
});

describe('observation endpoints', () => {
  it('never hold a credential: key- and JWT-shaped path segments become [REDACTED] before the cut', () => {
    const key = `kw_live_${'A1b2C3d4'.repeat(4)}xYz9Q1`;
    const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.${'s'.repeat(43)}`;
    const endpoint = (path: string) => observationOf({ schema: EVENT_SCHEMA, type: 'request.completed', time: '2026-11-28T05:00:00.000Z', keyId: 'key_1', method: 'GET', path, status: 200 })?.endpoint;
    expect(endpoint(`/v1/${key}/docs?x=${key}`)).toBe('GET /v1/[REDACTED]/docs');
    expect(endpoint(`/t/${jwt}`)).toBe('GET /t/[REDACTED]');
    expect(endpoint(`/${'a'.repeat(100)}/${key}`)).toBe(`GET /${'a'.repeat(100)}/[REDACTED]`.slice(0, 128));
    expect(endpoint('/v1/users/42')).toBe('GET /v1/users/42');
    expect(endpoint('/v1/users/42')).toBe('GET /v1/users/42'); // the remembered one
    expect(endpoint(`/v1/${key}/docs`)).toBe('GET /v1/[REDACTED]/docs');
  });

  it('fill only key, owner, plan, time and kind for a successful authentication (its completion counts the rest)', () => {
    const o = observationOf({ schema: EVENT_SCHEMA, type: 'auth.succeeded', time: '2026-11-28T05:00:00.000Z', keyId: 'key_1', owner: 'acme', plan: 'pro', method: 'GET', path: '/v1/docs', clientAddress: '203.0.113.9', userAgent: 'curl/8' } as KeywardEvent);
    expect(o).toMatchObject({ keyId: 'key_1', owner: 'acme', plan: 'pro', kind: 'authenticated', time: Date.parse('2026-11-28T05:00:00.000Z') });
    expect([o?.address, o?.userAgent, o?.endpoint]).toEqual([undefined, undefined, undefined]);
  });
});
