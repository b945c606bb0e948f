/**
 * Access restrictions, identical for every adapter: same status, headers and body. The socket is always loopback,
 * so client addresses arrive through `X-Forwarded-For` from the trusted loopback proxy (app "behind"), or are
 * ignored when no proxy is trusted (app "direct"). Time is an injected manual clock; countries come from the real
 * geoip-lite data through @keyward/geo.
 */
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { createKeyward, manualClock, type Keyward, type KeywardEvent, type KeyRestrictions } from '@keyward/core';
import { geoipCountryLookup } from '@keyward/geo';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const T0 = Date.parse('2026-01-05T10:00:00Z'); // a Monday
const countryLookup = geoipCountryLookup({ preload: true });

function problem(code: string, title: string, detail: string) {
  return { type: `urn:keyward:problem:${code.toLowerCase().replace(/_/g, '-')}`, title, status: 403, detail, code };
}
const IP = problem('IP_FORBIDDEN', 'Client address not allowed', 'Requests from this address are not allowed.');
const REFERRER = problem('REFERRER_FORBIDDEN', 'Referrer not allowed', 'Requests from this origin are not allowed.');
const UA = problem('USER_AGENT_FORBIDDEN', 'User agent not allowed', 'Requests from this user agent are not allowed.');
const TIME = problem('OUTSIDE_TIME_WINDOW', 'Outside the allowed time window', 'This credential cannot be used at this time.');
const COUNTRY = problem('COUNTRY_FORBIDDEN', 'Country not allowed', 'Requests from this country are not allowed.');
const ROUTE = problem('ROUTE_FORBIDDEN', 'Route not allowed for this credential', 'This credential may not call this route.');

describe.each(ADAPTERS)('conformance: access restrictions on $name', (adapter) => {
  const clock = manualClock(T0);
  let behind: { kw: Keyward; app: RunningApp };
  let direct: { kw: Keyward; app: RunningApp };
  const events: KeywardEvent[] = [];

  beforeAll(async () => {
    const common = { clock, publicPaths: ['/health'], countryLookup, countryHeader: 'cf-ipcountry' };
    const kwBehind = createKeyward(onStores({ ...common, trustProxy: 'loopback' }));
    kwBehind.on('access.denied', (e) => void events.push(e));
    behind = { kw: kwBehind, app: await adapter.start({ keyward: kwBehind, routes: DEFAULT_ROUTES }) };
    // Without trustProxy the country header is never believed, and keyward says so once per process.
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const kwDirect = createKeyward(onStores(common));
    for (const [, o] of warn.mock.calls) expect(o).toMatchObject({ code: 'KEYWARD_COUNTRY_HEADER_UNTRUSTED' }); // the only one, if not said already
    warn.mockRestore();
    direct = { kw: kwDirect, app: await adapter.start({ keyward: kwDirect, routes: DEFAULT_ROUTES }) };
  });
  afterAll(async () => {
    for (const s of [behind, direct]) {
      await s.app.close();
      await s.kw.close();
    }
  });
  afterEach(() => clock.set(T0));

  const keyFor = async (kw: Keyward, restrictions: KeyRestrictions, scopes = ['docs:read']) => (await kw.keys.create({ owner: 'acme', scopes, restrictions })).key;
  const get = (app: RunningApp, key: string, headers: Record<string, string> = {}, path = '/docs') => {
    let r = request(app.url).get(path).set('X-API-Key', key);
    for (const [k, v] of Object.entries(headers)) r = r.set(k, v);
    return r;
  };
  const via = (xff: string, more: Record<string, string> = {}) => ({ 'X-Forwarded-For': xff, ...more });

  async function expectDenied(res: request.Response, body: object) {
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual(body);
  }

  it('spoofed X-Forwarded-For without a trusted proxy: ignored, the socket address decides', async () => {
    const key = await keyFor(direct.kw, { ip: { allow: ['203.0.113.0/24'] } });
    await expectDenied(await get(direct.app, key, via('203.0.113.5')), IP);
    await expectDenied(await get(direct.app, key, { Forwarded: 'for=203.0.113.5' }), IP);
    const loop = await keyFor(direct.kw, { ip: { allow: ['loopback'] } });
    expect((await get(direct.app, loop, via('198.51.100.7'))).status).toBe(200);
  });

  it('X-Forwarded-For through the trusted proxy: walked from the right, spoofed left entries never read', async () => {
    events.length = 0;
    const key = await keyFor(behind.kw, { ip: { allow: ['203.0.113.0/24'] } });
    expect((await get(behind.app, key, via('203.0.113.5'))).status).toBe(200);
    // the client sent "X-Forwarded-For: 203.0.113.5"; the proxy appended its real address
    await expectDenied(await get(behind.app, key, via('203.0.113.5, 198.51.100.7')), IP);
    expect((await get(behind.app, key, via('198.51.100.7, 203.0.113.5'))).status).toBe(200);
    // without a forwarded entry the loopback proxy itself is the client
    await expectDenied(await get(behind.app, key), IP);
    await behind.kw.flushEvents();
    expect(events.map((e) => [e.reason, e.clientAddress])).toEqual([['IP_FORBIDDEN', '198.51.100.7'], ['IP_FORBIDDEN', '127.0.0.1']]);
  });

  it("Forwarded (RFC 7239, proxyHeader: 'forwarded') through the trusted proxy: walked from the right, quoted IPv6 with a port, X-Forwarded-For then unread", async () => {
    const kw = createKeyward(onStores({ clock, trustProxy: 'loopback', proxyHeader: 'forwarded' }));
    const app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    try {
      const key = await keyFor(kw, { ip: { allow: ['203.0.113.0/24', '2001:db8::/32'] } });
      expect((await get(app, key, { Forwarded: 'for=203.0.113.5;proto=https' })).status).toBe(200);
      expect((await get(app, key, { Forwarded: 'for="[2001:db8::1]:4711"' })).status).toBe(200);
      expect((await get(app, key, { Forwarded: 'for=198.51.100.7, for=203.0.113.5' })).status).toBe(200);
      // the client wrote the left entry; the proxy appended the real address (in the same field or a second one)
      await expectDenied(await get(app, key, { Forwarded: 'for=203.0.113.5, for=198.51.100.7' }), IP);
      await expectDenied(await (request(app.url).get('/docs').set('X-API-Key', key) as any).set('Forwarded', ['for=203.0.113.5', 'for=198.51.100.7']), IP);
      // the one header the proxies write is read: X-Forwarded-For is the client's, and the loopback proxy is the client
      await expectDenied(await get(app, key, via('203.0.113.5')), IP);
      await expectDenied(await get(app, key, { Forwarded: 'for=unknown' }), IP);
    } finally {
      await app.close();
      await kw.close();
    }
  });

  it('malformed and obfuscated forwarded values never crash and never widen access', async () => {
    const allow = await keyFor(behind.kw, { ip: { allow: ['127.0.0.0/8', '203.0.113.0/24'] } });
    for (const bad of ['0x7f.1', '127.1', '0177.0.0.1', 'unknown', '_hidden', '203.0.113.5 garbage', '[203.0.113.5]', '203.0.113.5, ', 'x'.repeat(9000)]) {
      await expectDenied(await get(behind.app, allow, via(bad)), IP);
    }
    expect((await get(behind.app, allow, via('203.0.113.5:4711'))).status).toBe(200);
    const deny = await keyFor(behind.kw, { ip: { deny: ['127.0.0.0/8'] } });
    await expectDenied(await get(behind.app, deny, via('127.1')), IP);
  });

  it('IPv4-mapped addresses meet IPv4 deny rules; other IPv6 clients do not', async () => {
    const key = await keyFor(behind.kw, { ip: { deny: ['198.51.100.0/24', '2001:db8:bad::/48'] } });
    for (const mapped of ['::ffff:198.51.100.7', '[::ffff:198.51.100.7]:443', '::FFFF:c633:6407', '0:0:0:0:0:ffff:198.51.100.7']) {
      await expectDenied(await get(behind.app, key, via(mapped)), IP);
    }
    expect((await get(behind.app, key, via('2001:db8::1'))).status).toBe(200);
    expect((await get(behind.app, key, via('64:ff9b::c633:6407'))).status).toBe(200); // NAT64 form: an IPv6 client
    await expectDenied(await get(behind.app, key, via('2001:db8:bad::1')), IP);
    expect((await get(behind.app, key, via('198.51.101.1'))).status).toBe(200);
  });

  it('referrer look-alikes are refused; Origin then Referer, parsed as URLs', async () => {
    const key = await keyFor(behind.kw, { referrers: { allow: ['*.example.com', 'https://app.example.org'] } });
    expect((await get(behind.app, key, { Origin: 'https://api.example.com' })).status).toBe(200);
    expect((await get(behind.app, key, { Referer: 'https://app.example.org/page?x=1' })).status).toBe(200);
    const lookAlikes: Array<Record<string, string>> = [
      { Origin: 'https://api.example.com.evil.test' },
      { Origin: 'https://evil-example.com' },
      { Origin: 'https://example.com' },
      { Referer: 'https://api.example.com@evil.test/' },
      { Referer: 'https://evil.test/?https://api.example.com' },
      { Origin: 'http://app.example.org' },
      { Origin: 'null' },
      { Origin: 'https://evil.test', Referer: 'https://api.example.com/' },
      {},
    ];
    for (const headers of lookAlikes) {
      await expectDenied(await get(behind.app, key, headers), REFERRER);
    }
    const lenient = await keyFor(behind.kw, { referrers: { allow: ['example.com'], allowMissing: true } });
    expect((await get(behind.app, lenient)).status).toBe(200);
  });

  it('an 8 KB user agent is matched in full: bots at the end are found, browsers pass', async () => {
    const key = await keyFor(behind.kw, { userAgents: { denyBots: true, require: true } });
    const padding = 'x'.repeat(8192 - 40);
    expect((await get(behind.app, key, { 'User-Agent': `Mozilla/5.0 (X11; Linux) ${padding}`.slice(0, 8192) })).status).toBe(200);
    await expectDenied(await get(behind.app, key, { 'User-Agent': `Mozilla/5.0 ${padding} curl/8.5.0` }), UA);
    await expectDenied(await get(behind.app, key, { 'User-Agent': 'python-requests/2.32.3' }), UA);
    const allow = await keyFor(behind.kw, { userAgents: { allow: ['acme-sdk/*'] } });
    expect((await get(behind.app, allow, { 'User-Agent': 'acme-sdk/1.4.0 (node 20)' })).status).toBe(200);
    await expectDenied(await get(behind.app, allow, { 'User-Agent': `Mozilla/5.0 acme-sdk/1.4.0 ${padding}` }), UA);
  });

  it('a time window boundary with an injected clock: from included, to excluded', async () => {
    const key = await keyFor(behind.kw, { time: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00', timeZone: 'Europe/Berlin' }] } });
    clock.set(Date.parse('2026-01-05T07:59:59Z')); // Mon 08:59:59 CET
    await expectDenied(await get(behind.app, key), TIME);
    clock.set(Date.parse('2026-01-05T08:00:00Z')); // 09:00
    expect((await get(behind.app, key)).status).toBe(200);
    clock.set(Date.parse('2026-01-05T15:59:59Z')); // 16:59:59
    expect((await get(behind.app, key)).status).toBe(200);
    clock.set(Date.parse('2026-01-05T16:00:00Z')); // 17:00
    await expectDenied(await get(behind.app, key), TIME);
    clock.set(Date.parse('2026-01-10T10:00:00Z')); // Saturday
    await expectDenied(await get(behind.app, key), TIME);
  });

  it('a daylight-saving day: the window follows local time (Berlin, 29 March 2026)', async () => {
    const key = await keyFor(behind.kw, { time: { timeZone: 'Europe/Berlin', windows: [{ from: '09:00', to: '10:00' }] } });
    clock.set(Date.parse('2026-03-28T08:30:00Z')); // Sat 09:30 CET (UTC+1)
    expect((await get(behind.app, key)).status).toBe(200);
    clock.set(Date.parse('2026-03-29T07:30:00Z')); // Sun 09:30 CEST (UTC+2); a fixed +1 offset would say 08:30
    expect((await get(behind.app, key)).status).toBe(200);
    clock.set(Date.parse('2026-03-29T08:30:00Z')); // Sun 10:30 CEST; a fixed +1 offset would say 09:30
    await expectDenied(await get(behind.app, key), TIME);
  });

  it('notBefore / notAfter validity', async () => {
    const key = await keyFor(behind.kw, { time: { notBefore: '2026-01-05T12:00:00Z', notAfter: '2026-01-06T00:00:00Z' } });
    await expectDenied(await get(behind.app, key), TIME);
    clock.set(Date.parse('2026-01-05T12:00:00Z'));
    expect((await get(behind.app, key)).status).toBe(200);
    clock.set(Date.parse('2026-01-06T00:00:00Z'));
    await expectDenied(await get(behind.app, key), TIME);
  });

  it('countries with the real geoip-lite data: 8.8.8.8 is US', async () => {
    const key = await keyFor(behind.kw, { countries: { allow: ['US'] } });
    expect((await get(behind.app, key, via('8.8.8.8'))).status).toBe(200);
    expect((await get(behind.app, key, via('2001:4860:4860::8888'))).status).toBe(200);
    await expectDenied(await get(behind.app, key, via('81.2.69.142')), COUNTRY); // GB
    await expectDenied(await get(behind.app, key, via('10.0.0.1')), COUNTRY); // unknown, allow-list set
    const deny = await keyFor(behind.kw, { countries: { deny: ['DE'] } });
    await expectDenied(await get(behind.app, deny, via('193.99.144.80')), COUNTRY);
    expect((await get(behind.app, deny, via('10.0.0.1'))).status).toBe(200); // unknown, deny-list only
  });

  it('a country header is believed from the trusted proxy only', async () => {
    const behindKey = await keyFor(behind.kw, { countries: { allow: ['US'] } });
    expect((await get(behind.app, behindKey, via('81.2.69.142', { 'CF-IPCountry': 'US' }))).status).toBe(200);
    const directKey = await keyFor(direct.kw, { countries: { allow: ['US'] } });
    await expectDenied(await get(direct.app, directKey, { 'CF-IPCountry': 'US' }), COUNTRY);
  });

  it('routes: methods and path patterns per key', async () => {
    const key = await keyFor(behind.kw, { routes: [{ methods: ['GET'], path: '/docs' }] }, ['docs:read', 'docs:write']);
    expect((await get(behind.app, key)).status).toBe(200);
    await expectDenied(await request(behind.app.url).post('/docs').set('X-API-Key', key), ROUTE);
    await expectDenied(await get(behind.app, key, {}, '/open'), ROUTE);
  });

  it('routes: a raw "#" in the request target never matches (every router routes only what is before it)', async () => {
    const key = await keyFor(behind.kw, { routes: [{ methods: ['GET'], path: '/*/extra' }] });
    const raw = (target: string) => new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(behind.app.url);
      const socket = connect(Number(port), hostname, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nConnection: close\r\n\r\n`));
      let answer = '';
      socket.on('data', (c: Buffer) => { answer += c.toString('latin1'); });
      socket.on('error', reject);
      socket.on('close', () => resolve(answer));
    });
    const answer = await raw('/open#/extra'); // '/*/extra' read naively; the framework serves /open
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(answer).toContain('"code":"ROUTE_FORBIDDEN"');
  });

  it("a key's restrictions reach its live exchanged token: tightening refuses it on the next request, loosening lets it through", async () => {
    const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };
    const kw = createKeyward(onStores({ clock, publicPaths: ['/health'], trustProxy: 'loopback', tokens: { signing } }));
    const app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES, endpoints: [{ method: 'POST', path: '/oauth/token', handler: kw.tokens.endpoint() }] });
    try {
      const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], restrictions: { ip: { allow: ['203.0.113.0/24'] } } });
      const exchanged = await request(app.url).post('/oauth/token').type('form').set('X-Forwarded-For', '203.0.113.5').auth(record.id, key).send('grant_type=client_credentials');
      expect(exchanged.status).toBe(200);
      const token: string = exchanged.body.access_token;
      const withToken = (headers: Record<string, string>, path = '/docs') => {
        let r = request(app.url).get(path).set('Authorization', `Bearer ${token}`);
        for (const [k, v] of Object.entries(headers)) r = r.set(k, v);
        return r;
      };
      expect((await withToken(via('203.0.113.5'))).status).toBe(200);
      await expectDenied(await withToken(via('198.51.100.7')), IP);

      // tightening: the key and its live token are refused alike on the next request
      await kw.keys.update(record.id, { restrictions: { ip: { allow: ['203.0.113.0/24'] }, userAgents: { deny: ['bad-client'] } } });
      await expectDenied(await get(app, key, via('203.0.113.5', { 'User-Agent': 'bad-client/2' })), UA);
      await expectDenied(await withToken(via('203.0.113.5', { 'User-Agent': 'bad-client/2' })), UA);
      expect((await withToken(via('203.0.113.5', { 'User-Agent': 'good-client/1' }))).status).toBe(200);
      await kw.keys.update(record.id, { restrictions: { ip: { allow: ['192.0.2.0/24'] } } });
      await expectDenied(await withToken(via('203.0.113.5')), IP);

      // loosening: the snapshot in the token's claim no longer holds it back
      await kw.keys.update(record.id, { restrictions: null });
      expect((await withToken(via('198.51.100.7'))).status).toBe(200);
      expect((await get(app, key, via('198.51.100.7'))).status).toBe(200);
    } finally {
      await app.close();
      await kw.close();
    }
  });

  it('global policy and key restrictions both apply; both change at run time', async () => {
    const { key, record } = await behind.kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    expect((await get(behind.app, key, via('203.0.113.5'))).status).toBe(200);
    behind.kw.restrictions.setPolicy({ ip: { deny: ['203.0.113.0/24'] } });
    try {
      await expectDenied(await get(behind.app, key, via('203.0.113.5')), IP);
      expect((await get(behind.app, key, via('198.51.100.1'))).status).toBe(200);
      await behind.kw.keys.update(record.id, { restrictions: { userAgents: { deny: ['bad-client'] } } });
      await expectDenied(await get(behind.app, key, via('198.51.100.1', { 'User-Agent': 'bad-client/1' })), UA);
    } finally {
      behind.kw.restrictions.setPolicy(null);
    }
    expect((await get(behind.app, key, via('203.0.113.5'))).status).toBe(200);
  });
});
