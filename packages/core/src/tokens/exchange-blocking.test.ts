import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, type AuthRequest, type DenyDecision, type EndpointRequest, type KeywardEvent, type KeywardOptions } from '../index';

/** The token endpoint and failed-auth blocking: the same counters and the same block as the pipeline. */

const T0 = Date.parse('2026-05-01T12:00:00Z');
const ES = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const SIGNING = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ES, kid: 'k' }] };

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (body: string, headers: Record<string, string> = {}, remoteAddress = '203.0.113.5'): EndpointRequest => ({
  method: 'POST',
  path: '/oauth/token',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  remoteAddress,
  body,
});
const pipeline = (key: string, remoteAddress = '203.0.113.5'): AuthRequest => ({ method: 'GET', path: '/docs', headers: { 'x-api-key': key }, remoteAddress });
const json = (res: { body: string | Buffer }) => JSON.parse(String(res.body)) as Record<string, unknown>;

async function setup(options: KeywardOptions = { authFailures: { max: 3, window: '1m', block: '2m' } }) {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, ...options, tokens: { signing: SIGNING } });
  const events: KeywardEvent[] = [];
  kw.on('*', (e) => { events.push(e); });
  const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
  const { key } = created;
  const id = created.record.id;
  const wrong = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
  const endpoint = kw.tokens.endpoint();
  const good = (remoteAddress?: string) => endpoint(form('grant_type=client_credentials', { authorization: basic(id, key) }, remoteAddress));
  const bad = (remoteAddress?: string) => endpoint(form('grant_type=client_credentials', { authorization: basic(id, wrong) }, remoteAddress));
  return { kw, clock, events, key, id, wrong, endpoint, good, bad };
}

describe('token endpoint: failed-auth blocking', () => {
  it('exchanges sent at once: max answers invalid_client, the rest temporarily_unavailable, the right secret last among them too', async () => {
    const { kw, events, good, bad } = await setup();
    // All in flight together: each passes the block check before any is counted; the right secret comes last.
    const answers = await Promise.all([...Array.from({ length: 6 }, () => bad()), good()]);
    expect(answers.map((r) => [r.status, json(r).error])).toEqual([
      ...Array(3).fill([401, 'invalid_client']),
      ...Array(4).fill([429, 'temporarily_unavailable']),
    ]);
    expect(answers[6]!.headers['Retry-After']).toBe('120');
    await kw.flushEvents();
    expect(events.filter((e) => e.type === 'auth.blocked')).toHaveLength(1);
    // as in the pipeline: a guess answered by the block is an access.denied, not an auth.failed
    expect(events.filter((e) => e.type === 'auth.failed')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'access.denied').map((e) => e.reason)).toEqual(Array(4).fill('AUTH_BLOCKED'));
  });

  it('blocks an address after max bad client secrets, before any credential work, at the endpoint and in the pipeline, then lets it go', async () => {
    const { kw, clock, key, wrong, good, bad } = await setup();
    for (let i = 0; i < 3; i++) {
      const res = await bad();
      expect([res.status, json(res).error]).toEqual([401, 'invalid_client']);
    }
    const lookup = jest.spyOn(kw.keys, 'lookup');
    const wellFormed = jest.spyOn(kw.keys, 'isWellFormed');
    const blocked = await good();
    expect(blocked.status).toBe(429);
    expect(json(blocked)).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many failed authentication attempts from this address; try again later.' });
    expect(blocked.headers).toMatchObject({ 'Retry-After': '120', 'Cache-Control': 'no-store', 'Content-Type': 'application/json' });
    expect(blocked.headers['WWW-Authenticate']).toBeUndefined();
    expect(String(blocked.body)).not.toContain(key);
    expect(String(blocked.body)).not.toContain(wrong);
    expect(lookup).not.toHaveBeenCalled();
    expect(wellFormed).not.toHaveBeenCalled();
    // the pipeline refuses the same address, even with the valid key; another address is not affected
    const d = (await kw.check(pipeline(key))) as DenyDecision;
    expect([d.status, d.code, d.headers['Retry-After']]).toEqual([429, 'AUTH_BLOCKED', '120']);
    expect((await good('203.0.113.6')).status).toBe(200);
    clock.advance(119_000);
    expect((await good()).headers['Retry-After']).toBe('1');
    clock.advance(1000);
    expect((await good()).status).toBe(200);
    expect((await kw.check(pipeline(key))).ok).toBe(true);
    await kw.close();
  });

  it('adds up failures at the endpoint and in the pipeline, in either order', async () => {
    const a = await setup();
    await a.kw.check(pipeline('kw_live_bogus1'));
    await a.kw.check(pipeline(a.wrong));
    expect((await a.bad()).status).toBe(401);
    expect((await a.good()).status).toBe(429);
    await a.kw.close();

    const b = await setup();
    await b.bad();
    await b.bad();
    expect(((await b.kw.check(pipeline('kw_live_bogus1'))) as DenyDecision).code).toBe('CREDENTIALS_INVALID');
    expect(((await b.kw.check(pipeline(b.key))) as DenyDecision).code).toBe('AUTH_BLOCKED');
    expect((await b.good()).status).toBe(429);
    await b.kw.close();
  });

  it('counts every invalid_client for a wrong or unknown credential: unknown key, another key id, garbage Basic, mismatched client_id', async () => {
    const { kw, endpoint, id, key } = await setup({ authFailures: { max: 4 } });
    const other = await kw.keys.create({ owner: 'x', scopes: ['docs:read'] });
    const failures = [
      form(`grant_type=client_credentials&client_id=${id}&client_secret=kw_live_not-a-key`),
      form('grant_type=client_credentials', { authorization: basic(other.record.id, key) }),
      form('grant_type=client_credentials', { authorization: 'Basic !!!' }),
      form(`grant_type=client_credentials&client_id=${other.record.id}`, { authorization: basic(id, key) }),
    ];
    for (const request of failures) expect(json(await endpoint(request)).error).toBe('invalid_client');
    expect((await endpoint(form('grant_type=client_credentials', { authorization: basic(id, key) }))).status).toBe(429);
    await kw.close();
  });

  it('does not count malformed requests, a missing client authentication or invalid_scope', async () => {
    const { kw, endpoint, id, key, good } = await setup({ authFailures: { max: 2 } });
    const auth = { authorization: basic(id, key) };
    const requests: Array<[EndpointRequest, string]> = [
      [{ method: 'GET', path: '/oauth/token', headers: {}, remoteAddress: '203.0.113.5' }, 'invalid_request'],
      [{ ...form('{}'), headers: { 'content-type': 'application/json' } }, 'invalid_request'],
      [form('scope=docs%3Aread', auth), 'invalid_request'],
      [form('grant_type=password&username=u&password=p', auth), 'unsupported_grant_type'],
      [form(`grant_type=client_credentials&client_secret=${key}`, auth), 'invalid_request'],
      [form('grant_type=client_credentials&client_secret=x'), 'invalid_request'],
      [form('grant_type=client_credentials&scope=docs%3Awrite', auth), 'invalid_scope'],
      [form('grant_type=client_credentials&scope=bad%20%22', auth), 'invalid_scope'],
      [form('grant_type=client_credentials'), 'invalid_client'],
    ];
    for (let round = 0; round < 2; round++) for (const [request, error] of requests) expect(json(await endpoint(request)).error).toBe(error);
    expect((await good()).status).toBe(200);
    expect((await kw.check(pipeline(key))).ok).toBe(true);
    await kw.close();
  });

  it('resolves the client address as the pipeline does, trusted proxies applied', async () => {
    const { kw, endpoint, id, wrong, key } = await setup({ trustProxy: 'loopback', authFailures: { max: 2 } });
    const via = (client: string, secret: string) => endpoint(form('grant_type=client_credentials', { authorization: basic(id, secret), 'x-forwarded-for': client }, '127.0.0.1'));
    await via('198.51.100.7', wrong);
    await via('198.51.100.7', wrong);
    expect((await via('198.51.100.7', key)).status).toBe(429);
    expect((await via('198.51.100.8', key)).status).toBe(200);
    const d = (await kw.check({ ...pipeline(key, '127.0.0.1'), headers: { 'x-api-key': key, 'x-forwarded-for': '198.51.100.7' } })) as DenyDecision;
    expect(d.code).toBe('AUTH_BLOCKED');
    await kw.close();
  });

  it('emits auth.failed with the client address and a request id, access.denied when blocked, and never a secret', async () => {
    const { kw, events, key, wrong, endpoint, id, good } = await setup({ authFailures: { max: 2 }, requestIdHeader: 'X-Correlation-Id' });
    await endpoint(form('grant_type=client_credentials', { authorization: basic(id, wrong), 'x-correlation-id': 'req-1', 'user-agent': 'probe/1.0' }));
    await endpoint(form('grant_type=client_credentials', { authorization: basic(id, wrong) }));
    await good();
    await kw.flushEvents();
    const failed = events.filter((e) => e.type === 'auth.failed');
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ type: 'auth.failed', requestId: 'req-1', clientAddress: '203.0.113.5', userAgent: 'probe/1.0', method: 'POST', path: '/oauth/token', status: 401, reason: 'CREDENTIALS_INVALID', data: { endpoint: 'token' } });
    expect(failed[1]!.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const blocked = events.filter((e) => e.type === 'auth.blocked');
    expect(blocked).toEqual([expect.objectContaining({ requestId: failed[1]!.requestId, clientAddress: '203.0.113.5', reason: 'AUTH_FAILURES', data: expect.objectContaining({ failures: 2, blockSeconds: 900 }) })]);
    expect(events.filter((e) => e.type === 'access.denied')).toEqual([expect.objectContaining({ status: 429, reason: 'AUTH_BLOCKED', clientAddress: '203.0.113.5', requestId: expect.any(String), data: { endpoint: 'token' } })]);
    const text = JSON.stringify(events);
    expect(text).not.toContain(key);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(basic(id, wrong).slice(6));
    await kw.close();
  });

  it('keeps counting and blocking in memory when the authFailures store fails, as the pipeline does', async () => {
    const down = { increment: () => Promise.reject(new Error('down')), get: () => Promise.reject(new Error('down')) };
    const { kw, events, good, bad } = await setup({ authFailures: { max: 2, store: down } });
    expect((await bad()).status).toBe(401);
    expect((await bad()).status).toBe(401);
    expect((await good()).status).toBe(429);
    await kw.flushEvents();
    expect(events.some((e) => e.type === 'store.error' && e.data?.['component'] === 'authFailures')).toBe(true);
    await kw.close();
  });

  it('without authFailures, never blocks, and its events still name the address and request', async () => {
    const { kw, events, good, bad } = await setup({});
    for (let i = 0; i < 20; i++) expect((await bad()).status).toBe(401);
    expect((await good()).status).toBe(200);
    await kw.flushEvents();
    expect(events.filter((e) => e.type === 'auth.failed')).toHaveLength(20);
    expect(events.find((e) => e.type === 'auth.failed')).toMatchObject({ clientAddress: '203.0.113.5', requestId: expect.any(String) });
    await kw.close();
  });
});
