/**
 * Rate limits, plans, quotas, failed-auth blocking and load shedding, identical for every adapter: same status,
 * headers and body. Time is an injected manual clock: keyward computes every window and period from its own clock
 * (fixed windows aligned to the epoch, calendar periods through Intl), so moving the clock resets windows and
 * refills quotas without waiting.
 */
import http from 'node:http';
import request from 'supertest';
import { connect } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { createKeyward, manualClock, type Keyward, type KeywardOptions, type LimiterStore } from '@keyward/core';
import { ADAPTERS, answerOf, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const QUOTA_TYPE = 'https://iana.org/assignments/http-problem-types#quota-exceeded';
/** A 429 or 503 of the pipeline: problem+json, `no-store`, no challenge, `headers` (Retry-After, RateLimit) and the problem body. */
function refusal(status: number, headers: Record<string, string>, body: Record<string, unknown>) {
  return { status, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers }, body };
}
const SIGNING = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };

describe.each(ADAPTERS)('conformance: limits on $name', (adapter) => {
  const running: Array<{ kw: Keyward; app: RunningApp }> = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.app.close();
      await r.kw.close();
    }
  });

  async function start(options: KeywardOptions) {
    const clock = manualClock(T0);
    const kw = createKeyward(onStores({ clock, publicPaths: ['/health'], ...options }));
    const app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES, ...(options.tokens ? { endpoints: [{ method: 'POST' as const, path: '/oauth/token', handler: kw.tokens.endpoint() }] } : {}) });
    running.push({ kw, app });
    const key = async (input: { plan?: string; limits?: Record<string, unknown> } = {}) => (await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], ...(input as object) })).key;
    const get = (path: string, k?: string) => (k ? request(app.url).get(path).set('X-API-Key', k) : request(app.url).get(path));
    return { kw, app, clock, key, get };
  }

  /** An app that exchanges keys for tokens at `/oauth/token`, a key of `acme`, and GET with the key or a token. */
  async function startWithTokens(limits: NonNullable<KeywardOptions['limits']>, input: { plan?: string; limits?: Record<string, unknown> } = {}) {
    const s = await start({ limits, tokens: { signing: SIGNING } });
    const created = await s.kw.keys.create({ owner: 'acme', scopes: ['docs:read'], ...(input as object) });
    const exchange = async (): Promise<string> => {
      const res = await request(s.app.url).post('/oauth/token').type('form').auth(created.record.id, created.key).send('grant_type=client_credentials');
      expect(res.status).toBe(200);
      return res.body.access_token;
    };
    const withToken = (path: string, token: string) => request(s.app.url).get(path).set('Authorization', `Bearer ${token}`);
    return { ...s, key: created.key, keyId: created.record.id, exchange, withToken };
  }

  it('N allowed with RateLimit headers, then 429 RATE_LIMITED with Retry-After; reset after the window', async () => {
    const { key, get, clock } = await start({ limits: { rules: { burst: { points: 3, window: '10s' } } } });
    const k = await key();
    const ok = [];
    for (let i = 0; i < 3; i++) {
      const res = await get('/open', k);
      ok.push([res.status, res.headers['ratelimit-policy'], res.headers['ratelimit']]);
    }
    expect(ok).toEqual([
      [200, '"burst";q=3;w=10', '"burst";r=2;t=10'],
      [200, '"burst";q=3;w=10', '"burst";r=1;t=10'],
      [200, '"burst";q=3;w=10', '"burst";r=0;t=10'],
    ]);
    const res = await get('/open', k);
    expect(answerOf(res)).toEqual(refusal(429, { 'retry-after': '10', 'ratelimit-policy': '"burst";q=3;w=10', ratelimit: '"burst";r=0;t=10' },
      { type: 'urn:keyward:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'Rate limit exceeded: burst.', code: 'RATE_LIMITED', 'violated-policies': ['burst'] }));
    clock.advance(10_000);
    const again = await get('/open', k);
    expect(answerOf(again)).toEqual({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'ratelimit-policy': '"burst";q=3;w=10', ratelimit: '"burst";r=2;t=10' }, body: { ok: true, principal: expect.objectContaining({ owner: 'acme' }) } });
  });

  it('weighted cost per route', async () => {
    const { key, get } = await start({ limits: { rules: { burst: { points: 7, window: '1m' } } } });
    const k = await key();
    expect((await get('/heavy', k)).headers['ratelimit']).toBe('"burst";r=2;t=60');
    expect((await get('/heavy', k)).status).toBe(429);
    expect((await get('/open', k)).headers['ratelimit']).toBe('"burst";r=1;t=60');
  });

  it('a request that can never pass (a cost above the points, a limit of 0) gets no Retry-After and a detail saying so', async () => {
    const { key, get, clock } = await start({ limits: { rules: { burst: { points: 3, window: '1m' }, daily: { points: 100, window: '1d' } }, quotas: { month: { requests: 50, period: 'month' } }, headers: 'both' } });
    const k = await key();
    const heavy = await get('/heavy', k); // costs 5
    expect(heavy.status).toBe(429);
    expect(heavy.headers['retry-after']).toBeUndefined();
    expect(heavy.headers['ratelimit']).toBe('"burst";r=3;t=60, "daily";r=100;t=50400');
    expect([heavy.headers['x-ratelimit-limit'], heavy.headers['x-ratelimit-remaining']]).toEqual(['3', '3']);
    expect(heavy.body).toEqual({
      type: 'urn:keyward:problem:rate-limited', title: 'Too many requests', status: 429, code: 'RATE_LIMITED', 'violated-policies': ['burst'],
      detail: 'Rate limit exceeded: burst. This request costs 5, more than "burst" allows in a window (3): it can never pass.',
    });
    clock.advance(60_000);
    expect((await get('/heavy', k)).status).toBe(429); // nor in the next window
    expect((await get('/open', k)).status).toBe(200);

    const closed = await start({ limits: { rules: { burst: { points: 3, window: '1m' } }, plans: { frozen: { quotas: { month: { requests: 0, period: 'month' } }, limits: { burst: { points: 0, window: '1m' } } } } } });
    const frozen = await closed.key({ plan: 'frozen' });
    const none = await closed.get('/open', frozen);
    expect([none.status, none.headers['retry-after'], none.body.code, none.body['violated-policies']]).toEqual([429, undefined, 'RATE_LIMITED', ['burst']]);
    expect(none.body.detail).toBe('Rate limit exceeded: burst. "burst" allows no request: it can never pass.');
    // A request that can pass later still gets Retry-After, beside one that never can on another route.
    const open = await closed.key();
    for (let i = 0; i < 3; i++) expect((await closed.get('/open', open)).status).toBe(200);
    const later = await closed.get('/open', open);
    expect([later.status, later.headers['retry-after'], later.body.detail]).toEqual([429, '60', 'Rate limit exceeded: burst.']);
  });

  it('two limits at once: the tighter one is reported (legacy headers) and refuses', async () => {
    const { key, get } = await start({ limits: { rules: { burst: { points: 5, window: '10s' }, daily: { points: 2, window: '1d' } }, headers: 'both' } });
    const k = await key();
    const first = await get('/open', k);
    expect(first.headers['ratelimit']).toBe('"burst";r=4;t=10, "daily";r=1;t=50400');
    expect([first.headers['x-ratelimit-limit'], first.headers['x-ratelimit-remaining'], first.headers['x-ratelimit-reset']]).toEqual(['2', '1', String((T0 + 50_400_000) / 1000)]);
    await get('/open', k);
    const res = await get('/open', k);
    expect(answerOf(res)).toEqual(refusal(429, {
      'retry-after': '50400',
      'ratelimit-policy': '"burst";q=5;w=10, "daily";q=2;w=86400',
      ratelimit: '"burst";r=3;t=10, "daily";r=0;t=50400',
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String((T0 + 50_400_000) / 1000),
    }, { type: 'urn:keyward:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'Rate limit exceeded: daily.', code: 'RATE_LIMITED', 'violated-policies': ['daily'] }));
  });

  it('plan tiers and a per-key override', async () => {
    const { key, get } = await start({
      limits: { plans: { free: { limits: { burst: { points: 1, window: '1m' } } }, pro: { limits: { burst: { points: 3, window: '1m' } } } }, defaultPlan: 'free' },
    });
    const count = async (k: string) => {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await get('/open', k)).status);
      return statuses.filter((s) => s === 200).length;
    };
    expect(await count(await key({ plan: 'free' }))).toBe(1);
    expect(await count(await key())).toBe(1);
    expect(await count(await key({ plan: 'pro' }))).toBe(3);
    expect(await count(await key({ plan: 'pro', limits: { burst: { points: 4 } } }))).toBe(4);
    const k = await key({ plan: 'pro', limits: { burst: { points: 2 } } });
    expect((await get('/open', k)).headers['ratelimit-policy']).toBe('"burst";q=2;w=60');
    await get('/open', k);
    const tiers = await get('/open', k);
    expect(answerOf(tiers)).toEqual(refusal(429, { 'retry-after': '60', 'ratelimit-policy': '"burst";q=2;w=60', ratelimit: '"burst";r=0;t=60' },
      { type: 'urn:keyward:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'Rate limit exceeded: burst.', code: 'RATE_LIMITED', 'violated-policies': ['burst'] }));
  });

  it('a key and the tokens exchanged from it share one quota of N, exactly, and one rate limit', async () => {
    const { get, key, exchange, withToken } = await startWithTokens({ rules: { burst: { points: 12, window: '1m' } }, quotas: { daily: { requests: 5, period: 'day' } } });
    const [t1, t2] = [await exchange(), await exchange()]; // each exchange is one of the key's requests: 2 of 12, 2 of 5
    const answers = [];
    for (const send of [() => get('/open', key), () => withToken('/open', t1), () => withToken('/docs', t2), () => get('/open', key), () => withToken('/open', t1), () => withToken('/open', t2)]) {
      const res = await send();
      answers.push([res.status, res.headers['ratelimit'], res.body.code]);
    }
    expect(answers).toEqual([
      [200, '"burst";r=9;t=60, "daily";r=2;t=50400', undefined],
      [200, '"burst";r=8;t=60, "daily";r=1;t=50400', undefined],
      [200, '"burst";r=7;t=60, "daily";r=0;t=50400', undefined],
      [429, '"burst";r=7;t=60, "daily";r=0;t=50400', 'QUOTA_EXCEEDED'],
      [429, '"burst";r=7;t=60, "daily";r=0;t=50400', 'QUOTA_EXCEEDED'],
      [429, '"burst";r=7;t=60, "daily";r=0;t=50400', 'QUOTA_EXCEEDED'],
    ]);
  });

  it("a key's per-key override and plan apply to its exchanged token, and a change reaches the live token", async () => {
    const { kw, get, key, keyId, exchange, withToken, clock } = await startWithTokens(
      { rules: { burst: { points: 3, window: '1m' } }, plans: { pro: { limits: { burst: { points: 5, window: '1m' } } } } },
      { limits: { burst: { points: 1 } } },
    );
    const token = await exchange();
    clock.advance(60_000); // the exchange was the key's one request of its minute
    const statuses = [];
    for (const send of [() => get('/open', key), () => get('/open', key), () => withToken('/open', token), () => withToken('/open', token)]) statuses.push((await send()).status);
    expect(statuses).toEqual([200, 429, 429, 429]);
    const refused = await withToken('/open', token);
    expect([refused.headers['ratelimit-policy'], refused.headers['retry-after'], refused.body.code]).toEqual(['"burst";q=1;w=60', '60', 'RATE_LIMITED']);
    clock.advance(60_000);
    await kw.keys.update(keyId, { plan: 'pro', limits: null });
    const pro = await withToken('/open', token);
    expect([pro.status, pro.headers['ratelimit-policy'], pro.headers['ratelimit']]).toEqual([200, '"burst";q=5;w=60', '"burst";r=4;t=60']);
    expect((await get('/open', key)).headers['ratelimit']).toBe('"burst";r=3;t=60');
  });

  it('the token endpoint is charged to the key: N exchanges and key requests in one bucket, then 429 temporarily_unavailable with Retry-After and RateLimit headers', async () => {
    const { app, get, key, keyId, exchange, clock } = await startWithTokens({ rules: { burst: { points: 5, window: '10s' } } }, { limits: { burst: { points: 3 } } }); // the key's override applies
    const post = () => request(app.url).post('/oauth/token').type('form').auth(keyId, key).send('grant_type=client_credentials');
    const first = await post();
    expect([first.status, first.headers['ratelimit-policy'], first.headers['ratelimit'], first.headers['cache-control']]).toEqual([200, '"burst";q=3;w=10', '"burst";r=2;t=10', 'no-store']);
    expect((await get('/open', key)).headers['ratelimit']).toBe('"burst";r=1;t=10');
    await exchange();
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect([refused.headers['retry-after'], refused.headers['ratelimit-policy'], refused.headers['ratelimit'], refused.headers['cache-control']]).toEqual(['10', '"burst";q=3;w=10', '"burst";r=0;t=10', 'no-store']);
    expect(refused.headers['www-authenticate']).toBeUndefined();
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Rate limit exceeded: burst.' });
    expect(JSON.stringify(refused.headers) + refused.text).not.toContain(key);
    expect((await get('/open', key)).status).toBe(429);
    clock.advance(10_000);
    expect((await post()).headers['ratelimit']).toBe('"burst";r=2;t=10');
  });

  it('request quota: exhaustion, 429 QUOTA_EXCEEDED with the IANA problem type, refill at the period start', async () => {
    const { key, get, clock } = await start({ limits: { quotas: { monthly: { requests: 2, period: 'month', day: 1, timeZone: 'Europe/Paris' } } } });
    const k = await key();
    expect((await get('/open', k)).status).toBe(200);
    expect((await get('/open', k)).status).toBe(200);
    const res = await get('/open', k);
    const reset = Date.parse('2026-03-31T22:00:00Z');
    const left = String((reset - T0) / 1000);
    const march = String((reset - Date.parse('2026-02-28T23:00:00Z')) / 1000); // March 1st to April 1st, midnight in Paris
    expect(answerOf(res)).toEqual(refusal(429, { 'retry-after': left, 'ratelimit-policy': `"monthly";q=2;w=${march}`, ratelimit: `"monthly";r=0;t=${left}` },
      { type: QUOTA_TYPE, title: 'Quota exceeded', status: 429, detail: 'Quota exceeded: monthly.', code: 'QUOTA_EXCEEDED', 'violated-policies': ['monthly'] }));
    clock.set(reset);
    const refilled = await get('/open', k);
    expect([refilled.status, refilled.headers['ratelimit']]).toEqual([200, '"monthly";r=1;t=2592000']);
  });

  it('byte quota counted from the finished response', async () => {
    const { app, key, get } = await start({ limits: { quotas: { egress: { bytes: 1000, period: 'day' } } } });
    const k = await key();
    // The bytes of a finished response are charged after it (a store round trip on Redis): a HEAD, which writes no
    // body and so charges nothing, shows when they are counted.
    const counted = async (remaining: number) => {
      let seen: string | undefined;
      for (let i = 0; i < 200 && seen !== `"egress";r=${remaining};t=50400`; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 5));
        seen = (await request(app.url).head('/open').set('X-API-Key', k)).headers['ratelimit'];
      }
      expect(seen).toBe(`"egress";r=${remaining};t=50400`);
    };
    const a = await get('/open?size=600', k);
    expect([a.status, a.headers['ratelimit-policy'], a.headers['ratelimit']]).toEqual([200, '"egress";q=1000;qu="content-bytes";w=86400', '"egress";r=1000;t=50400']);
    await counted(400);
    const b = await get('/open?size=600', k);
    expect([b.status, b.headers['ratelimit']]).toEqual([200, '"egress";r=400;t=50400']);
    await counted(0);
    const c = await get('/open', k);
    expect(answerOf(c)).toEqual(refusal(429, { 'retry-after': '50400', 'ratelimit-policy': '"egress";q=1000;qu="content-bytes";w=86400', ratelimit: '"egress";r=0;t=50400' },
      { type: QUOTA_TYPE, title: 'Quota exceeded', status: 429, detail: 'Quota exceeded: egress.', code: 'QUOTA_EXCEEDED', 'violated-policies': ['egress'] }));
  });

  it('byte quota: a response its client cut short counts the bytes the app had written', async () => {
    const { kw, app, key, get } = await start({ limits: { quotas: { egress: { bytes: 100_000_000, period: 'day' } } } });
    const k = await key();
    const completed = new Promise<void>((resolve) => kw.on('request.completed', () => resolve()));
    // 5 MB written at once; the client reads the first chunk and leaves: no `finish`, only the connection's `close`.
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${app.url}/open?size=5000000`, { headers: { 'x-api-key': k } }, (res) => res.once('data', () => { req.destroy(); resolve(); }));
      req.on('error', (e) => { if (!req.destroyed) reject(e); });
    });
    await completed;
    const next = await get('/open', k);
    expect([next.status, next.headers['ratelimit']]).toEqual([200, '"egress";r=95000000;t=50400']);
  });

  it('failed-auth block: 429 AUTH_BLOCKED before any credential work, even for a valid key', async () => {
    const { kw, key, get } = await start({ authFailures: { max: 3, window: '1m', block: '2m' } });
    const k = await key();
    for (let i = 0; i < 3; i++) expect((await get('/open', `kw_live_bogus${i}`)).status).toBe(401);
    const spy = jest.spyOn(kw.config.store, 'findByHash');
    const res = await get('/open', k);
    // The block is reported as its own policy (q = max, w = window, r = 0, t = what is left of the block).
    expect(answerOf(res)).toEqual(refusal(429, { 'retry-after': '120', 'ratelimit-policy': '"auth-failures";q=3;w=60', ratelimit: '"auth-failures";r=0;t=120' },
      { type: 'urn:keyward:problem:auth-blocked', title: 'Too many failed authentication attempts', status: 429, detail: 'Too many failed authentication attempts from this address; try again later.', code: 'AUTH_BLOCKED' }));
    expect(spy).not.toHaveBeenCalled();
  });

  it('failed-auth block: guesses sent at once (pipelined on one connection) get max answers, the rest 429 AUTH_BLOCKED', async () => {
    const { app } = await start({ authFailures: { max: 3, window: '1m', block: '2m' } });
    const bogus = createKeyward({ clock: manualClock(T0) }); // keys of the right shape that this instance does not know
    const guesses = await Promise.all(Array.from({ length: 12 }, async () => (await bogus.keys.create({ owner: 'x' })).key));
    await bogus.close();
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(app.url).port) });
    let text = '';
    socket.on('data', (d) => { text += d.toString('latin1'); });
    await new Promise((r) => socket.once('connect', r));
    // Every request in one write: each passes the block check before any of them is counted, and each guess was
    // answered (401 or 200) however many came before it.
    socket.write(guesses.map((k) => `GET /open HTTP/1.1\r\nHost: x\r\nX-API-Key: ${k}\r\n\r\n`).join(''));
    const statuses = () => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    for (let i = 0; i < 200 && statuses().length < 12; i++) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    expect(statuses()).toEqual([...Array(3).fill(401), ...Array(9).fill(429)]);
    expect(text.match(/"code":"AUTH_BLOCKED"/g)).toHaveLength(9);
  });

  it('failed-auth block: the block is its own RateLimit policy (q = max, w = window, r = 0, t = the time left of the block)', async () => {
    const { key, get, clock } = await start({ authFailures: { max: 3, window: '1m', block: '2m' }, limits: { rules: { burst: { points: 100, window: '10s' } } } });
    const k = await key();
    // Six bad keys at once: several reach `max` together, and still start one block, counting down.
    const bogus = await Promise.all(Array.from({ length: 6 }, (_, i) => get('/open', `kw_live_bogus${i}`)));
    expect(bogus.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    const res = await get('/open', k);
    expect([res.status, res.body.code, res.headers['retry-after']]).toEqual([429, 'AUTH_BLOCKED', '120']);
    expect([res.headers['ratelimit-policy'], res.headers['ratelimit']]).toEqual(['"auth-failures";q=3;w=60', '"auth-failures";r=0;t=120']);
    expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    clock.advance(60_000);
    expect((await get('/open', k)).headers['ratelimit']).toBe('"auth-failures";r=0;t=60');
    clock.advance(59_500);
    const late = await get('/open', k);
    expect([late.status, late.headers['retry-after'], late.headers['ratelimit']]).toEqual([429, '1', '"auth-failures";r=0;t=1']);
    clock.advance(500);
    expect((await get('/open', k)).headers['ratelimit']).toBe('"burst";r=99;t=10');
  });

  it('failed-auth block: RateLimit headers follow limits.headers (legacy, both, false) and are on by default', async () => {
    const blocked = async (limits: KeywardOptions['limits']) => {
      const { key, get } = await start({ authFailures: { max: 2, window: '5m', block: '30s' }, ...(limits ? { limits } : {}) });
      const k = await key();
      for (let i = 0; i < 2; i++) await get('/open', `kw_live_bogus${i}`);
      const res = await get('/open', k);
      expect([res.status, res.body.code, res.headers['retry-after']]).toEqual([429, 'AUTH_BLOCKED', '30']);
      const h = res.headers;
      return [h['ratelimit-policy'], h['ratelimit'], h['x-ratelimit-limit'], h['x-ratelimit-remaining'], h['x-ratelimit-reset']];
    };
    const reset = String(T0 / 1000 + 30);
    expect(await blocked(undefined)).toEqual(['"auth-failures";q=2;w=300', '"auth-failures";r=0;t=30', undefined, undefined, undefined]);
    expect(await blocked({ headers: 'legacy' })).toEqual([undefined, undefined, '2', '0', reset]);
    expect(await blocked({ headers: 'both' })).toEqual(['"auth-failures";q=2;w=300', '"auth-failures";r=0;t=30', '2', '0', reset]);
    expect(await blocked({ headers: false })).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('overload shedding: 503 OVERLOADED with Retry-After, lowest plan first, recovering by itself', async () => {
    let load = 0;
    const { key, get } = await start({ loadShedding: { maxEventLoopDelay: 50, planPriority: ['free', 'pro'], retryAfter: '2s', signal: () => load } });
    const free = await key({ plan: 'free' });
    const pro = await key({ plan: 'pro' });
    load = 80;
    const shed = await get('/open', free);
    const overloaded = refusal(503, { 'retry-after': '2' }, { type: 'urn:keyward:problem:overloaded', title: 'Service overloaded', status: 503, detail: 'The service is overloaded; try again shortly.', code: 'OVERLOADED' });
    expect(answerOf(shed)).toEqual(overloaded);
    expect((await get('/open', pro)).status).toBe(200);
    load = 120;
    expect(answerOf(await get('/open', pro))).toEqual(overloaded);
    load = 10;
    expect((await get('/open', free)).status).toBe(200);
  });

  it('store failure policy deny: 503 STORE_UNAVAILABLE with Retry-After', async () => {
    const store: LimiterStore = { increment: () => Promise.reject(new Error('down')), get: () => Promise.reject(new Error('down')) };
    const { key, get } = await start({ limits: { store, rules: { burst: { points: 5, window: '1m' } } } });
    const res = await get('/open', await key());
    expect(answerOf(res)).toEqual(refusal(503, { 'retry-after': '1' },
      { type: 'urn:keyward:problem:store-unavailable', title: 'Service temporarily unavailable', status: 503, detail: 'Rate limits cannot be checked right now.', code: 'STORE_UNAVAILABLE' }));
  });

  it('concurrency is exact: 200 parallel requests against a limit of 50 yield exactly 50 successes', async () => {
    const { key, app } = await start({ limits: { rules: { burst: { points: 50, window: '1m' } } } });
    const k = await key();
    const agent = request(app.url);
    const statuses = await Promise.all(Array.from({ length: 200 }, () => agent.get('/open').set('X-API-Key', k).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 429)).toHaveLength(150);
  });
});
