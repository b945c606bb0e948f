import { generateKeyPairSync } from 'node:crypto';
import { geoipCountryLookup } from '@keyward/geo';
import { compileScopes, createKeyward, manualClock, type KeywardEvent } from '../index';
import type { AnomalyFeature } from './feature';

/**
 * NEW_COUNTRY judges the country the pipeline decided with: a trusted proxy's country header when it sent one (as the
 * country restrictions read it), the real geoip-lite data of the client address otherwise.
 */
const T0 = Date.parse('2026-03-01T10:00:00Z');
const countryLookup = geoipCountryLookup({ preload: true });
const GB_ADDRESS = '81.2.69.142'; // GB in geoip-lite's data
const DE_ADDRESS = '193.99.144.80'; // DE

async function setup() {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, trustProxy: 'loopback', countryLookup, countryHeader: 'cf-ipcountry', anomalies: { warmup: '10m', warmupRequests: 20, detect: ['NEW_COUNTRY'] } });
  const events: KeywardEvent[] = [];
  kw.on('*', (e) => void events.push(e));
  // A key that may be used from Germany only: the country rule reads the header through the trusted proxy.
  const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], restrictions: { countries: { allow: ['DE', 'FR'] } } });
  const call = async (address: string, country?: string) => {
    const headers: Record<string, string> = { 'x-api-key': key, 'x-forwarded-for': address, ...(country !== undefined ? { 'cf-ipcountry': country } : {}) };
    const d = await kw.check({ method: 'GET', path: '/docs', headers, remoteAddress: '127.0.0.1' });
    if (d.ok) d.done({ status: 200, bytes: 10 });
    return d;
  };
  const warmUp = async (address: string, country?: string) => {
    for (let minute = 0; minute <= 10; minute++) {
      for (let i = 0; i < 2; i++) expect((await call(address, country)).ok).toBe(true);
      clock.advance(60_000);
    }
  };
  const found = async () => {
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    return events.filter((e) => e.type === 'anomaly.detected').map((e) => [e.reason, e.keyId, e.country, (e.data as { evidence: { knownCountries?: string[] } }).evidence.knownCountries]);
  };
  return { kw, clock, events, key, record, call, warmUp, found };
}

describe("NEW_COUNTRY behind a trusted proxy's country header", () => {
  it('is the country the header gave, as the restrictions used it, not the lookup of the address', async () => {
    const s = await setup();
    // The CDN says DE for an address geoip-lite places in GB (its data and the CDN's disagree): the key is allowed as DE.
    await s.warmUp(GB_ADDRESS, 'DE');
    expect(await s.found()).toEqual([]);
    // The same address, now told FR by the CDN: the restrictions let it through as FR, a country the key never used.
    expect((await s.call(GB_ADDRESS, 'FR')).ok).toBe(true);
    expect(await s.found()).toEqual([['NEW_COUNTRY', s.record.id, 'FR', ['DE']]]);
    // The completed request's event says so too.
    expect(s.events.filter((e) => e.type === 'request.completed').map((e) => e.country).slice(-2)).toEqual(['DE', 'FR']);
    await s.kw.close();
  });

  it('is found for an address the lookup knows nothing of (a private address), when the header gives a country', async () => {
    const s = await setup();
    await s.warmUp('10.1.2.3', 'DE');
    expect((await s.call('10.1.2.3', 'FR')).ok).toBe(true);
    expect(await s.found()).toEqual([['NEW_COUNTRY', s.record.id, 'FR', ['DE']]]);
    await s.kw.close();
  });

  it('falls back to the lookup of the address when the header says nothing (XX: unknown), as the restrictions do', async () => {
    const s = await setup();
    await s.warmUp(DE_ADDRESS, 'XX');
    expect(await s.found()).toEqual([]);
    expect((await s.call(GB_ADDRESS, 'FR')).ok).toBe(true); // FR from the header
    expect(await s.found()).toEqual([['NEW_COUNTRY', s.record.id, 'FR', ['DE']]]);
    await s.kw.close();
  });

  it("never believes the header from a peer that is not a trusted proxy: the client would pick its own country", async () => {
    const s = await setup();
    await s.warmUp(GB_ADDRESS, 'DE'); // through the trusted proxy: DE
    // Straight from a GB address that sends the CDN's header itself: the rules read GB (and refuse), the detector too.
    const d = await s.kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': s.key, 'cf-ipcountry': 'DE' }, remoteAddress: GB_ADDRESS });
    expect(d).toMatchObject({ ok: false, code: 'COUNTRY_FORBIDDEN' });
    expect(await s.found()).toEqual([['NEW_COUNTRY', s.record.id, 'GB', ['DE']]]);
    expect(s.events.filter((e) => e.type === 'access.denied').map((e) => e.country)).toEqual([undefined]);
    await s.kw.close();
  });

  it('counts a refusal for the key by the same country: a revoked key replayed with a header is judged by the header', async () => {
    const s = await setup();
    await s.warmUp(GB_ADDRESS, 'DE');
    await s.kw.keys.revoke(s.record.id);
    expect(await s.call(GB_ADDRESS, 'FR')).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
    expect(await s.found()).toEqual([['NEW_COUNTRY', s.record.id, 'FR', ['DE']]]);
    expect(s.events.filter((e) => e.type === 'auth.failed').map((e) => e.country)).toEqual(['FR']);
    await s.kw.close();
  });
});

describe("NEW_COUNTRY at the token endpoint behind a trusted proxy's country header", () => {
  it("judges a refused exchange of the key by the header's country, as the pipeline's requests", async () => {
    const clock = manualClock(T0);
    const signing = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }] };
    const kw = createKeyward({ clock, trustProxy: 'loopback', countryLookup, countryHeader: 'cf-ipcountry', tokens: { signing }, anomalies: { warmup: '10m', warmupRequests: 20, detect: ['NEW_COUNTRY'] } });
    const events: KeywardEvent[] = [];
    kw.on('*', (e) => void events.push(e));
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    for (let minute = 0; minute <= 10; minute++) {
      for (let i = 0; i < 2; i++) {
        const d = await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key, 'x-forwarded-for': GB_ADDRESS, 'cf-ipcountry': 'DE' }, remoteAddress: '127.0.0.1' });
        if (d.ok) d.done({ status: 200, bytes: 10 });
      }
      clock.advance(60_000);
    }
    await kw.keys.disable(record.id);
    const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': GB_ADDRESS, 'cf-ipcountry': 'FR', authorization: `Basic ${Buffer.from(`${record.id}:${key}`).toString('base64')}` }, remoteAddress: '127.0.0.1', body: 'grant_type=client_credentials' });
    expect(res.status).toBe(401);
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    expect(events.filter((e) => e.type === 'auth.failed').map((e) => [e.keyId, e.country])).toEqual([[record.id, 'FR']]);
    expect(events.filter((e) => e.type === 'anomaly.detected').map((e) => [e.reason, e.keyId, e.country])).toEqual([['NEW_COUNTRY', record.id, 'FR']]);
    await kw.close();
  });
});

describe("NEW_COUNTRY of a route's own scope refusal behind a trusted proxy's country header", () => {
  it("judges the header's country, as the pipeline's events do, not the lookup of the address", async () => {
    const s = await setup();
    await s.warmUp(GB_ADDRESS, 'DE'); // the CDN says DE for an address geoip-lite places in GB
    const d = await s.call(GB_ADDRESS, 'DE');
    if (!d.ok) throw new Error('expected the key to be let through as DE');
    expect(s.kw.authorize(d, compileScopes('admin'))).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    await s.kw.flushEvents();
        expect(s.events.filter((e) => e.type === 'access.denied').map((e) => [e.reason, e.country])).toEqual([['INSUFFICIENT_SCOPE', 'DE']]);
    expect(await s.found()).toEqual([]); // GB was never the key's country: the restrictions let it through as DE
    await s.kw.close();
  });
});
