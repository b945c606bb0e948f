import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, MemoryKeyStore, type AuthRequest, type InvalidationChannel, type KeyChange, type KeywardOptions } from '../index';

/** An in-process invalidation channel: what one instance publishes, every subscriber hears at once. */
function sharedChannel(): InvalidationChannel {
  const subscribers = new Set<(change: KeyChange) => void>();
  return {
    async publish(change) { for (const s of subscribers) s(change); },
    async subscribe(onChange) { subscribers.add(onChange); return () => void subscribers.delete(onChange); },
  };
}

const signing = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };

async function exchange(kw: ReturnType<typeof createKeyward>, id: string, key: string): Promise<string> {
  const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}` }, remoteAddress: '10.0.0.1', body: 'grant_type=client_credentials' });
  expect(res.status).toBe(200);
  return JSON.parse(String(res.body)).access_token;
}

const bearer = (token: string): AuthRequest => ({ method: 'GET', path: '/docs', query: '', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.0.0.1' });

describe('tokens exchanged for an API key', () => {
  it('stop working on every instance when the key is revoked through one of them', async () => {
    const clock = manualClock(Date.parse('2026-04-01T08:00:00Z'));
    const store = new MemoryKeyStore();
    const invalidation = sharedChannel();
    const options: KeywardOptions = { clock, store, invalidation, tokens: { signing } };
    const a = createKeyward(options);
    const b = createKeyward(options);
    const { key, record } = await a.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const token = await exchange(a, record.id, key);
    for (let i = 0; i < 3; i++) expect(await b.check(bearer(token))).toMatchObject({ ok: true }); // b now holds the key's standing
    await a.keys.revoke(record.id);
    expect(await b.check(bearer(token))).toMatchObject({ ok: false, code: 'TOKEN_INVALID', status: 401 });
    expect(await a.check(bearer(token))).toMatchObject({ ok: false, code: 'TOKEN_INVALID' });
    await a.close();
    await b.close();
  });

  it('are refused with 503 STORE_UNAVAILABLE, not accepted, when the key store cannot answer', async () => {
    const store = new MemoryKeyStore();
    const kw = createKeyward({ store, tokens: { signing }, cache: false });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const token = await exchange(kw, record.id, key);
    expect(await kw.check(bearer(token))).toMatchObject({ ok: true });
    store.get = async () => { throw new Error('store down'); };
    expect(await kw.check(bearer(token))).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE', status: 503 });
    await kw.close();
  });
});
