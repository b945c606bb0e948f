/** The audit stream sink's close() against a real Redis (127.0.0.1:6379, or REDIS_URL) and against none. */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createKeyward } from '@keyward/core';
import { boundedRedisOptions, whenReady } from './client';
import { attachAuditStream } from './audit-stream';

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
});
