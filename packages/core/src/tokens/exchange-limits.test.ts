import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, type AuthRequest, type DenyDecision, type EndpointRequest, type KeywardEvent, type KeywardOptions } from '../index';

/** The token endpoint and rate limits: an exchange is a request of its key, charged before the token is signed. */

const T0 = Date.parse('2026-05-01T12:00:00Z');
const ES = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const SIGNING = { issuer: 'https://api.example', audience: 'api', keys: [{ privateKey: ES, kid: 'k' }] };

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (body: string, headers: Record<string, string> = {}): EndpointRequest => ({
  method: 'POST',
  path: '/oauth/token',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  remoteAddress: '203.0.113.5',
  body,
});
const pipeline = (credential: { key?: string; token?: string }): AuthRequest => ({
  method: 'GET',
  path: '/docs',
  headers: credential.key !== undefined ? { 'x-api-key': credential.key } : { authorization: `Bearer ${credential.token}` },
  remoteAddress: '203.0.113.5',
});
const json = (res: { body: string | Buffer }) => JSON.parse(String(res.body)) as Record<string, unknown>;

async function setup(options: KeywardOptions, input: { plan?: string; limits?: Record<string, { points?: number; window?: string }> } = {}) {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, ...options, tokens: { signing: SIGNING } });
  const events: KeywardEvent[] = [];
  kw.on('*', (e) => {
    events.push(e);
  });
  const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'docs:write'], ...input });
  const { key } = created;
  const id = created.record.id;
  const endpoint = kw.tokens.endpoint();
  const exchange = (body = 'grant_type=client_credentials') => endpoint(form(body, { authorization: basic(id, key) }));
  const issued = async () => {
    await kw.flushEvents();
    return events.filter((e) => e.type === 'token.issued').length;
  };
  return { kw, clock, events, key, id, endpoint, exchange, issued };
}

describe('token endpoint: rate limits', () => {
  it('a key whose plan allows no request is refused the exchange with 429 and no Retry-After (not one of 1 s, for ever)', async () => {
    const { kw, exchange, issued } = await setup({ limits: { rules: { burst: { points: 3, window: '10s' } }, plans: { frozen: { limits: { burst: { points: 0, window: '10s' } } } } } }, { plan: 'frozen' });
    const refused = await exchange();
    expect([refused.status, refused.headers['Retry-After']]).toEqual([429, undefined]);
    expect(json(refused)).toEqual({ error: 'temporarily_unavailable', error_description: 'Rate limit exceeded: burst. "burst" allows no request: it can never pass.' });
    expect(await issued()).toBe(0);
    await kw.close();
  });

  it('allows N exchanges with the RateLimit headers, then 429 temporarily_unavailable with Retry-After, before any signature', async () => {
    const { kw, key, exchange, issued, events } = await setup({ limits: { rules: { burst: { points: 3, window: '10s' } } } });
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const res = await exchange();
      expect(res.status).toBe(200);
      expect(res.headers['RateLimit-Policy']).toBe('"burst";q=3;w=10');
      remaining.push(res.headers['RateLimit']);
    }
    expect(remaining).toEqual(['"burst";r=2;t=10', '"burst";r=1;t=10', '"burst";r=0;t=10']);
    expect(await issued()).toBe(3);

    const refused = await exchange();
    expect(refused.status).toBe(429);
    expect(json(refused)).toEqual({ error: 'temporarily_unavailable', error_description: 'Rate limit exceeded: burst.' });
    expect(refused.headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'Retry-After': '10',
      'RateLimit-Policy': '"burst";q=3;w=10',
      RateLimit: '"burst";r=0;t=10',
    });
    expect(String(refused.body)).not.toContain(key);
    expect(JSON.stringify(refused.headers)).not.toContain(key);
    expect(await issued()).toBe(3); // nothing was signed
    expect(events.filter((e) => e.type === 'access.denied')).toEqual([expect.objectContaining({ status: 429, reason: 'RATE_LIMITED', clientAddress: '203.0.113.5', data: { endpoint: 'token' } })]);
    expect(JSON.stringify(events)).not.toContain(key);
    await kw.close();
  });

  it('counts exchanges and the key’s own requests (and its tokens’) in one bucket, in either order', async () => {
    const { kw, key, exchange } = await setup({ limits: { rules: { burst: { points: 4, window: '1m' } } } });
    const token = json(await exchange()).access_token as string;
    expect((await kw.check(pipeline({ key }))).headers['RateLimit']).toBe('"burst";r=2;t=60');
    expect((await kw.check(pipeline({ token }))).headers['RateLimit']).toBe('"burst";r=1;t=60');
    expect((await exchange()).headers['RateLimit']).toBe('"burst";r=0;t=60');
    expect(((await kw.check(pipeline({ key }))) as DenyDecision).code).toBe('RATE_LIMITED');
    expect(((await kw.check(pipeline({ token }))) as DenyDecision).code).toBe('RATE_LIMITED');
    const refused = await exchange();
    expect([refused.status, refused.headers['RateLimit']]).toEqual([429, '"burst";r=0;t=60']);
    await kw.close();
  });

  it('applies the key’s plan and its per-key override', async () => {
    const limits = { rules: { burst: { points: 5, window: '1m' } }, plans: { pro: { limits: { burst: { points: 3, window: '1m' } } } } };
    const count = async (s: Awaited<ReturnType<typeof setup>>) => {
      let ok = 0;
      for (let i = 0; i < 6; i++) if ((await s.exchange()).status === 200) ok++;
      await s.kw.close();
      return ok;
    };
    expect(await count(await setup({ limits }))).toBe(5);
    expect(await count(await setup({ limits }, { plan: 'pro' }))).toBe(3);
    const overridden = await setup({ limits }, { plan: 'pro', limits: { burst: { points: 2 } } });
    expect((await overridden.exchange()).headers['RateLimit-Policy']).toBe('"burst";q=2;w=60');
    expect(await count(overridden)).toBe(1);
  });

  it('charges nothing for a refused exchange, and the next window lets the key exchange again', async () => {
    const { kw, clock, key, exchange } = await setup({ limits: { rules: { burst: { points: 2, window: '10s' } } } });
    await exchange();
    await exchange();
    clock.advance(4000);
    const refused = await exchange();
    expect([refused.status, refused.headers['Retry-After'], refused.headers['RateLimit']]).toEqual([429, '6', '"burst";r=0;t=6']);
    clock.advance(6000);
    const again = await exchange();
    expect([again.status, again.headers['RateLimit']]).toEqual([200, '"burst";r=1;t=10']);
    expect((await kw.check(pipeline({ key }))).headers['RateLimit']).toBe('"burst";r=0;t=10');
    await kw.close();
  });

  it('counts an exchange as one request of a request quota (429 with the quota named), and its response in a byte quota', async () => {
    const q = await setup({ limits: { quotas: { daily: { requests: 2, period: 'day' } } } });
    expect((await q.exchange()).status).toBe(200);
    expect((await q.kw.check(pipeline({ key: q.key }))).headers['RateLimit']).toBe('"daily";r=0;t=43200');
    const refused = await q.exchange();
    expect([refused.status, json(refused), refused.headers['Retry-After']]).toEqual([429, { error: 'temporarily_unavailable', error_description: 'Quota exceeded: daily.' }, '43200']);
    await q.kw.close();

    const b = await setup({ limits: { quotas: { egress: { bytes: 1000, period: 'day' } } } });
    const first = await b.exchange();
    expect(first.headers['RateLimit']).toBe('"egress";r=1000;t=43200');
    const size = Buffer.byteLength(String(first.body));
    expect((await b.kw.check(pipeline({ key: b.key }))).headers['RateLimit']).toBe(`"egress";r=${1000 - size};t=43200`);
    await b.kw.close();
  });

  it('does not charge a failed client authentication or an invalid_scope', async () => {
    const { kw, id, key, endpoint, exchange } = await setup({ limits: { rules: { burst: { points: 1, window: '1m' } } } });
    const wrong = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    expect((await endpoint(form('grant_type=client_credentials', { authorization: basic(id, wrong) }))).status).toBe(401);
    expect(json(await exchange('grant_type=client_credentials&scope=admin')).error).toBe('invalid_scope');
    expect((await exchange()).status).toBe(200);
    expect((await exchange()).status).toBe(429);
    await kw.close();
  });

  it('applies the store-failure policy: deny answers 503 temporarily_unavailable, allow lets the exchange through', async () => {
    const down = { increment: () => Promise.reject(new Error('down')), get: () => Promise.reject(new Error('down')) };
    const denied = await setup({ limits: { store: down, storeFailure: 'deny', rules: { burst: { points: 5, window: '1m' } } } });
    const res = await denied.exchange();
    expect([res.status, res.headers['Retry-After'], res.headers['Cache-Control'], json(res)]).toEqual([503, '1', 'no-store', { error: 'temporarily_unavailable', error_description: 'Rate limits cannot be checked right now.' }]);
    expect(await denied.issued()).toBe(0);
    await denied.kw.close();

    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {}); // "allow" warns once, at start-up
    const allowed = await setup({ limits: { store: down, storeFailure: 'allow', rules: { burst: { points: 5, window: '1m' } } } });
    warn.mockRestore();
    expect((await allowed.exchange()).status).toBe(200);
    await allowed.kw.close();

    const local = await setup({ limits: { store: down, storeFailure: 'local', rules: { burst: { points: 1, window: '1m' } } } });
    expect((await local.exchange()).status).toBe(200);
    expect((await local.exchange()).status).toBe(429);
    await local.kw.close();
  });

  it('without limits, exchanges are not counted and carry no RateLimit headers', async () => {
    const { kw, exchange, issued } = await setup({});
    for (let i = 0; i < 20; i++) {
      const res = await exchange();
      expect(res.status).toBe(200);
      expect(res.headers).toEqual({ 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    }
    expect(await issued()).toBe(20);
    await kw.close();
  });
});
