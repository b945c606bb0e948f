/**
 * Denials and error answers, identical for every adapter: 401, 403 and 400 (a missing, an unknown, a revoked and two
 * different credentials, a missing scope) with their challenge; 429 and 503 with `Retry-After` and `RateLimit` /
 * `RateLimit-Policy` and no `WWW-Authenticate`; each with `no-store` and its problem body; and the headers of an
 * allowed request whose handler fails. The same whether or not the application has its own catch-all error handling
 * (Express error middleware, a Koa middleware catching what `next()` throws, a Nest `@Catch()` filter provided as
 * `APP_FILTER`): a denial never reaches it.
 */
import request from 'supertest';
import { createKeyward, manualClock, type KeywardOptions, type LimiterStore } from '@keyward/core';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const failing: LimiterStore = { increment: () => Promise.reject(new Error('down')), get: () => Promise.reject(new Error('down')) };

/** Each denial: the options that cause it, how many requests with a valid key until it comes, and what it looks like. */
const DENIALS: ReadonlyArray<readonly [string, KeywardOptions, number, number, Record<string, string>, Record<string, unknown>]> = [
  ['RATE_LIMITED', { limits: { rules: { burst: { points: 1, window: '10s' } } } }, 2, 429, { 'retry-after': '10', ratelimit: '"burst";r=0;t=10', 'ratelimit-policy': '"burst";q=1;w=10' },
    { type: 'urn:keyward:problem:rate-limited', title: 'Too many requests', status: 429, detail: 'Rate limit exceeded: burst.', code: 'RATE_LIMITED', 'violated-policies': ['burst'] }],
  ['QUOTA_EXCEEDED', { limits: { quotas: { daily: { requests: 1, period: 'day' } } } }, 2, 429, { 'retry-after': '50400', ratelimit: '"daily";r=0;t=50400', 'ratelimit-policy': '"daily";q=1;w=86400' },
    { type: 'https://iana.org/assignments/http-problem-types#quota-exceeded', title: 'Quota exceeded', status: 429, detail: 'Quota exceeded: daily.', code: 'QUOTA_EXCEEDED', 'violated-policies': ['daily'] }],
  ['AUTH_BLOCKED', { authFailures: { max: 1, window: '1m', block: '2m' } }, 1, 429, { 'retry-after': '120', ratelimit: '"auth-failures";r=0;t=120', 'ratelimit-policy': '"auth-failures";q=1;w=60' },
    { type: 'urn:keyward:problem:auth-blocked', title: 'Too many failed authentication attempts', status: 429, detail: 'Too many failed authentication attempts from this address; try again later.', code: 'AUTH_BLOCKED' }],
  ['OVERLOADED', { loadShedding: { maxEventLoopDelay: 50, retryAfter: '2s', signal: () => 1000 } }, 1, 503, { 'retry-after': '2' },
    { type: 'urn:keyward:problem:overloaded', title: 'Service overloaded', status: 503, detail: 'The service is overloaded; try again shortly.', code: 'OVERLOADED' }],
  ['STORE_UNAVAILABLE', { limits: { store: failing, rules: { burst: { points: 5, window: '1m' } } } }, 1, 503, { 'retry-after': '1' },
    { type: 'urn:keyward:problem:store-unavailable', title: 'Service temporarily unavailable', status: 503, detail: 'Rate limits cannot be checked right now.', code: 'STORE_UNAVAILABLE' }],
];

const KEYWARD_HEADERS = ['retry-after', 'ratelimit', 'ratelimit-policy', 'www-authenticate', 'deprecation', 'sunset'];

const challenge = (error?: string, more = '') => `Bearer realm="keyward"${error ? `, error="${error}"` : ''}${more}`;
const problem = (code: string, title: string, status: number, detail: string) => ({ type: `urn:keyward:problem:${code.toLowerCase().replace(/_/g, '-')}`, title, status, detail, code });

/** Each authentication or scope denial: the request that causes it (given the app and a valid key), and what it looks like. */
const AUTH_DENIALS: ReadonlyArray<readonly [string, (app: RunningApp, key: string, revoked: string) => request.Test, number, Record<string, string>, Record<string, unknown>]> = [
  ['CREDENTIALS_MISSING', (app) => request(app.url).get('/docs'), 401, { 'www-authenticate': challenge() },
    problem('CREDENTIALS_MISSING', 'Credentials missing', 401, 'No credentials were sent.')],
  ['CREDENTIALS_INVALID', (app) => request(app.url).get('/docs').set('X-API-Key', 'kw_live_bogus'), 401, { 'www-authenticate': challenge('invalid_token', ', error_description="Invalid credentials"') },
    problem('CREDENTIALS_INVALID', 'Invalid credentials', 401, 'The credential is not valid.')],
  ['KEY_REVOKED', (app, _key, revoked) => request(app.url).get('/docs').set('X-API-Key', revoked), 401, { 'www-authenticate': challenge('invalid_token', ', error_description="Key revoked"') },
    problem('KEY_REVOKED', 'Key revoked', 401, 'The key has been revoked.')],
  ['CREDENTIALS_AMBIGUOUS', (app, key, other) => request(app.url).get('/docs').set('X-API-Key', key).set('Authorization', `Bearer ${other}`), 400, { 'www-authenticate': challenge('invalid_request') },
    problem('CREDENTIALS_AMBIGUOUS', 'Ambiguous credentials', 400, 'More than one credential was sent.')],
  ['INSUFFICIENT_SCOPE', (app, key) => request(app.url).post('/docs').set('X-API-Key', key), 403, { 'www-authenticate': challenge('insufficient_scope', ', scope="docs:write"') },
    problem('INSUFFICIENT_SCOPE', 'Insufficient scope', 403, 'This request needs: docs:write.')],
];

describe.each(ADAPTERS)('conformance: 400, 401, 403, 429 and 503 answers on $name', (adapter) => {
  const running: RunningApp[] = [];
  const instances: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const app of running.splice(0)) await app.close();
    for (const kw of instances.splice(0)) await kw.close();
  });

  async function start(options: KeywardOptions, userErrorHandler: boolean) {
    const kw = createKeyward(onStores({ clock: manualClock(T0), ...options }));
    instances.push(kw);
    const app = await adapter.start({ keyward: kw, routes: [...DEFAULT_ROUTES, { method: 'GET', path: '/fail', fails: true }], userErrorHandler });
    running.push(app);
    const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    return { kw, app, ...created };
  }

  describe.each([['without', false], ['with', true]] as const)('%s an error handler of the application', (_label, userErrorHandler) => {
    it.each(AUTH_DENIALS)('%s', async (_code, send, status, headers, body) => {
      const { kw, app, key } = await start({}, userErrorHandler);
      const revoked = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
      await kw.keys.revoke(revoked.record.id);
      const res = await send(app, key, revoked.key);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.fromEntries(KEYWARD_HEADERS.filter((h) => res.headers[h] !== undefined).map((h) => [h, res.headers[h]]))).toEqual(headers);
      expect(JSON.parse(res.text)).toEqual(body);
    });

    it.each(DENIALS)('%s', async (code, options, requests, status, headers, body) => {
      const { app, key } = await start(options, userErrorHandler);
      if (code === 'AUTH_BLOCKED') expect((await request(app.url).get('/docs').set('X-API-Key', 'kw_live_bogus')).status).toBe(401);
      let res: request.Response | undefined;
      for (let i = 0; i < requests; i++) res = await request(app.url).get('/docs').set('X-API-Key', key);
      expect(res!.status).toBe(status);
      expect(res!.headers['content-type']).toBe('application/problem+json');
      expect(res!.headers['cache-control']).toBe('no-store');
      expect(Object.fromEntries(KEYWARD_HEADERS.filter((h) => res!.headers[h] !== undefined).map((h) => [h, res!.headers[h]]))).toEqual(headers);
      expect(JSON.parse(res!.text)).toEqual(body);
    });

    it("an allowed request whose handler throws keeps keyward's headers (RateLimit, Deprecation, Sunset) on the 500, and done() reports the 500 and its bytes", async () => {
      const { kw, app, key, record } = await start({ limits: { rules: { burst: { points: 5, window: '10s' } } } }, userErrorHandler);
      const completed: Array<{ status?: number; bytes?: number }> = [];
      kw.on('request.completed', (e) => void completed.push({ status: e.status, bytes: e.bytes }));
      await kw.keys.rotate(record.id, { gracePeriod: '1h' });
      const res = await request(app.url).get('/fail').set('X-API-Key', key);
      for (let i = 0; i < 200 && completed.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 5));
        await kw.flushEvents();
      }
      // the error page is the framework's (or the application's): its bytes, whatever they are, are the ones counted
      expect(completed).toEqual([{ status: 500, bytes: Buffer.byteLength(res.text) }]);
      expect(res.status).toBe(500);
      expect(Object.fromEntries(KEYWARD_HEADERS.filter((h) => res.headers[h] !== undefined).map((h) => [h, res.headers[h]]))).toEqual({
        ratelimit: '"burst";r=4;t=10', 'ratelimit-policy': '"burst";q=5;w=10', deprecation: `@${T0 / 1000}`, sunset: new Date(T0 + 3_600_000).toUTCString(),
      });
      if (userErrorHandler) expect(res.body).toEqual({ error: 'mine' });
    });
  });
});
