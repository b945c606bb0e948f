/**
 * Key rotation and incident response, identical for every adapter: during the grace period both keys answer 200 and
 * the old one carries `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link: rel="deprecation"`; after it the old
 * key gets 401; revoking an owner kills every key of that owner at once. A token exchanged for the old key carries the
 * same deprecation headers as the key.
 */
import request from 'supertest';
import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, type Keyward } from '@keyward/core';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const START = Date.parse('2026-03-01T10:00:00Z');
const HOUR = 3_600_000;
const DOCS = 'https://docs.example.com/keys/rotation';

describe.each(ADAPTERS)('conformance: key rotation on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  const clock = manualClock(START);

  beforeAll(async () => {
    const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };
    kw = createKeyward(onStores({ clock, publicPaths: ['/health'], keyPolicy: { rotationDocs: DOCS }, tokens: { signing } }));
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES, endpoints: [{ method: 'POST', path: '/oauth/token', handler: kw.tokens.endpoint() }] });
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  const get = (key: string) => request(app.url).get('/docs').set('X-API-Key', key);

  it('old and new keys both work during the grace period; only the old one carries the deprecation headers', async () => {
    clock.set(START);
    const old = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    clock.advance(HOUR);
    const rotated = await kw.keys.rotate(old.record.id, { gracePeriod: '24h' });

    const oldRes = await get(old.key);
    expect(oldRes.status).toBe(200);
    expect(oldRes.body).toEqual({ ok: true, principal: { id: old.record.id, owner: 'acme', type: 'key', scopes: ['docs:read'] } });
    expect(oldRes.headers['deprecation']).toBe(`@${(START + HOUR) / 1000}`);
    expect(oldRes.headers['sunset']).toBe('Mon, 02 Mar 2026 11:00:00 GMT');
    expect(oldRes.headers['link']).toBe(`<${DOCS}>; rel="deprecation"; type="text/html"`);

    const newRes = await get(rotated.key);
    expect(newRes.status).toBe(200);
    expect(newRes.body).toEqual({ ok: true, principal: { id: rotated.record.id, owner: 'acme', type: 'key', scopes: ['docs:read'] } });
    expect(newRes.headers['deprecation']).toBeUndefined();
    expect(newRes.headers['sunset']).toBeUndefined();
    expect(newRes.headers['link']).toBeUndefined();

    clock.advance(24 * HOUR - 1);
    expect((await get(old.key)).status).toBe(200);
  });

  it('a token exchanged for the old key carries the same deprecation headers as the key during the grace period', async () => {
    clock.set(START);
    const old = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const exchange = async () => {
      const res = await request(app.url).post('/oauth/token').type('form').auth(old.record.id, old.key).send('grant_type=client_credentials');
      expect(res.status).toBe(200);
      return res.body.access_token as string;
    };
    const withBearer = (token: string) => request(app.url).get('/docs').set('Authorization', `Bearer ${token}`);
    const before = await exchange(); // exchanged before the rotation
    const plain = await withBearer(before);
    expect(plain.status).toBe(200);
    expect(plain.headers['deprecation']).toBeUndefined();

    clock.advance(5 * 60_000); // within the token's 10 minutes
    const rotated = await kw.keys.rotate(old.record.id, { gracePeriod: '24h' });
    const during = await exchange(); // the key in grace still exchanges
    const keyRes = await get(old.key);
    expect(keyRes.status).toBe(200);
    expect(keyRes.headers['deprecation']).toBe(`@${(START + 5 * 60_000) / 1000}`);
    expect(keyRes.headers['sunset']).toBe('Mon, 02 Mar 2026 10:05:00 GMT');
    expect(keyRes.headers['link']).toBe(`<${DOCS}>; rel="deprecation"; type="text/html"`);
    for (const token of [before, during, before]) {
      const res = await withBearer(token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, principal: { id: old.record.id, owner: 'acme', type: 'token', scopes: ['docs:read'] } });
      expect(res.headers['deprecation']).toBe(keyRes.headers['deprecation']);
      expect(res.headers['sunset']).toBe(keyRes.headers['sunset']);
      expect(res.headers['link']).toBe(keyRes.headers['link']);
    }
    expect((await request(app.url).post('/oauth/token').type('form').auth(rotated.record.id, rotated.key).send('grant_type=client_credentials')).status).toBe(200);
  });

  it('the old key gets 401 KEY_REVOKED once the grace period is over; the new one goes on', async () => {
    clock.set(START);
    const old = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const rotated = await kw.keys.rotate(old.record.id, { gracePeriod: '1h' });
    clock.advance(HOUR);
    const res = await get(old.key);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward", error="invalid_token", error_description="Key revoked"');
    expect(res.headers['deprecation']).toBeUndefined();
    expect(res.body).toEqual({ type: 'urn:keyward:problem:key-revoked', title: 'Key revoked', status: 401, detail: 'The key was rotated and its grace period has ended.', code: 'KEY_REVOKED' });
    expect((await get(rotated.key)).status).toBe(200);
  });

  it('a grace period of 0 revokes the old key at once', async () => {
    clock.set(START);
    const old = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const rotated = await kw.keys.rotate(old.record.id, { gracePeriod: 0 });
    expect((await get(old.key)).status).toBe(401);
    expect((await get(rotated.key)).status).toBe(200);
  });

  it('revoke-owner kills every key of the owner, rotated pairs included, and no other', async () => {
    clock.set(START);
    const a = await kw.keys.create({ owner: 'victim', scopes: ['docs:read'] });
    const b = await kw.keys.create({ owner: 'victim', scopes: ['docs:read'] });
    const bNew = await kw.keys.rotate(b.record.id, { gracePeriod: '24h' });
    const bystander = await kw.keys.create({ owner: 'bystander', scopes: ['docs:read'] });
    for (const k of [a.key, b.key, bNew.key, bystander.key]) expect((await get(k)).status).toBe(200);
    const { ids } = await kw.keys.revokeOwner('victim', { reason: 'leaked in a public repository' });
    expect(ids).toHaveLength(3);
    for (const k of [a.key, b.key, bNew.key]) {
      const res = await get(k);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('KEY_REVOKED');
    }
    expect((await get(bystander.key)).status).toBe(200);
  });
});
