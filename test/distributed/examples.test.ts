/**
 * The examples as users start them (`npm start`, `npm run start:koa`, `npm run start:nest`), with REDIS_URL and with
 * DATABASE_URL set: each process prints its demo key, the key works over HTTP, and it lives where the environment
 * said — in Redis (its own database number, flushed afterwards) or in PostgreSQL (the `public` schema the example
 * migrates; the demo key's row is deleted afterwards) — with the audit events in the Redis stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type Redis from 'ioredis';
import { Pool } from 'pg';
import { DATABASE_URL, REDIS_URL, redisClient } from '../stores/support';

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = [
  { name: 'Express', script: 'examples/express/index.js' },
  { name: 'Koa', script: 'examples/koa/index.js' },
  { name: 'NestJS', script: 'examples/nest/dist/main.js' },
] as const;

/** A database number of the test Redis that nothing else uses, so flushing it touches no other test's keys. */
const REDIS_DB = 9;
const redisUrl = `${REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`;

interface Started {
  readonly child: ChildProcess;
  readonly base: string;
  readonly key: string;
  readonly keyId: string;
  readonly banner: string;
}

/** Starts an example on a free port and reads its banner: where it listens and the demo key. */
function startExample(script: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [path.join(ROOT, script)], { cwd: ROOT, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} printed no key within 30 s: ${out}${err}`)); }, 30_000);
    child.stderr!.on('data', (d: Buffer) => { err += d; });
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const base = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const demo = /demo key \((\S+), scopes: docs:read\), shown once:\n\s+(\S+)/.exec(out);
      if (base && demo) {
        clearTimeout(timer);
        resolve({ child, base, keyId: demo[1]!, key: demo[2]!, banner: out.split('\n')[0]! });
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited with ${code}: ${err}`)); });
  });
}

function stop(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
    s.child.once('exit', () => { clearTimeout(kill); resolve(); });
    s.child.kill('SIGTERM');
  });
}

async function status(base: string, key?: string): Promise<number> {
  const res = await fetch(`${base}/v1/docs`, { headers: key ? { 'x-api-key': key } : {} });
  await res.arrayBuffer();
  return res.status;
}

describe.each(EXAMPLES)('the $name example on shared stores', ({ script }) => {
  let redis: Redis;
  let pool: Pool;
  const created: string[] = [];

  beforeAll(async () => {
    redis = await redisClient(redisUrl);
    await redis.flushdb();
    pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await redis.flushdb();
    redis.disconnect();
    if (created.length) await pool.query('DELETE FROM public.keyward_keys WHERE id = ANY($1)', [created]);
    await pool.end();
  });

  it('REDIS_URL: the key is kept in Redis, works, and its requests reach the audit stream', async () => {
    const app = await startExample(script, { REDIS_URL: redisUrl });
    try {
      expect(app.banner).toContain('keys in Redis, invalidation and audit on Redis');
      expect(await status(app.base, app.key)).toBe(200);
      expect(await status(app.base)).toBe(401);
      const stored = await redis.keys('*'); // a database of its own: only this example's keys
      expect(stored.some((k) => k.includes(app.keyId))).toBe(true);
      expect(stored.join('\n')).not.toContain(app.key); // hashes only, never the key
      // Audit events reach the stream in batches: wait for the allowed request's.
      let entries: [string, string[]][] = [];
      for (let i = 0; i < 50 && !entries.some(([, f]) => f.join(' ').includes('auth.succeeded')); i++) {
        await new Promise((r) => setTimeout(r, 100));
        entries = (await redis.xrange('keyward:audit', '-', '+')) as [string, string[]][];
      }
      const text = entries.map(([, f]) => f.join(' ')).join('\n');
      expect(text).toContain('auth.succeeded');
      expect(text).toContain('auth.failed');
      expect(text).not.toContain(app.key);
    } finally {
      await stop(app);
    }
  }, 60_000);

  it('DATABASE_URL: the key is kept in PostgreSQL (migrated at start) and works', async () => {
    const app = await startExample(script, { DATABASE_URL });
    created.push(app.keyId);
    try {
      expect(app.banner).toContain('keys in PostgreSQL');
      expect(await status(app.base, app.key)).toBe(200);
      expect(await status(app.base)).toBe(401);
      const { rows } = await pool.query('SELECT * FROM public.keyward_keys WHERE id = $1', [app.keyId]);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows[0])).not.toContain(app.key);
    } finally {
      await stop(app);
    }
  }, 60_000);
});
