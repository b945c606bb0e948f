import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKeyward, type KeywardEvent } from '@keyward/core';
import { signWebhook, verifyWebhookSignature, webhookSink } from './index';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 answering the given statuses in turn (then 200). */
async function receiver(statuses: number[] = []): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, got, close: () => new Promise((r) => server.close(() => r())) };
}

const EVENT: KeywardEvent = { schema: 'keyward.event/v1', type: 'anomaly.detected', time: '2026-03-01T10:00:00.000Z', keyId: 'key_1', reason: 'RATE_SPIKE', data: { kind: 'RATE_SPIKE' } };

describe('webhook sink', () => {
  it('POSTs selected events as signed JSON the receiver can verify', async () => {
    const rx = await receiver();
    const kw = createKeyward();
    const sink = webhookSink({ keyward: kw, url: rx.url, secret: SECRET });
    const { record } = await kw.keys.create({ owner: 'acme' });
    await kw.keys.revoke(record.id, { reason: 'leaked' });
    await kw.flushEvents();
    await sink.flush();
    expect(rx.got).toHaveLength(1); // key.created is not selected, key.revoked is
    const [hit] = rx.got;
    expect(hit!.headers['content-type']).toBe('application/json');
    expect(hit!.headers['x-keyward-event']).toBe('key.revoked');
    expect(JSON.parse(hit!.body)).toMatchObject({ type: 'key.revoked', keyId: record.id, reason: 'leaked' });
    expect(verifyWebhookSignature({ secret: SECRET, header: hit!.headers['x-keyward-signature'], body: hit!.body })).toBe(true);
    expect(verifyWebhookSignature({ secret: 'other-secret', header: hit!.headers['x-keyward-signature'], body: hit!.body })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, header: hit!.headers['x-keyward-signature'], body: hit!.body + ' ' })).toBe(false);
    expect(sink.stats()).toEqual({ pending: 0, delivered: 1, failed: 0, dropped: 0, retries: 0 });
    await sink.close();
    await kw.close();
    await rx.close();
  });

  it('a clock that throws fails the attempt like a network error (retried, then counted failed), never an unhandled rejection', async () => {
    const rx = await receiver();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const sink = webhookSink({ url: rx.url, secret: SECRET, minBackoff: 1, maxBackoff: 2, retries: 1, clock: () => { throw new Error('clock broke'); } });
      sink.send(EVENT);
      await sink.flush();
      await new Promise((r) => setImmediate(r));
      expect(rx.got).toHaveLength(0);
      expect(sink.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 1, pending: 0 });
      expect(unhandled).toEqual([]);
      await sink.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await rx.close();
    }
  });

  it('retries 5xx and network errors with back-off, keeping the delivery id; gives up on other 4xx', async () => {
    const rx = await receiver([503, 500]);
    const sink = webhookSink({ url: rx.url, secret: SECRET, minBackoff: 5, maxBackoff: 20 });
    sink.send(EVENT);
    await sink.flush();
    expect(rx.got).toHaveLength(3);
    expect(new Set(rx.got.map((g) => g.headers['x-keyward-delivery'])).size).toBe(1);
    expect(sink.stats()).toMatchObject({ delivered: 1, retries: 2, failed: 0 });
    const rejecting = await receiver([400]);
    const sink2 = webhookSink({ url: rejecting.url, secret: SECRET, minBackoff: 5 });
    sink2.send(EVENT);
    await sink2.flush();
    expect(rejecting.got).toHaveLength(1);
    expect(sink2.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 0 });
    await rx.close();
    await rejecting.close();
    const down = webhookSink({ url: rx.url, secret: SECRET, minBackoff: 1, maxBackoff: 2, retries: 2 });
    down.send(EVENT);
    await down.flush();
    expect(down.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 2 });
  });

  it('waits as long as a 429 or 503 Retry-After asks (up to maxBackoff) before retrying', async () => {
    const times: number[] = [];
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        times.push(Date.now());
        if (times.length === 1) res.writeHead(429, { 'Retry-After': '1' }).end();
        else if (times.length === 2) res.writeHead(503, { 'Retry-After': new Date(Date.now() + 3000).toUTCString() }).end();
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      // back-off alone would retry within 10 ms; the receiver asked for 1 s, then (as an HTTP date) for 2 to 3 s, of which maxBackoff allows 1.2 s
      const sink = webhookSink({ url, secret: SECRET, minBackoff: 5, maxBackoff: 1200 });
      sink.send(EVENT);
      await sink.flush();
      expect(times).toHaveLength(3);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(1150);
      expect(times[2]! - times[1]!).toBeLessThan(1900);
      expect(sink.stats()).toMatchObject({ delivered: 1, retries: 2, failed: 0 });
      await sink.close();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('does not follow a redirect: the signed event never reaches another host, and the delivery fails unretried', async () => {
    const other = await receiver();
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(307, { Location: other.url.replace('127.0.0.1', 'localhost') }).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sink = webhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, secret: SECRET, minBackoff: 1, maxBackoff: 2 });
      sink.send(EVENT);
      await sink.flush();
      expect(other.got).toHaveLength(0);
      expect(sink.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 0 });
      await sink.close();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await other.close();
    }
  });

  it('never blocks: a bounded queue, drops counted', async () => {
    const rx = await receiver();
    const sink = webhookSink({ url: rx.url, secret: SECRET, maxQueue: 3, concurrency: 1 });
    for (let i = 0; i < 10; i++) sink.send(EVENT);
    expect(sink.stats()).toMatchObject({ pending: 3, dropped: 7 });
    await sink.flush();
    expect(sink.stats()).toMatchObject({ pending: 0, delivered: 3, dropped: 7 });
    await sink.close();
    await rx.close();
  });

  it('an event sent after close() is dropped and counted; one of a type not selected is not', async () => {
    const rx = await receiver();
    try {
      const sink = webhookSink({ url: rx.url, secret: SECRET });
      await sink.close();
      sink.send(EVENT);
      sink.send({ ...EVENT, type: 'key.created' });
      expect(sink.stats()).toEqual({ pending: 0, delivered: 0, failed: 0, dropped: 1, retries: 0 });
      expect(rx.got).toHaveLength(0);
    } finally {
      await rx.close();
    }
  });

  it('close() called twice: both wait for the attempt in flight', async () => {
    let answer: () => void = () => {};
    const server: Server = createServer((req, res) => {
      req.resume();
      answer = () => res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sink = webhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, secret: SECRET, retries: 0 });
      sink.send(EVENT);
      await new Promise((r) => setTimeout(r, 50)); // the attempt is in flight, its answer held back
      const order: string[] = [];
      const first = sink.close().then(() => order.push('first'));
      const second = sink.close().then(() => order.push('second'));
      await new Promise((r) => setTimeout(r, 50));
      order.push('answered');
      answer();
      await Promise.all([first, second]);
      expect(order).toEqual(['answered', 'first', 'second']);
      expect(sink.stats()).toMatchObject({ pending: 0, delivered: 1 });
    } finally {
      answer();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('takes the status and leaves the answer unread: a receiver streaming an endless body is cut off, not buffered', async () => {
    let sentMiB = 0;
    let closed!: () => void;
    const cut = new Promise<void>((r) => (closed = r));
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200);
        const chunk = Buffer.alloc(1 << 20, 97);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) sentMiB++;
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', closed);
        pump();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // With the body read, this delivery would hold its slot, and buffer what arrives, for the whole minute.
    const sink = webhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, secret: SECRET, timeout: '1m', retries: 0 });
    sink.send(EVENT);
    await sink.flush();
    await cut; // the sink closed the answer: the receiver's endless body ended there
    expect(sink.stats()).toMatchObject({ pending: 0, delivered: 1, failed: 0 });
    expect(sentMiB).toBeLessThan(256);
    await sink.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('verifies timestamps and checks its options', () => {
    const body = '{"a":1}';
    const header = signWebhook(SECRET, body, 1_700_000_000);
    expect(verifyWebhookSignature({ secret: SECRET, header, body, now: 1_700_000_100_000 })).toBe(true);
    expect(verifyWebhookSignature({ secret: SECRET, header, body, now: 1_700_001_000_000 })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, header: 'garbage', body })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, header: undefined, body })).toBe(false);
    expect(() => webhookSink({ url: 'ftp://x', secret: SECRET })).toThrow(/"url"/);
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: '' })).toThrow(/"secret"/);
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, retries: -1 })).toThrow(/"retries"/);
    // a back-off of 0, or a first delay above the longest, sent every retry at once
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, minBackoff: 0 })).toThrow('keyward: option "minBackoff" must be longer than 0 (every retry would be sent at once)');
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, minBackoff: '2m' })).toThrow('keyward: option "minBackoff" must not be longer than option "maxBackoff"');
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, minBackoff: '10s', maxBackoff: '1s' })).toThrow(/"minBackoff".*"maxBackoff"/);
    void webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, minBackoff: '1s', maxBackoff: '1s' }).close();
    // Node's timers hold 2^31-1 ms (about 24.8 days): beyond, a timer fires at once, so a '30d' timeout cut off every
    // attempt (all alerts failed) and a '30d' back-off retried at once
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, timeout: '30d' })).toThrow('keyward: option "timeout" must be at most 24 days (2147483647 ms, the longest timer Node keeps)');
    expect(() => webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, maxBackoff: '30d' })).toThrow('keyward: option "maxBackoff" must be at most 24 days (2147483647 ms, the longest timer Node keeps)');
    void webhookSink({ url: 'http://127.0.0.1/', secret: SECRET, timeout: 2_147_483_647, minBackoff: '24d', maxBackoff: 2_147_483_647 }).close();
  });
});
