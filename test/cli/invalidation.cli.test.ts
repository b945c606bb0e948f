/**
 * `keyward keys` with keys in PostgreSQL and a Redis that refuses the CLI's invalidation message (an ACL without
 * PUBLISH): the change is stored, and the CLI says that running instances were not told.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { cli, jsonOf } from './helpers/cli';

jest.setTimeout(60_000);

const DATABASE_URL = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
const schema = `kwcli_inv_${randomBytes(4).toString('hex')}`;
let port = 0;
const dir = mkdtempSync(join(tmpdir(), 'kw-cli-inv-'));
let server: ChildProcess;

const listening = (): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

/** A port nothing listens on now: the kernel's pick for a listener on port 0 (a random port could be one in use). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });

/** Starts the PUBLISH-less redis-server; true once it listens, false when it exited first (its port taken meanwhile). */
async function startServer(): Promise<boolean> {
  port = await freePort();
  writeFileSync(join(dir, 'redis.conf'), `port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir ${dir}\nuser default on nopass ~* &* +@all -publish\n`);
  server = spawn('redis-server', [join(dir, 'redis.conf')], { stdio: 'ignore' });
  let exited = false;
  server.once('exit', () => (exited = true));
  const end = Date.now() + 10_000;
  while (!(await listening())) {
    if (exited) return false;
    if (Date.now() > end) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

beforeAll(async () => {
  // A port picked at random (30000-49000, inside Linux's range of ephemeral ports) was at times in use by another
  // test's connection, and the server exited at once: CI failed on "did not start". A free port, and a second try.
  for (let attempt = 0; attempt < 3; attempt++) if (await startServer()) return;
  throw new Error('redis-server exited three times at start-up');
});

afterAll(async () => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

it('revoke: the key is revoked, and a warning says that running instances could not be told', async () => {
  const flags = ['--database', DATABASE_URL, '--schema', schema, '--redis', `redis://127.0.0.1:${port}`];
  expect((await cli(['migrate', '--database', DATABASE_URL, '--schema', schema])).code).toBe(0);
  const created = await cli(['keys', 'create', '--owner', 'acme', '--json', ...flags]);
  expect(created).toMatchObject({ code: 0, stderr: '' });
  const { record } = jsonOf<{ record: { id: string } }>(created);
  const revoked = await cli(['keys', 'revoke', record.id, ...flags]);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toMatch(/^Revoked key /);
  expect(revoked.stderr).toBe("keyward: warning: the change is stored, but running instances could not be told over Redis: NOPERM this user has no permissions to run the 'publish' command; those that cached the key keep it until their cache TTL (cache.ttl)\n");
  const shown = await cli(['keys', 'show', record.id, '--json', ...flags]);
  expect(jsonOf<{ status: string }>(shown)).toMatchObject({ status: 'revoked' });
});
