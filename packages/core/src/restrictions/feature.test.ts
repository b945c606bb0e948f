import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, type Keyward } from '../keyward';
import { manualClock } from '../util/clock';
import type { AuthRequest, Decision } from '../model';
import { validateRestrictions } from './compile';
import type { KeywardEvent } from '../events/schema';

const COUNTRIES: Record<string, string> = { '8.8.8.8': 'US', '81.2.69.142': 'GB', '193.99.144.80': 'DE' };
const lookup = (a: string) => COUNTRIES[a];

function request(key: string, over: Partial<AuthRequest> & { xff?: string } = {}): AuthRequest {
  const { xff, headers, ...rest } = over;
  return { method: 'GET', path: '/v1/docs', remoteAddress: '127.0.0.1', ...rest, headers: { 'x-api-key': key, 'user-agent': 'Mozilla/5.0', ...(xff ? { 'x-forwarded-for': xff } : {}), ...(headers ?? {}) } };
}
const codeOf = (d: Decision) => (d.ok ? 'OK' : d.code);

describe('restrictions in the pipeline', () => {
  const clock = manualClock(Date.parse('2026-01-05T10:00:00Z'));
  let kw: Keyward;
  const events: KeywardEvent[] = [];

  beforeEach(() => {
    kw = createKeyward({ clock, trustProxy: 'loopback', countryLookup: lookup, countryHeader: 'cf-ipcountry' });
    events.length = 0;
    kw.on('access.denied', (e) => void events.push(e));
  });
  afterEach(() => kw.close());

  it('a key\'s restrictions: each part refuses with its code', async () => {
    const { key } = await kw.keys.create({
      owner: 'acme',
      restrictions: {
        ip: { allow: ['203.0.113.0/24', '8.8.8.0/24'], deny: ['203.0.113.66'] },
        referrers: { allow: ['*.acme.example'], allowMissing: true },
        userAgents: { denyBots: true },
        time: { notAfter: '2026-02-01T00:00:00Z' },
        countries: { deny: ['GB'] },
        routes: [{ methods: ['GET'], path: '/v1/docs/**' }],
      },
    });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('OK');
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.66' })))).toBe('IP_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '198.51.100.1' })))).toBe('IP_FORBIDDEN');
    expect(codeOf(await kw.check(request(key)))).toBe('IP_FORBIDDEN'); // the loopback proxy itself
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5', headers: { origin: 'https://acme.example.evil.test' } })))).toBe('REFERRER_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5', headers: { 'user-agent': 'curl/8.5.0' } })))).toBe('USER_AGENT_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5', method: 'POST' })))).toBe('ROUTE_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '8.8.8.8' })))).toBe('OK');
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5', headers: { 'cf-ipcountry': 'GB' } })))).toBe('COUNTRY_FORBIDDEN');
    clock.set(Date.parse('2026-02-01T00:00:00Z'));
    const late = await kw.check(request(key, { xff: '203.0.113.5' }));
    clock.set(Date.parse('2026-01-05T10:00:00Z'));
    expect(late).toMatchObject({ ok: false, code: 'OUTSIDE_TIME_WINDOW', status: 403, problem: { type: 'urn:keyward:problem:outside-time-window', code: 'OUTSIDE_TIME_WINDOW', detail: 'This credential cannot be used at this time.' } });
    await kw.flushEvents();
    expect(events.map((e) => e.reason)).toEqual(['IP_FORBIDDEN', 'IP_FORBIDDEN', 'IP_FORBIDDEN', 'REFERRER_FORBIDDEN', 'USER_AGENT_FORBIDDEN', 'ROUTE_FORBIDDEN', 'COUNTRY_FORBIDDEN', 'OUTSIDE_TIME_WINDOW']);
    expect(events[0]).toMatchObject({ clientAddress: '203.0.113.66', status: 403 });
  });

  it('global policy and key restrictions must both pass; the policy can be replaced at run time', async () => {
    const { key, record } = await kw.keys.create({ owner: 'acme', restrictions: { ip: { allow: ['203.0.113.0/24'] } } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('OK');
    kw.restrictions.setPolicy({ ip: { deny: ['203.0.113.5'] } });
    expect(kw.restrictions.policy).toEqual({ ip: { deny: ['203.0.113.5'] } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('IP_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.6' })))).toBe('OK');
    // an invalid policy is refused and the old one stays
    expect(() => kw.restrictions.setPolicy({ ip: { deny: ['nope'] } })).toThrow('keyward: option "restrictions.ip.deny[0]" must be an IP address');
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('IP_FORBIDDEN');
    kw.restrictions.setPolicy(null);
    expect(kw.restrictions.policy).toBeUndefined();
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('OK');
    // keys.update takes effect on the next request
    await kw.keys.update(record.id, { restrictions: { ip: { allow: ['198.51.100.0/24'] } } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('IP_FORBIDDEN');
    await kw.keys.update(record.id, { restrictions: null });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.5' })))).toBe('OK');
  });

  it('the global policy is checked at start-up and is not the caller\'s object', async () => {
    expect(() => createKeyward({ restrictions: { ip: { allow: ['10.0.0.0/40'] } } })).toThrow('keyward: option "restrictions.ip.allow[0]"');
    expect(() => createKeyward({ restrictions: { ips: [] } as never })).toThrow('keyward: option "restrictions" has an unknown field "ips" (did you mean "ip"? known: ip, referrers, userAgents, time, countries, routes)');
    expect(() => createKeyward({ restrictions: { userAgent: { denyBots: true } } as never })).toThrow('has an unknown field "userAgent" (did you mean "userAgents"?');
    expect(() => createKeyward({ restrictions: { ip: { alow: [] } } as never })).toThrow('keyward: option "restrictions.ip" has an unknown field "alow" (did you mean "allow"? known: allow, deny)');
    expect(() => createKeyward({ restrictions: { countries: { allow: ['US'] } } })).toThrow('option "restrictions.countries" needs the "countryLookup" option');
    expect(() => createKeyward({ countryLookup: 'geo' as never })).toThrow('option "countryLookup" must be a function');
    expect(() => createKeyward({ countryHeader: 'bad header' })).toThrow('option "countryHeader"');
    const policy = { ip: { deny: ['203.0.113.5'] } };
    const other = createKeyward({ trustProxy: 'loopback', restrictions: policy });
    policy.ip.deny.push('203.0.113.6');
    expect(other.restrictions.policy).toEqual({ ip: { deny: ['203.0.113.5'] } });
    const { key } = await other.keys.create({ owner: 'a' });
    expect(codeOf(await other.check(request(key, { xff: '203.0.113.6' })))).toBe('OK');
    await other.close();
  });

  it('the policy read back is the one in force: it cannot be changed through what kw.restrictions.policy returns', async () => {
    const { key } = await kw.keys.create({ owner: 'a' });
    kw.restrictions.setPolicy({ ip: { deny: ['203.0.113.5'] } });
    const read = kw.restrictions.policy as { ip: { deny: string[] } };
    expect(() => read.ip.deny.push('203.0.113.6')).toThrow('not extensible'); // a TypeError of the realm structuredClone made it in
    expect(() => { (read as { ip: unknown }).ip = {}; }).toThrow('read only');
    expect(kw.restrictions.policy).toEqual({ ip: { deny: ['203.0.113.5'] } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.6' })))).toBe('OK');
    // a changed copy is set through setPolicy, as before
    kw.restrictions.setPolicy({ ip: { deny: [...read.ip.deny, '203.0.113.6'] } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.6' })))).toBe('IP_FORBIDDEN');
    const other = createKeyward({ restrictions: { userAgents: { deny: ['bad'] } } });
    expect(Object.isFrozen((other.restrictions.policy as { userAgents: { deny: string[] } }).userAgents.deny)).toBe(true);
    await other.close();
  });

  it('keys.create and keys.update validate restrictions, naming the field', async () => {
    await expect(kw.keys.create({ owner: 'a', restrictions: { ip: { allow: ['127.1'] } } })).rejects.toThrow('keyward: "restrictions.ip.allow[0]" must be an IP address');
    await expect(kw.keys.create({ owner: 'a', restrictions: { referrer: {} } as never })).rejects.toThrow('"restrictions" has an unknown field "referrer" (did you mean "referrers"?');
    const { record } = await kw.keys.create({ owner: 'a' });
    await expect(kw.keys.update(record.id, { restrictions: { time: { windows: [{ from: '25:00', to: '26:00' }] } } })).rejects.toThrow('"restrictions.time.windows[0].from"');
    expect(validateRestrictions({ routes: [{ path: '/a' }] })).toEqual({ routes: [{ path: '/a' }] });
  });

  it('countries: the header is believed only through a trusted proxy; unknown follows allowUnknown', async () => {
    const { key } = await kw.keys.create({ owner: 'a', restrictions: { countries: { allow: ['US'] } } });
    expect(codeOf(await kw.check(request(key, { xff: '8.8.8.8' })))).toBe('OK');
    expect(codeOf(await kw.check(request(key, { xff: '81.2.69.142' })))).toBe('COUNTRY_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '81.2.69.142', headers: { 'cf-ipcountry': 'us' } })))).toBe('OK');
    expect(codeOf(await kw.check(request(key, { remoteAddress: '81.2.69.142', headers: { 'cf-ipcountry': 'US' } })))).toBe('COUNTRY_FORBIDDEN');
    expect(codeOf(await kw.check(request(key, { xff: '10.0.0.1' })))).toBe('COUNTRY_FORBIDDEN'); // unknown, allow-list: refused
    expect(codeOf(await kw.check(request(key, { xff: '10.0.0.1', headers: { 'cf-ipcountry': 'XX' } })))).toBe('COUNTRY_FORBIDDEN');
    const open = await kw.keys.create({ owner: 'a', restrictions: { countries: { deny: ['GB'] } } });
    expect(codeOf(await kw.check(request(open.key, { xff: '10.0.0.1' })))).toBe('OK'); // unknown, deny-list only: allowed
    const strict = await kw.keys.create({ owner: 'a', restrictions: { countries: { deny: ['GB'], allowUnknown: false } } });
    expect(codeOf(await kw.check(request(strict.key, { xff: '10.0.0.1' })))).toBe('COUNTRY_FORBIDDEN');
  });

  it('countries: allowUnknown: false alone refuses an unknown country (it was ignored without a list)', async () => {
    const { key } = await kw.keys.create({ owner: 'a', restrictions: { countries: { allowUnknown: false } } });
    expect(codeOf(await kw.check(request(key, { xff: '8.8.8.8' })))).toBe('OK');
    expect(codeOf(await kw.check(request(key, { xff: '10.0.0.1' })))).toBe('COUNTRY_FORBIDDEN'); // no country
    expect(codeOf(await kw.check(request(key, { xff: 'garbage' })))).toBe('COUNTRY_FORBIDDEN'); // no address
    const open = await kw.keys.create({ owner: 'a', restrictions: { countries: { allowUnknown: true } } });
    expect(codeOf(await kw.check(request(open.key, { xff: '10.0.0.1' })))).toBe('OK');
    // a global one needs a way to know countries, as a list does
    expect(() => createKeyward({ restrictions: { countries: { allowUnknown: false } } })).toThrow('option "restrictions.countries" needs the "countryLookup" option');
    const policy = createKeyward({ trustProxy: 'loopback', countryLookup: lookup, restrictions: { countries: { allowUnknown: false } } });
    const other = await policy.keys.create({ owner: 'a' });
    expect(codeOf(await policy.check(request(other.key, { xff: '10.0.0.1' })))).toBe('COUNTRY_FORBIDDEN');
    expect(codeOf(await policy.check(request(other.key, { xff: '193.99.144.80' })))).toBe('OK');
    await policy.close();
  });

  it('countries: "XX" (unknown) is refused in a list, pointing to allowUnknown (it matched no request)', async () => {
    for (const [countries, field] of [[{ deny: ['GB', 'XX'] }, 'deny[1]'], [{ allow: ['xx'] }, 'allow[0]']] as const) {
      await expect(kw.keys.create({ owner: 'a', restrictions: { countries } })).rejects.toThrow(`keyward: "restrictions.countries.${field}" must be a country: "XX" stands for an unknown country, which "allowUnknown" decides`);
      expect(() => createKeyward({ countryLookup: lookup, restrictions: { countries } })).toThrow(`keyward: option "restrictions.countries.${field}" must be a country`);
    }
  });

  it('countries: "UK" is refused, pointing to "GB" (no lookup answers UK, so deny: ["UK"] refused no one)', async () => {
    await expect(kw.keys.create({ owner: 'a', restrictions: { countries: { deny: ['RU', 'uk'] } } })).rejects.toThrow('keyward: "restrictions.countries.deny[1]" must be a country code: the United Kingdom is "GB" (ISO 3166-1), which lookups and CDNs answer, never "UK"');
    expect(() => createKeyward({ countryLookup: lookup, restrictions: { countries: { allow: ['UK'] } } })).toThrow('keyward: option "restrictions.countries.allow[0]" must be a country code: the United Kingdom is "GB"');
    const gb = await kw.keys.create({ owner: 'a', restrictions: { countries: { deny: ['GB'] } } });
    expect(codeOf(await kw.check(request(gb.key, { xff: '81.2.69.142' })))).toBe('COUNTRY_FORBIDDEN');
  });

  it('a failing country lookup is an unknown country, never an error', async () => {
    const failing = createKeyward({ countryLookup: () => { throw new Error('db gone'); } });
    const { key } = await failing.keys.create({ owner: 'a', restrictions: { countries: { allow: ['US'] } } });
    expect(codeOf(await failing.check(request(key)))).toBe('COUNTRY_FORBIDDEN');
    await failing.close();
  });

  it('an unknown client address is refused by any IP rule', async () => {
    const { key } = await kw.keys.create({ owner: 'a', restrictions: { ip: { deny: ['198.51.100.0/24'] } } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.1' })))).toBe('OK');
    expect(codeOf(await kw.check(request(key, { xff: '0x7f.1' })))).toBe('IP_FORBIDDEN');
  });

  it('stored restrictions that no longer validate fail closed', async () => {
    const uncached = createKeyward({ cache: false, trustProxy: 'loopback' });
    const { key, record } = await uncached.keys.create({ owner: 'a' });
    // written behind the key manager's back, e.g. by an older version or by hand
    await uncached.config.store.update(record.id, { restrictions: { ip: { allow: ['not-an-ip'] } } as never });
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(codeOf(await uncached.check(request(key, { xff: '203.0.113.1' })))).toBe('IP_FORBIDDEN');
      await uncached.config.store.update(record.id, { restrictions: { colour: 'red' } as never });
      expect(codeOf(await uncached.check(request(key, { xff: '203.0.113.1' })))).toBe('ROUTE_FORBIDDEN');
    } finally {
      spy.mockRestore();
      await uncached.close();
    }
  });

  it('keys without restrictions and no policy pass untouched', async () => {
    const { key } = await kw.keys.create({ owner: 'a' });
    expect(codeOf(await kw.check(request(key, { xff: 'garbage', headers: { 'user-agent': 'curl/8' } })))).toBe('OK');
  });
});

describe('restrictions carried by a token', () => {
  const SECRET = 'an-hmac-secret-that-is-long-enough-0123456789';
  const ISS = 'https://auth.example.com/';
  const T = Date.parse('2026-05-01T12:00:00Z');

  async function token(claims: Record<string, unknown>) {
    const { SignJWT } = await import('jose');
    return new SignJWT({ iss: ISS, aud: 'api', sub: 'user-1', ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(Math.floor(T / 1000)).setExpirationTime(Math.floor(T / 1000) + 600).sign(new TextEncoder().encode(SECRET));
  }

  it('are read from the configured metadata claim, both must pass, and invalid ones fail closed', async () => {
    const kw = createKeyward({ clock: manualClock(T), trustProxy: 'loopback', tokens: { issuers: [{ issuer: ISS, audience: 'api', secret: SECRET, algorithms: ['HS256'], claims: { metadata: ['restrictions'] } }] } });
    const check = (jwt: string, xff: string) => kw.check({ method: 'GET', path: '/v1/docs', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${jwt}`, 'x-forwarded-for': xff } });
    const restricted = await token({ restrictions: { ip: { allow: ['203.0.113.0/24'] } } });
    expect(codeOf(await check(restricted, '203.0.113.9'))).toBe('OK');
    expect(codeOf(await check(restricted, '198.51.100.1'))).toBe('IP_FORBIDDEN');
    kw.restrictions.setPolicy({ ip: { deny: ['203.0.113.9'] } });
    expect(codeOf(await check(restricted, '203.0.113.9'))).toBe('IP_FORBIDDEN');
    kw.restrictions.setPolicy(null);
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(codeOf(await check(await token({ restrictions: { ip: { allow: ['nope'] } } }), '203.0.113.9'))).toBe('IP_FORBIDDEN');
      expect(codeOf(await check(await token({ restrictions: 'anything' }), '203.0.113.9'))).toBe('ROUTE_FORBIDDEN');
    } finally {
      spy.mockRestore();
    }
    expect(codeOf(await check(await token({}), '198.51.100.1'))).toBe('OK');
    await kw.close();
  });
});

describe('restrictions of a token exchanged for an API key: the key\'s, as they are now', () => {
  const T = Date.parse('2026-05-01T12:00:00Z');
  const signing = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };

  async function setup() {
    const kw = createKeyward({ clock: manualClock(T), trustProxy: 'loopback', tokens: { signing } });
    const { key, record } = await kw.keys.create({ owner: 'acme', restrictions: { ip: { allow: ['203.0.113.0/24'] } } });
    const exchange = async () => {
      const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${record.id}:${key}`).toString('base64')}`, 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '127.0.0.1', body: 'grant_type=client_credentials' });
      return JSON.parse(String(res.body)).access_token as string;
    };
    const check = (jwt: string, xff: string, path = '/v1/docs') => kw.check({ method: 'GET', path, remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${jwt}`, 'x-forwarded-for': xff } });
    return { kw, key, record, exchange, check };
  }

  it('tightening the key refuses its live token on the next request, like the key itself', async () => {
    const { kw, key, record, exchange, check } = await setup();
    const token = await exchange();
    expect((await kw.tokens.verify(token)) as { claims: object }).toHaveProperty('claims.restrictions', { ip: { allow: ['203.0.113.0/24'] } }); // the snapshot, for other verifiers
    expect(codeOf(await check(token, '203.0.113.9'))).toBe('OK');
    expect(codeOf(await check(token, '198.51.100.1'))).toBe('IP_FORBIDDEN');
    await kw.keys.update(record.id, { restrictions: { ip: { allow: ['203.0.113.0/24'] }, routes: [{ path: '/v1/public/**' }] } });
    expect(codeOf(await kw.check(request(key, { xff: '203.0.113.9' })))).toBe('ROUTE_FORBIDDEN');
    expect(codeOf(await check(token, '203.0.113.9'))).toBe('ROUTE_FORBIDDEN');
    expect(codeOf(await check(token, '203.0.113.9', '/v1/public/a'))).toBe('OK');
    await kw.close();
  });

  it('loosening the key lets its live token through: the snapshot claim is no longer what keyward applies', async () => {
    const { kw, record, exchange, check } = await setup();
    const token = await exchange();
    expect(codeOf(await check(token, '198.51.100.1'))).toBe('IP_FORBIDDEN');
    await kw.keys.update(record.id, { restrictions: { ip: { allow: ['198.51.100.0/24'] } } });
    expect(codeOf(await check(token, '198.51.100.1'))).toBe('OK');
    expect(codeOf(await check(token, '203.0.113.9'))).toBe('IP_FORBIDDEN');
    await kw.keys.update(record.id, { restrictions: null });
    expect(codeOf(await check(token, '192.0.2.1'))).toBe('OK');
    kw.restrictions.setPolicy({ ip: { deny: ['192.0.2.0/24'] } }); // the global policy still applies to it
    expect(codeOf(await check(token, '192.0.2.1'))).toBe('IP_FORBIDDEN');
    await kw.close();
  });

  it('a token this instance issued without client_id keeps its own restrictions claim', async () => {
    const { kw, record, check } = await setup();
    const { token } = await kw.tokens.issue({ subject: record.id, claims: { restrictions: { ip: { allow: ['192.0.2.0/24'] } } } });
    expect(codeOf(await check(token, '192.0.2.1'))).toBe('OK');
    expect(codeOf(await check(token, '203.0.113.9'))).toBe('IP_FORBIDDEN'); // the key's allow-list does not reach it
    await kw.close();
  });
});
