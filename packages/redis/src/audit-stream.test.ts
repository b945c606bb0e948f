/** The audit stream sink's close() against a real Redis (127.0.0.1:6379, or REDIS_URL) and against none. */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createKeyward } from '@keyward/core';
import { boundedRedisOptions, whenReady } from './client';
import { attachAuditStream, createAuditStream } from './audit-stream';

const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

describe('audit stream close()', () => {
  it('writes what is buffered when Redis is there; nothing is counted as dropped', async () => {
    const client = new Redis(URL, boundedRedisOptions());
    client.on('error', () => {});
    await whenReady(client);
    const stream = `kwtest:audit:${process.pid}:${randomBytes(4).toString('hex')}`;
    const kw = createKeyward();
    const reports: unknown[] = [];
    const sink = attachAuditStream(kw, { client, stream, onDropped: (d) => reports.push(d) });
    try {
      await kw.keys.create({ owner: 'acme' });
      await new Promise((r) => setTimeout(r, 20)); // the event reaches the sink
      await sink.close();
      expect({ buffered: sink.buffered, dropped: sink.dropped, reports }).toEqual({ buffered: 0, dropped: 0, reports: [] });
      expect(await client.xlen(stream)).toBeGreaterThan(0);
    } finally {
      await client.del(stream);
      await kw.close();
      client.disconnect();
    }
  });

  it('counts and reports the events it could not write while Redis is away, instead of losing them silently', async () => {
    const client = new Redis('redis://127.0.0.1:1', { ...boundedRedisOptions(), lazyConnect: true }); // nothing listens there
    client.on('error', () => {});
    const kw = createKeyward();
    const reports: Array<{ dropped: number; total: number }> = [];
    const sink = attachAuditStream(kw, { client, stream: 'kwtest:audit:away', onDropped: (d) => reports.push(d) });
    try {
      await kw.keys.create({ owner: 'acme' });
      await kw.keys.create({ owner: 'acme' });
      await new Promise((r) => setTimeout(r, 20)); // the events reach the sink
      const held = sink.buffered;
      expect(held).toBeGreaterThanOrEqual(2);
      await sink.close();
      expect({ buffered: sink.buffered, dropped: sink.dropped }).toEqual({ buffered: 0, dropped: held });
      expect(reports).toEqual([{ dropped: held, total: held }]);
    } finally {
      await kw.close();
      client.disconnect();
    }
  });

  it('does not loop when Redis refuses the audit.dropped entry after close(): the write fails once and waits', async () => {
    const client = new Redis(URL, boundedRedisOptions());
    client.on('error', () => {});
    await whenReady(client);
    const stream = `kwtest:audit:${process.pid}:${randomBytes(4).toString('hex')}`;
    await client.set(stream, 'not a stream'); // every XADD now fails with WRONGTYPE
    const sink = createAuditStream({ client, stream, retryMs: 10_000, onDropped: () => {} });
    const pipeline = client.pipeline.bind(client);
    let writes = 0;
    client.pipeline = ((...args: Parameters<typeof client.pipeline>) => {
      writes += 1;
      return pipeline(...args);
    }) as typeof client.pipeline;
    try {
      sink.listener({ schema: 1, type: 'key.created', time: new Date().toISOString(), data: {} } as never);
      await sink.close(); // the event could not be written: counted as dropped, the audit.dropped entry is still owed
      expect(sink.dropped).toBe(1);
      writes = 0;
      const outcome = await Promise.race([sink.flush().then(() => 'returned'), new Promise((r) => setTimeout(() => r('still writing'), 500))]);
      expect({ outcome, writes }).toEqual({ outcome: 'returned', writes: 1 });
    } finally {
      await client.del(stream); // lets a spinning loop, if any, end
      await new Promise((r) => setTimeout(r, 50));
      client.disconnect();
    }
  });
});
