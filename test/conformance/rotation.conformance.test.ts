/**
 * Key rotation and incident response, identical for every adapter: during the grace period both keys answer 200 and
 * the old one carries `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and `Link: rel="deprecation"`; after it the old
 * key gets 401; revoking an owner kills every key of that owner at once.
 */
import request from 'supertest';
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
    kw = createKeyward(onStores({ clock, publicPaths: ['/health'], keyPolicy: { rotationDocs: DOCS } }));
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
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
