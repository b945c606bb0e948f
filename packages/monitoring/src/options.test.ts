/**
 * Unknown option fields of every factory of the package (and of `redact` and `levels` inside them): refused at
 * start-up, before anything subscribes, opens a file, registers a metric or starts a timer.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createKeyward, manualClock, type Keyward, type KeywardEvent } from '@keyward/core';
import { createPrometheusExporter, createRedisMetrics, jsonLinesSink, pinoSink, sanitize, signWebhook, verifyWebhookSignature, webhookSink } from './index';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef';
const EVENT: KeywardEvent = { schema: 'keyward.event/v1', type: 'auth.failed', time: '2026-03-01T10:00:00.000Z', keyId: 'key_1', status: 401, reason: 'KEY_REVOKED' };
const EXTRA = { headers: { 'x-tenant-token': 'tenant-secret-value', accept: 'json' } };

function lines(): { stream: Writable; read: () => string[] } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } }), read: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('monitoring options: an unknown field is a TypeError naming it', () => {
  let kw: Keyward;
  let subscriptions: number;
  /** The instance, counting the subscriptions made to it. */
  let counted: Pick<Keyward, 'on'>;
  beforeEach(() => {
    kw = createKeyward();
    subscriptions = 0;
    counted = { on: (type, listener) => (subscriptions++, kw.on(type, listener)) };
  });
  afterEach(() => kw.close());

  it('webhookSink: refused before subscribing or warning about the secret', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(() => webhookSink({ keyward: counted, url: 'http://127.0.0.1:9/hook', secret: 'short', retrys: 0 } as never)).toThrow('keyward: webhookSink() has an unknown field "retrys" (did you mean "retries"? known: keyward, url, secret, types, maxQueue, retries, minBackoff, maxBackoff, timeout, concurrency, headers, clock, fetch)');
      expect(subscriptions).toBe(0);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    const sink = webhookSink({
      keyward: counted, url: 'http://127.0.0.1:9/hook', secret: SECRET, types: ['key.revoked'], maxQueue: 10, retries: 0, minBackoff: '10ms', maxBackoff: '1s',
      timeout: '1s', concurrency: 1, headers: { 'X-Anything': 'goes' }, clock: Date.now, fetch: globalThis.fetch,
    });
    expect(subscriptions).toBe(1);
    await sink.close();
  });

  it('webhookSink: an extra header fetch would refuse, or one the sink sets (any case), and a zero timeout are refused at start-up', () => {
    const base = { url: 'http://127.0.0.1:9/hook', secret: SECRET };
    expect(() => webhookSink({ ...base, headers: { 'X-Token': 'a\nb' } })).toThrow('keyward: option "headers" has an invalid header name or value for "X-Token"');
    expect(() => webhookSink({ ...base, headers: { 'Bad Name': 'x' } })).toThrow(/invalid header name or value for "Bad Name"/);
    expect(() => webhookSink({ ...base, headers: { 'X-Count': 5 } as never })).toThrow(/string value for "X-Count"/);
    expect(() => webhookSink({ ...base, headers: { 'content-type': 'text/plain' } })).toThrow('keyward: option "headers" cannot set "content-type": the webhook sink sets it');
    expect(() => webhookSink({ ...base, headers: { 'x-keyward-event': 'fake' } })).toThrow(/cannot set "x-keyward-event"/);
    expect(() => webhookSink({ ...base, headers: { 'X-KEYWARD-SIGNATURE': 't=1' } })).toThrow(/cannot set "X-KEYWARD-SIGNATURE"/);
    // valid HTTP, but fetch refuses them (or the body's length never matches): every alert failed, unseen
    for (const name of ['Content-Length', 'transfer-encoding', 'Expect', 'Upgrade', 'Keep-Alive']) {
      expect(() => webhookSink({ ...base, headers: { [name]: '5' } })).toThrow(`keyward: option "headers" cannot set ${JSON.stringify(name)}: fetch sets or refuses it (every alert would fail)`);
    }
    expect(() => webhookSink({ ...base, headers: { Connection: 'upgrade' } })).toThrow('keyward: option "headers" has a "Connection" fetch refuses (close or keep-alive only; every alert would fail)');
    void webhookSink({ ...base, headers: { Connection: 'close' } }).close();
    expect(() => webhookSink({ ...base, timeout: 0 })).toThrow(/"timeout" must be longer than 0/);
    expect(() => webhookSink({ ...base, timeout: '0s' })).toThrow(/"timeout" must be longer than 0/);
  });

  it('webhookSink: a URL holding a user name or password (fetch refuses it: every alert failed unseen) is refused, not shown', () => {
    for (const url of ['http://ops:hook-password-1@127.0.0.1:9/hook', 'https://hook-password-1@ops.example/hook', 'https://:hook-password-1@ops.example/hook']) {
      let message = '';
      try {
        webhookSink({ url, secret: SECRET });
      } catch (error) {
        message = (error as Error).message;
      }
      expect([url, message.startsWith('keyward: option "url" must not hold a user name or password'), message.includes('hook-password-1')]).toEqual([url, true, false]);
    }
  });

  it('verifyWebhookSignature: a misspelt "toleranceSeconds" does not leave the default replay window', () => {
    const body = '{"type":"key.revoked"}';
    const header = signWebhook(SECRET, body, 1_000);
    expect(() => verifyWebhookSignature({ secret: SECRET, header, body, toleranceSecond: 60 } as never)).toThrow('keyward: verifyWebhookSignature() has an unknown field "toleranceSecond" (did you mean "toleranceSeconds"? known: secret, header, body, toleranceSeconds, now)');
    expect(verifyWebhookSignature({ secret: SECRET, header, body, toleranceSeconds: 60, now: 1_030_000 })).toBe(true);
    expect(verifyWebhookSignature({ secret: SECRET, header, body, toleranceSeconds: 60, now: 1_090_000 })).toBe(false);
  });

  it('verifyWebhookSignature: a tolerance or a time that is not a number cannot turn the replay check off', () => {
    const body = '{"type":"key.revoked"}';
    const header = signWebhook(SECRET, body, 1_000);
    // NaN compares false with everything: a year-old delivery would have been accepted.
    for (const toleranceSeconds of [Number.NaN, -1, Infinity, '60' as never]) {
      expect(() => verifyWebhookSignature({ secret: SECRET, header, body, toleranceSeconds, now: 1_000 + 365 * 86_400_000 })).toThrow('keyward: "toleranceSeconds" must be a non-negative number of seconds');
    }
    for (const now of [Number.NaN, Infinity, '1000' as never]) expect(() => verifyWebhookSignature({ secret: SECRET, header, body, now })).toThrow('keyward: "now" must be a time in ms since the epoch');
    expect(() => verifyWebhookSignature({ secret: SECRET, header, body: { type: 'key.revoked' } as never })).toThrow('keyward: "body" must be the raw body, a string or a Buffer');
    expect(verifyWebhookSignature({ secret: SECRET, header, body: Buffer.from(body), now: 1_000_000 })).toBe(true);
    // Hostile headers are refused, never thrown on.
    for (const bad of ['', ',,,', 't=', 'v1=', `t=1000,v1=${'0'.repeat(64)}`, `t=abc,v1=${header.slice(-64)}`, 'x'.repeat(100_000), `t=1000,v1=${header.slice(-64).toUpperCase()}`]) {
      expect(verifyWebhookSignature({ secret: SECRET, header: bad, body, now: 1_000_000 })).toBe(false);
    }
    expect(verifyWebhookSignature({ secret: SECRET, header: [header, header], body, now: 1_000_000 })).toBe(false);
    // the header sent twice as Node joins it (and Express's req.get() returns it), or two timestamps in one: refused too
    expect(verifyWebhookSignature({ secret: SECRET, header: `${header}, ${header}`, body, now: 1_000_000 })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, header: `t=999,${header}`, body, now: 1_000_000 })).toBe(false);
  });

  it('pinoSink: its options, "redact" and "levels"', () => {
    const out = lines();
    const logger = pino(out.stream);
    expect(() => pinoSink({ keyward: counted, logger, redcat: { headers: ['x-tenant-token'] } } as never)).toThrow('keyward: pinoSink() has an unknown field "redcat" (did you mean "redact"? known: keyward, logger, types, levels, redact)');
    expect(() => pinoSink({ keyward: counted, logger, redact: { header: ['x-tenant-token'] } } as never)).toThrow('keyward: option "redact" has an unknown field "header" (did you mean "headers"? known: headers, query, keys)');
    // A name list of another type would make every line fail at write time: refused at start-up.
    for (const redact of [{ headers: 'x-tenant-token' }, { query: [123] }, { keys: [''] }, { keys: [null] }]) {
      expect(() => pinoSink({ keyward: counted, logger, redact } as never)).toThrow(/^keyward: option "redact\.(headers|query|keys)" must be an array of names$/);
    }
    expect(() => pinoSink({ keyward: counted, logger, levels: { 'auth.faild': 'error' } } as never)).toThrow('keyward: option "levels" has an unknown field "auth.faild" (did you mean "auth.failed"? known: auth.succeeded, auth.failed,');
    expect(() => pinoSink({ keyward: counted, logger, levels: { 'auth.failed': 'warning' } } as never)).toThrow('keyward: option "levels.auth.failed" must be one of debug, info, warn, error');
    expect(subscriptions).toBe(0);

    const sink = pinoSink({ keyward: counted, logger, types: ['auth.failed'], levels: { 'auth.failed': 'error' }, redact: { headers: ['x-tenant-token'], query: ['sig'], keys: ['ssn'] } });
    expect(subscriptions).toBe(1);
    sink.write(EVENT, EXTRA);
    const [line] = out.read().map((l) => JSON.parse(l) as { level: number; request: typeof EXTRA });
    expect(line!.level).toBe(50);
    expect(line!.request.headers).toEqual({ 'x-tenant-token': '[REDACTED]', accept: 'json' });
  });

  it('jsonLinesSink: refused before the file is opened; "redact" too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-opts-'));
    try {
      const path = join(dir, 'audit.jsonl');
      expect(() => jsonLinesSink({ keyward: counted, path, maxbuffer: 10 } as never)).toThrow('keyward: jsonLinesSink() has an unknown field "maxbuffer" (did you mean "maxBuffer"? known: keyward, stream, path, types, maxBuffer, redact, closeTimeout)');
      expect(() => jsonLinesSink({ keyward: counted, path, redact: { key: ['ssn'] } } as never)).toThrow('keyward: option "redact" has an unknown field "key" (did you mean "keys"? known: headers, query, keys)');
      expect(() => jsonLinesSink({ keyward: counted, path, redact: { query: 'sig' } } as never)).toThrow('keyward: option "redact.query" must be an array of names');
      expect(existsSync(path)).toBe(false);
      expect(subscriptions).toBe(0);

      const sink = jsonLinesSink({ keyward: counted, path, types: ['auth.failed'], maxBuffer: 10, redact: { headers: ['x-tenant-token'] } });
      expect(subscriptions).toBe(1);
      sink.write(EVENT, EXTRA);
      await sink.close();
      expect(existsSync(path)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('jsonLinesSink: a "stream" that is not a writable stream, or a "path" that is not a file name, is refused naming it', () => {
    const msg = 'keyward: option "stream" must be a writable stream';
    expect(() => jsonLinesSink({ stream: null as never })).toThrow(msg);
    expect(() => jsonLinesSink({ stream: { write: () => true } as never })).toThrow(msg); // no on(): its failures could not be heard
    expect(() => jsonLinesSink({ path: '' })).toThrow('keyward: option "path" must be a non-empty file name'); // every line dropped, unseen
    expect(() => jsonLinesSink({ path: '/tmp/x', closeTimeout: '30d' })).toThrow('keyward: option "closeTimeout" must be at most 24 days');
    expect(() => jsonLinesSink({ path: '/tmp/x', closeTimeout: 'soon' })).toThrow('closeTimeout');
    expect(() => jsonLinesSink({ path: 42 as never })).toThrow('keyward: option "path" must be a non-empty file name');
  });

  it('webhookSink: a "clock" that is not a function is refused (each attempt would reject unhandled)', () => {
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, clock: 5 as never })).toThrow('keyward: option "clock" must be a function returning ms since the epoch');
  });

  it('sanitize: a misspelt "redact" field does not let the value through', () => {
    expect(() => sanitize(EXTRA, { header: ['x-tenant-token'] } as never)).toThrow('keyward: option "redact" has an unknown field "header" (did you mean "headers"?');
    expect(sanitize(EXTRA, { headers: ['x-tenant-token'] })).toEqual({ headers: { 'x-tenant-token': '[REDACTED]', accept: 'json' } });
  });

  it('createPrometheusExporter: a misspelt "token" does not leave /metrics open; refused before registering a metric', async () => {
    const registry = new Registry();
    expect(() => createPrometheusExporter({ keyward: counted, registry, tokn: 'a-long-scrape-token' } as never)).toThrow('keyward: createPrometheusExporter() has an unknown field "tokn" (did you mean "token"? known: keyward, registry, prefix, perKeyLabels, maxKeys, routeNormaliser, maxRoutes, buckets, token, defaultMetrics)');
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(subscriptions).toBe(0);

    const exporter = createPrometheusExporter({
      keyward: counted, registry, prefix: 'kwopts_', perKeyLabels: false, routeNormaliser: (p) => p, maxRoutes: 5, buckets: [0.1, 1], token: 'a-long-scrape-token', defaultMetrics: false,
    });
    expect(subscriptions).toBe(1);
    expect((await exporter.endpoint()({ method: 'GET', path: '/metrics', headers: {} })).status).toBe(401);
    expect((await exporter.endpoint()({ method: 'GET', path: '/metrics', headers: { authorization: 'Bearer a-long-scrape-token' } })).status).toBe(200);
    exporter.close();
  });

  it('createRedisMetrics: refused before subscribing or starting its timer (real, lazy Redis client)', async () => {
    const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    try {
      expect(() => createRedisMetrics({ client, keyward: counted, flushIntervall: '1h' } as never)).toThrow('keyward: createRedisMetrics() has an unknown field "flushIntervall" (did you mean "flushInterval"? known: client, prefix, keyward, flushInterval, maxBuffer, topCapacity, maxRankedKeys, clock, onError)');
      expect(subscriptions).toBe(0);

      const metrics = createRedisMetrics({
        client, prefix: `kwtest:opts:${process.pid}:`, keyward: counted, flushInterval: '1h', maxBuffer: 10, topCapacity: 5, maxRankedKeys: 5, clock: manualClock(Date.now()), onError: () => {},
      });
      expect(subscriptions).toBe(1);
      await metrics.close();
    } finally {
      client.disconnect();
    }
  });
});
