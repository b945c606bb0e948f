/**
 * Two app processes (forked Node processes running app-process.js) sharing one Redis: keys, invalidation and rate
 * limits. A key revoked through one is refused by the other although it was cached there (cache TTL 1 h: only
 * invalidation can do it); a limit of N shared by both allows exactly N. The revocation delays seen are printed
 * (figures only; the p99 goal is measured by bench/revocation-delay.js).
 */
import type Redis from 'ioredis';
import { deleteMatching, redisClient, REDIS_URL, uniqueName } from '../stores/support';

const { startApp } = require('./app-processes') as { startApp: (env: Record<string, string>) => Promise<AppProcess> };

interface AppProcess {
  readonly url: string;
  call(msg: Record<string, unknown>): Promise<{ id?: string; key?: string; revokedAt?: number }>;
  close(): Promise<void>;
}

const LIMIT = 10;

async function status(url: string, key: string): Promise<number> {
  const res = await fetch(`${url}/docs`, { headers: { 'x-api-key': key } });
  await res.arrayBuffer();
  return res.status;
}

describe('two app processes sharing one Redis', () => {
  let a: AppProcess;
  let b: AppProcess;
  let admin: Redis;
  const prefix = uniqueName('kwtest_mp');

  beforeAll(async () => {
    admin = await redisClient();
    const env = { REDIS_URL, KW_PREFIX: prefix, KW_CHANNEL: `${prefix}:invalidate`, KW_RL_PREFIX: `${prefix}:rl`, KW_LIMIT: String(LIMIT) };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteMatching(admin, `{${prefix}}*`);
    await deleteMatching(admin, `${prefix}*`);
    admin.disconnect();
  });

  it('a key revoked through one process is refused by the other', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { id, key } = await a.call({ cmd: 'create' });
      expect(await status(b.url, key!)).toBe(200); // now cached in B
      expect(await status(a.url, key!)).toBe(200);
      const revoked = a.call({ cmd: 'revoke', id });
      let firstRefusal = 0;
      for (let n = 0; n < 2000 && firstRefusal === 0; n++) {
        const s = await status(b.url, key!);
        if (s === 401) firstRefusal = Date.now();
        else expect(s).toBe(200);
      }
      const { revokedAt } = await revoked;
      expect(firstRefusal).toBeGreaterThan(0);
      delays.push(Math.max(0, firstRefusal - revokedAt!));
      expect(await status(a.url, key!)).toBe(401);
    }
    delays.sort((x, y) => x - y);
    console.log(`revocation delay between two processes over ${delays.length} revocations: median ${delays[delays.length >> 1]} ms, max ${delays[delays.length - 1]} ms`);
  });

  it(`a limit of ${LIMIT} per key shared by both processes allows exactly ${LIMIT}`, async () => {
    const { key } = await a.call({ cmd: 'create' });
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => status(i % 2 ? a.url : b.url, key!)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - LIMIT);
  });
});
