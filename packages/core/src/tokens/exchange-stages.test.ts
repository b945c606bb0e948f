import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, type AuthRequest, type DenyDecision, type EndpointResponse, type KeyRestrictions, type KeywardEvent, type KeywardOptions } from '../index';

/**
 * The token endpoint and the pipeline's other stages: load shedding, before-auth address limits, and the access
 * restrictions (global policy and the key's own). An exchange is a use of its key: refused where, when and from whom
 * the key may not be used, with nothing signed and nothing charged.
 */

const T0 = Date.parse('2026-01-05T10:00:00Z'); // a Monday
const ES = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const SIGNING = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ES, kid: 'k' }] };
const PROXY = '127.0.0.1'; // the trusted loopback proxy: client addresses arrive in X-Forwarded-For

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const json = (res: EndpointResponse) => JSON.parse(String(res.body)) as Record<string, unknown>;
const from = (client: string): Record<string, string> => ({ 'x-forwarded-for': client });

async function setup(options: KeywardOptions = {}, input: { restrictions?: KeyRestrictions; plan?: string } = {}) {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, trustProxy: 'loopback', ...options, tokens: { signing: SIGNING } });
  const events: KeywardEvent[] = [];
  kw.on('*', (e) => {
    events.push(e);
  });
  const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], ...input });
  const { key } = created;
  const id = created.record.id;
  const endpoint = kw.tokens.endpoint();
  /** An exchange through the trusted proxy, with `headers` added (e.g. the client address in X-Forwarded-For). */
  const exchange = (headers: Record<string, string> = {}, body = 'grant_type=client_credentials'): Promise<EndpointResponse> =>
    endpoint({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, key), ...headers }, remoteAddress: PROXY, body });
  /** An API request of the key through the trusted proxy. */
  const call = (headers: Record<string, string> = {}, path = '/v1/docs'): AuthRequest => ({ method: 'GET', path, headers: { 'x-api-key': key, ...headers }, remoteAddress: PROXY });
  const of = async (type: string) => {
    await kw.flushEvents();
    return events.filter((e) => e.type === type);
  };
  return { kw, clock, events, key, id, endpoint, exchange, call, of };
}

/** The answer to a restriction refusal: 403 `unauthorized_client`, the pipeline's detail, no challenge, no secret. */
function expectRestricted(res: EndpointResponse, description: string, key: string) {
  expect(res.status).toBe(403);
  expect(json(res)).toEqual({ error: 'unauthorized_client', error_description: description });
  expect(res.headers).toEqual({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  expect(String(res.body)).not.toContain(key);
}

describe('token endpoint: access restrictions', () => {
  it("refuses an address the global policy denies, with the pipeline's event, and follows the policy at run time", async () => {
    const { kw, key, id, exchange, call, of } = await setup({ restrictions: { ip: { deny: ['198.51.100.0/24'] } } });
    expectRestricted(await exchange(from('198.51.100.7')), 'Requests from this address are not allowed.', key);
    expect(((await kw.check(call(from('198.51.100.7')))) as DenyDecision).code).toBe('IP_FORBIDDEN');
    expect((await exchange(from('203.0.113.5'))).status).toBe(200);

    const denied = (await of('access.denied')).filter((e) => e.data?.['endpoint'] === 'token');
    expect(denied).toEqual([expect.objectContaining({ status: 403, reason: 'IP_FORBIDDEN', keyId: id, owner: 'acme', clientAddress: '198.51.100.7', method: 'POST', path: '/oauth/token' })]);
    expect(JSON.stringify(await of('access.denied'))).not.toContain(key);
    expect(await of('token.issued')).toHaveLength(1);

    kw.restrictions.setPolicy({ ip: { deny: ['203.0.113.0/24'] } });
    expect((await exchange(from('203.0.113.5'))).status).toBe(403);
    expect((await exchange(from('198.51.100.7'))).status).toBe(200);
    await kw.close();
  });

  it('refuses a key restricted to a range from outside it and exchanges it from inside; the socket decides without a trusted proxy', async () => {
    const { kw, key, exchange, of } = await setup({}, { restrictions: { ip: { allow: ['10.0.0.0/8'] } } });
    expectRestricted(await exchange(from('192.0.2.7')), 'Requests from this address are not allowed.', key);
    expectRestricted(await exchange(), 'Requests from this address are not allowed.', key); // the proxy itself
    const inside = await exchange(from('10.1.2.3'));
    expect([inside.status, json(inside).token_type]).toEqual([200, 'Bearer']);
    expect(await of('token.issued')).toHaveLength(1);
    await kw.close();

    const direct = createKeyward({ clock: manualClock(T0), tokens: { signing: SIGNING } });
    const c = await direct.keys.create({ owner: 'acme', restrictions: { ip: { allow: ['10.0.0.0/8'] } } });
    const spoofed = await direct.tokens.endpoint()({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.record.id, c.key), ...from('10.1.2.3') }, remoteAddress: '192.0.2.7', body: 'grant_type=client_credentials' });
    expect([spoofed.status, json(spoofed).error]).toEqual([403, 'unauthorized_client']);
    await direct.close();
  });

  it('refuses outside the key’s time windows, by the injected clock', async () => {
    const { kw, clock, key, exchange, of } = await setup({}, { restrictions: { time: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] } } });
    expect((await exchange(from('203.0.113.5'))).status).toBe(200);
    clock.set(Date.parse('2026-01-05T17:00:00Z'));
    expectRestricted(await exchange(from('203.0.113.5')), 'This credential cannot be used at this time.', key);
    clock.set(Date.parse('2026-01-10T10:00:00Z')); // a Saturday
    expect((await exchange(from('203.0.113.5'))).status).toBe(403);
    clock.set(Date.parse('2026-01-12T09:00:00Z'));
    expect((await exchange(from('203.0.113.5'))).status).toBe(200);
    expect((await of('access.denied')).map((e) => e.reason)).toEqual(['OUTSIDE_TIME_WINDOW', 'OUTSIDE_TIME_WINDOW']);
    await kw.close();
  });

  it('applies referrer, user-agent and country restrictions, each with its reason', async () => {
    const countries: Record<string, string> = { '81.2.69.142': 'GB', '8.8.8.8': 'US' };
    const { kw, key, exchange, of } = await setup(
      { countryLookup: (a) => countries[a] },
      { restrictions: { referrers: { allow: ['*.acme.example'], allowMissing: true }, userAgents: { denyBots: true }, countries: { deny: ['GB'] } } },
    );
    expectRestricted(await exchange({ ...from('8.8.8.8'), origin: 'https://evil.example' }), 'Requests from this origin are not allowed.', key);
    expectRestricted(await exchange({ ...from('8.8.8.8'), 'user-agent': 'curl/8.5.0' }), 'Requests from this user agent are not allowed.', key);
    expectRestricted(await exchange(from('81.2.69.142')), 'Requests from this country are not allowed.', key);
    expect((await exchange({ ...from('8.8.8.8'), origin: 'https://app.acme.example' })).status).toBe(200);
    expect((await of('access.denied')).map((e) => e.reason)).toEqual(['REFERRER_FORBIDDEN', 'USER_AGENT_FORBIDDEN', 'COUNTRY_FORBIDDEN']);
    await kw.close();
  });

  it('does not apply routes restrictions to the exchange: the token carries them to the API', async () => {
    const { kw, exchange, call } = await setup({ restrictions: { routes: [{ path: '/v1/**' }] } }, { restrictions: { routes: [{ methods: ['GET'], path: '/v1/docs/**' }] } });
    const res = await exchange(from('203.0.113.5'));
    expect(res.status).toBe(200);
    const token = json(res).access_token as string;
    const bearer = (path: string) => ({ ...call(from('203.0.113.5'), path), headers: { authorization: `Bearer ${token}`, ...from('203.0.113.5') } });
    expect((await kw.check(bearer('/v1/docs/a'))).ok).toBe(true);
    expect(((await kw.check(bearer('/v1/users'))) as DenyDecision).code).toBe('ROUTE_FORBIDDEN');
    expect(((await kw.check(bearer('/admin'))) as DenyDecision).code).toBe('ROUTE_FORBIDDEN');
    await kw.close();
  });

  it('refuses a key whose stored restrictions no longer validate, even when the broken part names no field (fails closed)', async () => {
    const { kw, key, id, exchange, of } = await setup({ cache: false });
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      // written behind the key manager's back: an unknown field, which the API refuses as ROUTE_FORBIDDEN
      await kw.config.store.update(id, { restrictions: { ip: { allow: ['10.0.0.0/8'] }, colour: 'red' } as never });
      expectRestricted(await exchange(from('192.0.2.7')), 'This credential may not call this route.', key);
      await kw.config.store.update(id, { restrictions: { ip: { allow: ['not-an-ip'] } } as never });
      expectRestricted(await exchange(from('10.1.2.3')), 'Requests from this address are not allowed.', key);
      expect(await of('token.issued')).toHaveLength(0);
    } finally {
      spy.mockRestore();
      await kw.close();
    }
  });

  it('signs nothing, charges nothing and counts no failed authentication for a refusal; an unknown secret is still invalid_client', async () => {
    const { kw, key, id, endpoint, exchange, call, of } = await setup(
      { authFailures: { max: 1, window: '1m', block: '1m' }, limits: { rules: { burst: { points: 2, window: '1m' } } } },
      { restrictions: { ip: { allow: ['10.0.0.0/8'] } } },
    );
    for (let i = 0; i < 3; i++) expect((await exchange(from('192.0.2.7'))).status).toBe(403);
    expect(await of('token.issued')).toHaveLength(0);
    expect(await of('auth.failed')).toHaveLength(0);
    expect((await kw.check(call(from('10.1.2.3')))).headers['RateLimit']).toBe('"burst";r=1;t=60'); // the key was not charged
    expect((await exchange(from('10.1.2.3'))).status).toBe(200); // and the address was not blocked
    // a wrong secret from a refused address is a failed authentication, not a restriction: the secret is never confirmed
    const wrong = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    const bad = await endpoint({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, wrong), ...from('192.0.2.7') }, remoteAddress: PROXY, body: 'grant_type=client_credentials' });
    expect([bad.status, json(bad).error]).toEqual([401, 'invalid_client']);
    await kw.close();
  });
});

describe('token endpoint: before-auth address limits', () => {
  const limits = { rules: { perAddress: { points: 3, window: '1m', by: 'address' as const, beforeAuth: true }, burst: { points: 10, window: '1m' } } };

  it('counts API requests and exchanges of an address together, in either order, before any credential is read', async () => {
    const a = await setup({ limits });
    for (let i = 0; i < 3; i++) expect((await a.kw.check(a.call(from('203.0.113.5')))).ok).toBe(true);
    const lookup = jest.spyOn(a.kw.keys, 'lookup');
    const refused = await a.exchange(from('203.0.113.5'));
    expect(refused.status).toBe(429);
    expect(json(refused)).toEqual({ error: 'temporarily_unavailable', error_description: 'Rate limit exceeded: perAddress.' });
    expect(refused.headers).toEqual({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Retry-After': '60', 'RateLimit-Policy': '"perAddress";q=3;w=60', RateLimit: '"perAddress";r=0;t=60' });
    expect(lookup).not.toHaveBeenCalled();
    expect((await a.of('access.denied')).filter((e) => e.data?.['endpoint'] === 'token')).toEqual([expect.objectContaining({ status: 429, reason: 'RATE_LIMITED', clientAddress: '203.0.113.5' })]);
    expect(JSON.stringify(a.events)).not.toContain(a.key);
    expect(await a.of('token.issued')).toHaveLength(0);
    expect((await a.exchange(from('203.0.113.6'))).status).toBe(200); // another address has its own bucket
    await a.kw.close();

    const b = await setup({ limits });
    const ok = await b.exchange(from('203.0.113.5'));
    // the response names the address limit and the key's, as an API response does
    expect([ok.status, ok.headers['RateLimit-Policy'], ok.headers['RateLimit']]).toEqual([200, '"perAddress";q=3;w=60, "burst";q=10;w=60', '"perAddress";r=2;t=60, "burst";r=9;t=60']);
    expect((await b.endpoint({ method: 'GET', path: '/oauth/token', headers: from('203.0.113.5'), remoteAddress: PROXY })).status).toBe(405); // reads nothing, counts nothing
    expect((await b.kw.check(b.call(from('203.0.113.5')))).ok).toBe(true);
    expect((await b.kw.check(b.call(from('203.0.113.5')))).ok).toBe(true);
    const d = (await b.kw.check(b.call(from('203.0.113.5')))) as DenyDecision;
    expect([d.code, d.headers['RateLimit']]).toEqual(['RATE_LIMITED', '"perAddress";r=0;t=60']);
    expect((await b.kw.check(b.call(from('10.0.0.1')))).headers['RateLimit']).toBe('"perAddress";r=2;t=60, "burst";r=6;t=60'); // one key bucket: the exchange and three allowed requests
    await b.kw.close();
  });

  it('counts no limit for a request it cannot serve: a CORS preflight or a GET gets 405 and leaves the address bucket alone', async () => {
    const { exchange, endpoint } = await setup({ limits: { rules: { perAddress: { points: 1, window: '1m', by: 'address', beforeAuth: true } } } });
    for (const method of ['OPTIONS', 'GET', 'OPTIONS']) {
      const res = await endpoint({ method, path: '/oauth/token', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', ...from('203.0.113.9') }, remoteAddress: PROXY });
      expect([res.status, res.headers['Allow']]).toEqual([405, 'POST']);
    }
    expect((await exchange(from('203.0.113.9'))).status).toBe(200); // the one point is still there
    expect((await exchange(from('203.0.113.9'))).status).toBe(429);
  });

  it('runs the failed-auth block first, as the pipeline does', async () => {
    const { kw, key, id, endpoint, exchange } = await setup({ limits, authFailures: { max: 1, window: '1m', block: '2m' } });
    const wrong = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    await endpoint({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, wrong), ...from('203.0.113.5') }, remoteAddress: PROXY, body: 'grant_type=client_credentials' });
    for (let i = 0; i < 4; i++) {
      const blocked = await exchange(from('203.0.113.5'));
      expect([blocked.status, blocked.headers['Retry-After'], json(blocked).error_description]).toEqual([429, '120', 'Too many failed authentication attempts from this address; try again later.']);
    }
    await kw.close();
  });
});

describe('token endpoint: load shedding', () => {
  it('sheds exchanges by the key’s plan, as the pipeline sheds its requests: 503 with Retry-After, nothing signed or charged', async () => {
    let load = 0;
    const options: KeywardOptions = { loadShedding: { maxEventLoopDelay: 100, planPriority: ['free', 'pro'], retryAfter: '3s', signal: () => load }, limits: { rules: { burst: { points: 5, window: '1m' } } } };
    const free = await setup(options, { plan: 'free' });
    const proKey = await free.kw.keys.create({ owner: 'big', scopes: ['docs:read'], plan: 'pro' });
    const pro = () => free.endpoint({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(proKey.record.id, proKey.key), ...from('203.0.113.9') }, remoteAddress: PROXY, body: 'grant_type=client_credentials' });
    load = 150;
    const shed = await free.exchange(from('203.0.113.5'));
    expect(shed.status).toBe(503);
    expect(json(shed)).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is overloaded; try again shortly.' });
    expect(shed.headers).toEqual({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Retry-After': '3' });
    expect(String(shed.body)).not.toContain(free.key);
    expect(((await free.kw.check(free.call(from('203.0.113.5')))) as DenyDecision).code).toBe('OVERLOADED');
    expect((await pro()).status).toBe(200); // a higher plan goes on, as its API requests do
    expect((await free.of('access.denied')).filter((e) => e.data?.['endpoint'] === 'token')).toEqual([expect.objectContaining({ status: 503, reason: 'OVERLOADED', keyId: free.id })]);
    expect(await free.of('token.issued')).toHaveLength(1);
    load = 20;
    const again = await free.exchange(from('203.0.113.5'));
    expect([again.status, again.headers['RateLimit']]).toEqual([200, '"burst";r=4;t=60']); // the shed exchange was not charged
    expect(JSON.stringify(free.events)).not.toContain(free.key);
    await free.kw.close();
  });
});

describe('token endpoint: a key whose claims do not fit in a token', () => {
  it('refuses the exchange with 400 unauthorized_client and an access.denied event, not a silent 500', async () => {
    const allow = Array.from({ length: 600 }, (_, i) => `10.${Math.floor(i / 256)}.${i % 256}.0/24`);
    const { kw, key, id, exchange, of } = await setup({}, { restrictions: { ip: { allow } } });
    const res = await exchange(from('10.0.1.7'));
    expect(res.status).toBe(400);
    expect(json(res)).toEqual({ error: 'unauthorized_client', error_description: "The key's claims (its restrictions) are too large to carry in a token." });
    expect(res.headers['Cache-Control']).toBe('no-store');
    const denied = (await of('access.denied')).filter((e) => e.data?.['endpoint'] === 'token');
    expect(denied).toEqual([expect.objectContaining({ status: 400, reason: 'TOKEN_TOO_LARGE', keyId: id, owner: 'acme', clientAddress: '10.0.1.7' })]);
    expect(JSON.stringify(await of('access.denied'))).not.toContain(key);
    expect(await of('token.issued')).toHaveLength(0);
    await kw.close();
  });
});

describe('token endpoint: events redact as the pipeline does', () => {
  it("redacts the query by name (the queryParam option's name too) and the presented client secret from path and user agent", async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {}); // query credentials warn once, at start-up
    const { kw, id, endpoint, of } = await setup({ queryParam: 'access_key' });
    warn.mockRestore();
    const secret = 'not-a-key-shaped-secret-4242';
    const res = await endpoint({ method: 'POST', path: `/oauth/token/${secret}`, query: `api_key=leak1&access_key=leak2&page=2`, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, secret), 'user-agent': `curl/8 (${secret})` }, remoteAddress: PROXY, body: 'grant_type=client_credentials' });
    expect(res.status).toBe(401);
    const [failed] = await of('auth.failed');
    expect(failed).toMatchObject({ path: '/oauth/token/[REDACTED]?api_key=[REDACTED]&access_key=[REDACTED]&page=2', userAgent: 'curl/8 ([REDACTED])' });
    expect(JSON.stringify(await of('auth.failed'))).not.toMatch(/leak1|leak2|not-a-key-shaped/);
    await kw.close();
  });
});
