import { requestId, requestIdFrom } from './request-id';
import { generateKey } from '../keys/format';
import { createKeyward, type KeywardEvent } from '../index';

describe('requestId', () => {
  it('has the shape of a version-8 UUID', () => {
    for (let i = 0; i < 100; i++) expect(requestId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('never repeats within a process', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(requestId());
    expect(seen.size).toBe(10_000);
  });

  it('counts up by one in its last twelve digits', () => {
    const a = requestId();
    const b = requestId();
    expect(parseInt(b.slice(24), 16) - parseInt(a.slice(24), 16)).toBe(1);
  });

  it('differs between processes in its random part', async () => {
    jest.resetModules();
    const other = (await import('./request-id')).requestId;
    expect(other().slice(0, 23)).not.toBe(requestId().slice(0, 23));
  });
});

describe('requestIdFrom', () => {
  const idOf = requestIdFrom('x-request-id');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const sent = (value: string | string[]) => idOf({ headers: { 'x-request-id': value } });

  it("keeps a caller's plausible id: a UUID, a W3C trace id, a short name", () => {
    for (const id of ['6f1c2a4e-8a2b-4c1d-9e3f-0a1b2c3d4e5f', '4bf92f3577b34da6a3ce929d0e0e4736', 'req_42', 'conf-express', 'a.b:c']) expect(sent(id)).toBe(id);
  });

  it('draws a new id for a missing, repeated, long or unsafe value', () => {
    for (const v of ['', 'a b', 'x'.repeat(129), 'é', ['a', 'b']]) expect(sent(v)).toMatch(uuid);
    expect(idOf({ headers: {} })).toMatch(uuid);
  });

  it('draws a new id for a value shaped like a credential, so it never reaches events and logs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
    for (const v of [generateKey({ prefix: 'kw', randomBits: 192 }, 'live'), `acme_test_${'A'.repeat(30)}`, jwt]) expect(sent(v)).toMatch(uuid);
  });

  it('draws a new id for a value that is the request\'s credential, whatever its shape (an opaque legacy key)', async () => {
    const opaque = 'opaque-legacy-key-123';
    expect(sent(opaque)).toBe(opaque); // alone, nothing tells it from an id
    expect(idOf({ headers: { 'x-request-id': opaque, authorization: `Bearer ${opaque}` } })).toMatch(uuid);
    const custom = requestIdFrom('x-request-id', { headers: ['authorization', 'x-api-key'], query: true });
    expect(custom({ headers: { 'x-request-id': opaque, 'x-api-key': opaque } })).toMatch(uuid);
    expect(custom({ headers: { 'x-request-id': opaque }, query: `api_key=${opaque}` })).toMatch(uuid);
    expect(custom({ headers: { 'x-request-id': 'req-42', authorization: 'Bearer req-42-and-more' } })).toBe('req-42'); // too short to tell
    // Through the pipeline: neither the decision nor an event carries it.
    const kw = createKeyward();
    const events: KeywardEvent[] = [];
    kw.on('*', (e) => void events.push(e));
    for (const headers of [{ authorization: `Bearer ${opaque}` }, { 'x-api-key': opaque }]) {
      const decision = await kw.check({ method: 'GET', path: '/x', headers: { ...headers, 'x-request-id': opaque } });
      expect(decision.requestId).toMatch(uuid);
    }
    await kw.flushEvents();
    expect(events).toHaveLength(2);
    expect(JSON.stringify(events)).not.toContain(opaque);
    await kw.close();
  });

  it('always draws a new id with the header turned off', () => {
    expect(requestIdFrom(false)({ headers: { 'x-request-id': 'mine' } })).toMatch(uuid);
  });
});
