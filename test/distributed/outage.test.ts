/**
 * Redis outages, against a real redis-server on a spare port that the test kills, pauses and restarts:
 * - the rate-limit store failure policy is honoured (deny → 503, allow → 200, local → counted in memory);
 * - no request waits past the configured timeouts (no offline queue; keyward's store timeouts while Redis hangs),
 *   measured per request: the timeout plus a small margin and this process's own event-loop stalls, whatever the
 *   client's own command timeout;
 * - the process never crashes, and service returns by itself within 1 s of Redis answering again;
 * - keys held in PostgreSQL keep authenticating while Redis is down, and the invalidation channel drops the whole
 *   cache when it reconnects;
 * - the audit stream buffers while Redis is away, flushes when it returns, and reports overflow.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import Redis from 'ioredis';
import { createKeyward, EVENT_SCHEMA, type Keyward, type KeywardEvent } from '@keyward/core';
import { boundedRedisOptions, createAuditStream, RedisInvalidationChannel, RedisKeyStore, RedisRevocationStore } from '@keyward/redis';
import { PostgresKeyStore } from '@keyward/postgres';
import { expressAdapter } from '../conformance/adapters/express';
import { DEFAULT_ROUTES, type RunningApp } from '../conformance/harness';
import { pgSchema, redisLimits, uniqueName } from '../stores/support';
import { eventually, startTestRedis, type TestRedis } from './redis-server';

const RESPONSE_TIMEOUT = 2000; // a hang guard for the HTTP client only: the assertions use the bounds below
const RETURN_WITHIN = 1000; // the issue's bound for service to return after Redis answers again
const STORE_TIMEOUT = 250; // `limits.storeTimeout` and `storeTimeout` of the instances below
const MARGIN = 250; // an HTTP round trip through supertest and timer slack, on a busy 2-core machine
const WITHIN = STORE_TIMEOUT + MARGIN; // the longest any request may take while Redis is away or silent

/**
 * This process's event-loop stalls (GC pauses, time descheduled while the other test files run on a 2-core machine):
 * time no code here ran, so not time keyward waited. Every duration bound below is {@link within}: `WITHIN` plus the
 * longest stall seen during the test, at most 1 s — still far below the client's 2 s hang guard and the 10 s a
 * client's own command timeout would let a request wait.
 */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const within = (): number => WITHIN + Math.min(1000, loopDelay.max / 1e6);
beforeEach(() => loopDelay.reset());

/** The outage tests start their own redis-server; without the binary they are skipped (the reason is printed). */
const HAS_REDIS_SERVER = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
const suite = HAS_REDIS_SERVER ? describe : describe.skip;
if (!HAS_REDIS_SERVER) console.warn('keyward: Redis outage tests skipped: no redis-server binary to start and kill');

const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);

let redis: TestRedis;
const clients: Redis[] = [];

/** A bounded client; `commandTimeoutMs` 10 s makes one that would wait that long for a silent Redis. */
function client(commandTimeoutMs = 200): Redis {
  const c = new Redis(redis.url, { ...boundedRedisOptions({ commandTimeoutMs }), lazyConnect: true });
  c.on('error', () => {}); // connection errors are expected here; an app would log them
  clients.push(c);
  return c;
}

async function connected(commandTimeoutMs?: number): Promise<Redis> {
  const c = client(commandTimeoutMs);
  await c.connect();
  return c;
}

async function ensureUp(): Promise<void> {
  try {
    const probe = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    await probe.connect();
    probe.disconnect();
  } catch {
    await redis.start();
  }
}

/**
 * Sends `requests()` while Redis is paused (connected, silent), and resumes it even when a request fails: the rest of
 * the suite needs Redis. Returns the answers and how long they took (ms).
 */
async function whilePaused<T>(requests: () => Promise<T>): Promise<{ answers: T; took: number }> {
  redis.pause();
  const started = performance.now();
  try {
    const answers = await requests();
    return { answers, took: performance.now() - started };
  } finally {
    redis.resume();
  }
}

/** One request, timed (ms). */
async function timed(url: string, key: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await request(url).get('/docs').set('X-API-Key', key).timeout({ response: RESPONSE_TIMEOUT });
  return { status: res.status, ms: performance.now() - started };
}

/** Requests in `concurrency` loops until `stop()`; collects statuses, durations (ms) and failures. */
function load(url: string, key: string, concurrency = 8) {
  const statuses: number[] = [];
  const durations: number[] = [];
  const failures: string[] = [];
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const { status, ms } = await timed(url, key);
        statuses.push(status);
        durations.push(ms);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  });
  return {
    statuses,
    durations,
    failures,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  loopDelay.enable();
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
  if (HAS_REDIS_SERVER) redis = await startTestRedis();
});
afterAll(async () => {
  loopDelay.disable();
  for (const c of clients) c.disconnect();
  await redis?.stop();
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
});

suite.each(['deny', 'allow', 'local'] as const)('rate limits on Redis, storeFailure "%s"', (policy) => {
  let kw: Keyward;
  let app: RunningApp;
  let key: string;
  const rlPrefix = uniqueName('kwtest_outage_rl');

  beforeAll(async () => {
    await ensureUp();
    // "allow" warns once that limits go unenforced while the store is down: expected here, not printed.
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    kw = createKeyward({ limits: { rules: { burst: { points: 1_000_000, window: '1m' } }, store: redisLimits(await connected(), rlPrefix), storeFailure: policy, storeTimeout: STORE_TIMEOUT } });
    expect(warn.mock.calls.map(([, o]) => (o as { code: string }).code)).toEqual(policy === 'allow' ? ['KEYWARD_LIMITS_FAIL_OPEN'] : []);
    warn.mockRestore();
    app = await expressAdapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    key = (await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] })).key;
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  it('killed under load: answers follow the policy, none hangs, service returns within 1 s of Redis coming back', async () => {
    const traffic = load(app.url, key);
    await settle(150);
    // Counted before the kill: a request answered while the kill is under way already meets the dead store.
    const beforeKill = traffic.statuses.length;
    await redis.kill();
    await eventually(async () => traffic.statuses.length >= beforeKill + 48 || traffic.failures.length > 0, 20_000);
    const duringOutage = traffic.statuses.slice(beforeKill);
    await redis.start();
    const admin = await connected();
    const took = await eventually(async () => {
      const res = await request(app.url).get('/docs').set('X-API-Key', key).timeout({ response: RESPONSE_TIMEOUT });
      return res.status === 200 && (await admin.scan('0', 'MATCH', `${rlPrefix}*`, 'COUNT', 1000))[1].length > 0;
    }, RETURN_WITHIN);
    await traffic.stop();

    expect(traffic.failures).toEqual([]);
    expect(traffic.statuses.slice(0, beforeKill).every((s) => s === 200)).toBe(true);
    const expected = policy === 'deny' ? 503 : 200;
    // Requests in flight at the kill may still get either answer; the later ones (sent after it) all get the policy's.
    expect(duringOutage.every((s) => s === 200 || s === expected)).toBe(true);
    expect(new Set(duringOutage.slice(-24))).toEqual(new Set([expected]));
    expect(Math.max(...traffic.durations)).toBeLessThan(within());
    expect(took).toBeLessThanOrEqual(RETURN_WITHIN);
    expect(crashes).toEqual([]);
  });

  it('Redis paused (connected, silent): every request ends within the store timeout with the policy answer', async () => {
    const traffic = load(app.url, key, 4);
    redis.pause();
    await settle(600);
    redis.resume();
    await settle(300);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(Math.max(...traffic.durations)).toBeLessThan(within()); // the client (200 ms) or the limiter (250 ms) gives up first
    const seen = new Set(traffic.statuses);
    expect([...seen].every((s) => s === 200 || (policy === 'deny' && s === 503))).toBe(true);
    if (policy === 'deny') expect(seen.has(503)).toBe(true);
    expect((await request(app.url).get('/docs').set('X-API-Key', key)).status).toBe(200);
  });
});

suite('storeFailure "local": counts in memory while Redis is away', () => {
  it('five allowed, then 429, then Redis counts again when it is back', async () => {
    await ensureUp();
    const rl = await connected();
    const kw = createKeyward({ limits: { rules: { burst: { points: 5, window: '1m' } }, store: redisLimits(rl, uniqueName('kwtest_local')), storeFailure: 'local' } });
    const app = await expressAdapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    const { key } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await redis.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await request(app.url).get('/docs').set('X-API-Key', key).timeout({ response: RESPONSE_TIMEOUT })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    await redis.start();
    await eventually(async () => rl.status === 'ready', RETURN_WITHIN);
    expect((await request(app.url).get('/docs').set('X-API-Key', key)).status).toBe(200);
    await app.close();
    await kw.close();
  });
});

suite('failed-auth counters in Redis', () => {
  it('Redis hanging: each store call gives up after limits.storeTimeout, failures are counted and the block kept in memory, and it holds once Redis answers', async () => {
    await ensureUp();
    // A client that would wait 10 s for a silent Redis: the bound must come from keyward's limits.storeTimeout.
    const c = await connected(10_000);
    const timeout = 100;
    const events: KeywardEvent[] = [];
    const kw = createKeyward({ authFailures: { max: 2, window: '1m', block: '1m', store: redisLimits(c, uniqueName('kwtest_outage_af')) }, limits: { storeTimeout: timeout } });
    kw.on('store.error', (e) => { events.push(e); });
    const app = await expressAdapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    const { key } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const wrong = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    expect((await timed(app.url, key)).status).toBe(200);
    const { answers } = await whilePaused(async () => [await timed(app.url, key), await timed(app.url, wrong), await timed(app.url, wrong), await timed(app.url, key)]);
    expect(answers.map((a) => a.status)).toEqual([200, 401, 401, 429]);
    // A failure waits for three store calls (the block check, the count, the block), an allowed request for one.
    for (const a of answers) expect(a.ms).toBeLessThan(3 * timeout + (within() - STORE_TIMEOUT));
    await kw.flushEvents();
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(2); // at most one a second, not one per store call
    expect((await timed(app.url, key)).status).toBe(429); // the block written in memory still holds
    await app.close();
    await kw.close();
    expect(crashes).toEqual([]);
  });
});

suite('keys in Redis', () => {
  it('Redis hanging: 503 STORE_UNAVAILABLE with Retry-After within storeTimeout, whatever the client waits; 200 again once it answers', async () => {
    await ensureUp();
    // A client that would wait 10 s for a silent Redis: the bound must come from keyward's own storeTimeout.
    const c = await connected(10_000);
    const prefix = uniqueName('kwtest_outage_keys');
    const kw = createKeyward({ store: new RedisKeyStore({ client: c, prefix }), storeTimeout: STORE_TIMEOUT, cache: false });
    const app = await expressAdapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    const { key } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    expect((await request(app.url).get('/docs').set('X-API-Key', key)).status).toBe(200);
    const { answers: res, took } = await whilePaused(() => request(app.url).get('/docs').set('X-API-Key', key).timeout({ response: RESPONSE_TIMEOUT }));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('STORE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('1');
    expect(took).toBeGreaterThanOrEqual(STORE_TIMEOUT - 5);
    expect(took).toBeLessThan(within());
    await eventually(async () => (await request(app.url).get('/docs').set('X-API-Key', key)).status === 200, RETURN_WITHIN);
    await redis.kill();
    const down = await timed(app.url, key);
    expect(down.status).toBe(503);
    expect(down.ms).toBeLessThan(within());
    await app.close();
    await kw.close();
    expect(crashes).toEqual([]);
  });
});

suite('token revocations in Redis', () => {
  it('Redis hanging: a token request gets 503 STORE_UNAVAILABLE within storeTimeout, whatever the client waits; 200 again once it answers', async () => {
    await ensureUp();
    // A client that would wait 10 s for a silent Redis (and auto-pipelines, so a command may also queue behind a batch
    // in flight): the bound must come from keyward's own storeTimeout on the revocation check.
    const c = await connected(10_000);
    const signing = { issuer: 'https://api.example', audience: 'docs', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }] };
    const kw = createKeyward({ storeTimeout: STORE_TIMEOUT, tokens: { signing, revocationStore: new RedisRevocationStore({ client: c, prefix: uniqueName('kwtest_outage_jti') }) } });
    const app = await expressAdapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    const { token } = await kw.tokens.issue({ subject: 'svc', scopes: ['docs:read'] });
    const get = () => request(app.url).get('/docs').set('Authorization', `Bearer ${token}`).timeout({ response: RESPONSE_TIMEOUT });
    expect((await get()).status).toBe(200);
    const { answers, took } = await whilePaused(() => Promise.all([get(), get()])); // the second may queue behind the first's batch
    const [first, second] = answers;
    for (const res of [first, second]) expect([res.status, res.body.code, res.headers['retry-after']]).toEqual([503, 'STORE_UNAVAILABLE', '1']);
    expect(took).toBeGreaterThanOrEqual(STORE_TIMEOUT - 5);
    expect(took).toBeLessThan(within());
    await eventually(async () => (await get()).status === 200, RETURN_WITHIN);
    await app.close();
    await kw.close();
    expect(crashes).toEqual([]);
  });
});

suite('keys in PostgreSQL, limits and invalidation in Redis', () => {
  it('keys keep authenticating while Redis is down; a change missed meanwhile is dropped on reconnect', async () => {
    await ensureUp();
    const db = await pgSchema('outage');
    const store = new PostgresKeyStore({ pool: db.pool, schema: db.schema });
    const channel = uniqueName('kwtest_outage_inv');
    const app1 = createKeyward({
      store,
      cache: { ttl: '1h' },
      invalidation: new RedisInvalidationChannel({ client: await connected(), channel }),
      limits: { rules: { burst: { points: 1000, window: '1m' } }, store: redisLimits(await connected(), uniqueName('kwtest_pg_rl')), storeFailure: 'local' },
    });
    const admin = createKeyward({ store, invalidation: new RedisInvalidationChannel({ client: await connected(), channel }) });
    const errors: KeywardEvent[] = [];
    admin.on('store.error', (e) => { errors.push(e); });
    const app = await expressAdapter.start({ keyward: app1, routes: DEFAULT_ROUTES });
    const a = await admin.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const b = await admin.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const get = (k: string) => request(app.url).get('/docs').set('X-API-Key', k).timeout({ response: RESPONSE_TIMEOUT });
    expect((await get(a.key)).status).toBe(200);

    await redis.kill();
    expect((await get(a.key)).status).toBe(200); // cached
    expect((await get(b.key)).status).toBe(200); // from PostgreSQL
    await admin.keys.revoke(a.record.id, { reason: 'during outage' }); // lands in PostgreSQL; the publish fails
    await admin.flushEvents();
    expect(errors.map((e) => e.reason)).toEqual(['INVALIDATION_PUBLISH_FAILED']);
    expect((await get(a.key)).status).toBe(200); // the documented bound while disconnected: the cache TTL

    await redis.start();
    const took = await eventually(async () => (await get(a.key)).status === 401, RETURN_WITHIN);
    expect(took).toBeLessThanOrEqual(RETURN_WITHIN);
    expect((await get(b.key)).status).toBe(200);
    await app.close();
    await app1.close();
    await admin.close();
    await db.drop();
    expect(crashes).toEqual([]);
  });
});

suite('audit stream', () => {
  const event = (i: number): KeywardEvent => ({ schema: EVENT_SCHEMA, type: 'auth.succeeded', time: new Date(0).toISOString(), requestId: `r${i}` });

  it('buffers while Redis is away, flushes in order when it returns, and reports overflow', async () => {
    await ensureUp();
    const c = await connected();
    const stream = uniqueName('kwtest_audit');
    const drops: number[] = [];
    const sink = createAuditStream({ client: c, stream, maxLen: 1000, bufferSize: 5, retryMs: 50, onDropped: ({ total }) => drops.push(total) });
    sink.listener(event(0));
    await sink.flush();
    expect(sink.written).toBe(1);
    await redis.kill();
    for (let i = 1; i <= 8; i++) sink.listener(event(i));
    await sink.flush();
    expect(sink.buffered).toBe(5);
    expect(sink.dropped).toBe(3);
    expect(drops).toEqual([1, 2, 3]);

    await redis.start();
    await eventually(async () => sink.buffered === 0, 2000);
    const entries = await c.xrange(stream, '-', '+');
    const events = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as KeywardEvent);
    // Redis came back empty (no persistence): what it holds is the drop report and the five kept events, in order.
    expect(events.map((e) => e.type)).toEqual(['audit.dropped', 'auth.succeeded', 'auth.succeeded', 'auth.succeeded', 'auth.succeeded', 'auth.succeeded']);
    expect(events[0]!.data).toEqual({ count: 3, total: 3 });
    expect(events.slice(1).map((e) => e.requestId)).toEqual(['r4', 'r5', 'r6', 'r7', 'r8']);
    await sink.close();
    await c.del(stream);
  });

  it('is bounded with MAXLEN ~', async () => {
    await ensureUp();
    const c = await connected();
    const stream = uniqueName('kwtest_audit_len');
    const sink = createAuditStream({ client: c, stream, maxLen: 100, batchSize: 50 });
    for (let i = 0; i < 1000; i++) sink.listener(event(i));
    await eventually(async () => sink.written === 1000, 5000);
    expect(await c.xlen(stream)).toBeLessThan(300);
    await sink.close();
    await c.del(stream);
  });
});
