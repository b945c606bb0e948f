/**
 * The `keyward keys` commands driven as a subprocess against a real Redis and a real PostgreSQL, checked with a
 * keyward instance reading the same store (and, for Redis, hearing the CLI's cache invalidations).
 */
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { createKeyward, type Keyward, type KeyStore, type KeyInfo } from '@keyward/core';
import { boundedRedisOptions, RedisKeyStore, RedisInvalidationChannel } from '@keyward/redis';
import { PostgresKeyStore } from '@keyward/postgres';
import { cli, jsonOf } from './helpers/cli';

jest.setTimeout(120_000);

const REDIS_URL = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
const tag = randomBytes(4).toString('hex');

interface Backend {
  readonly name: string;
  readonly flags: string[];
  setup(): Promise<{ store: KeyStore; invalidation?: RedisInvalidationChannel }>;
  teardown(): Promise<void>;
}

const redisPrefix = `kwcli-${tag}`;
const channel = `kwcli-${tag}:invalidate`;
const schema = `kwcli_${tag}`;
let redis: Redis;
let pool: Pool;

const BACKENDS: Backend[] = [
  {
    name: 'redis',
    flags: ['--redis', REDIS_URL, '--redis-prefix', redisPrefix, '--channel', channel],
    async setup() {
      redis = new Redis(REDIS_URL, { ...boundedRedisOptions(), lazyConnect: true }); // as the README sets a client up (no offline queue, no warning)
      await redis.connect();
      return { store: new RedisKeyStore({ client: redis, prefix: redisPrefix }), invalidation: new RedisInvalidationChannel({ client: redis, channel }) };
    },
    async teardown() {
      const keys = await redis.keys(`{${redisPrefix}}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  },
  {
    name: 'postgres',
    flags: ['--database', DATABASE_URL, '--schema', schema],
    async setup() {
      pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
      pool.on('error', () => {}); // as the README asks of every pool
      const first = await cli(['migrate', ...this.flags]);
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(new RegExp(`^Applied migration\\(s\\) .* to schema ${schema}\\.\\n$`));
      expect((await cli(['migrate', ...this.flags])).stdout).toBe(`Schema ${schema} is up to date.\n`);
      return { store: new PostgresKeyStore({ pool, schema }) };
    },
    async teardown() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  },
];

describe.each(BACKENDS)('keyward keys on $name', (backend) => {
  let kw: Keyward;
  const run = (args: string[], input?: string) => cli([...backend.flags, ...args], input === undefined ? {} : { input });
  const call = (key: string) => kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } });
  /** Waits (bounded) until the app sees a change made by the CLI: at once through invalidation, else within the cache TTL. */
  async function eventually(fn: () => Promise<boolean>) {
    for (let i = 0; i < 100 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 50));
    return fn();
  }

  beforeAll(async () => {
    const { store, invalidation } = await backend.setup();
    kw = createKeyward({ store, ...(invalidation ? { invalidation } : {}), cache: { ttl: invalidation ? '1h' : '1s' }, legacyKeys: true });
  });
  afterAll(async () => {
    await kw.close();
    await backend.teardown();
  });

  it('create prints the key once; the app accepts it; list and show never print it', async () => {
    const human = await run(['keys', 'create', '--owner', 'acme', '--name', 'CI deploy', '--scope', 'docs:read', '--scope', 'docs:write', '--expires-in', '30d']);
    expect(human.code).toBe(0);
    const key = /\n {2}(kw_live_[0-9A-Za-z]+)\n/.exec(human.stdout)![1]!;
    expect(human.stdout).toMatch(/^Created key key_\w+ \(kw_live_…\w{4}\) for acme\.\nThe key is shown once; store it now:/);
    const ok = await call(key);
    expect(ok.ok && ok.principal).toMatchObject({ owner: 'acme', scopes: ['docs:read', 'docs:write'], name: 'CI deploy' });

    const created = jsonOf<{ key: string; record: KeyInfo }>(await run(['keys', 'create', '--owner', 'beta', '--json', '--metadata', '{"team":"b"}', '--env', 'test']));
    expect(created.key.startsWith('kw_test_')).toBe(true);
    expect(created.record).toMatchObject({ owner: 'beta', metadata: { team: 'b' } });
    expect(created.record).not.toHaveProperty('hash');

    const list = await run(['keys', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+OWNER\s+NAME\s+HINT\s+STATE\s+SCOPES\s+CREATED\s+EXPIRES\s+LAST USED$/);
    expect(list.stdout).toContain(created.record.id);
    expect(list.stdout).toContain('CI deploy');
    expect(list.stdout).not.toContain(key);
    expect(list.stdout).not.toContain(created.key);
    const listed = jsonOf<KeyInfo[]>(await run(['keys', 'list', '--owner', 'beta', '--json']));
    expect(listed.map((k) => k.id)).toEqual([created.record.id]);

    const show = await run(['keys', 'show', created.record.id]);
    expect(show.stdout).toMatch(new RegExp(`^id: +${created.record.id}\\nowner: +beta\\n`));
    expect(show.stdout).not.toContain(created.key);
    expect(jsonOf<KeyInfo>(await run(['keys', 'show', created.record.id, '--json'])).id).toBe(created.record.id);
  });

  it('rotate: both keys work during the grace period, the old one deprecated; revoke takes effect in the app', async () => {
    const created = jsonOf<{ key: string; record: KeyInfo }>(await run(['keys', 'create', '--owner', 'gamma', '--scope', 'docs:read', '--json']));
    expect((await call(created.key)).ok).toBe(true); // now cached by the app
    const rotated = jsonOf<{ key: string; record: KeyInfo; previous: KeyInfo }>(await run(['keys', 'rotate', created.record.id, '--grace', '24h', '--json']));
    expect(rotated.record).toMatchObject({ owner: 'gamma', scopes: ['docs:read'], rotatedFrom: created.record.id });
    expect(rotated.previous).toMatchObject({ rotatedTo: rotated.record.id });
    expect(await eventually(async () => {
      const d = await call(created.key);
      return d.ok && d.headers['Deprecation'] !== undefined;
    })).toBe(true);
    const old = await call(created.key);
    expect(old.ok && old.headers['Sunset']).toBe(new Date(rotated.previous.graceEndsAt!).toUTCString());
    expect((await call(rotated.key)).ok).toBe(true);

    const human = await run(['keys', 'rotate', rotated.record.id, '--grace', '0']);
    expect(human.stdout).toMatch(/^Rotated: new key key_\w+ .*\n[\s\S]*The old key key_\w+ is revoked\.\n$/);

    const revoked = await run(['keys', 'revoke', created.record.id, '--reason', 'leaked']);
    expect(revoked).toMatchObject({ code: 0, stdout: `Revoked key ${created.record.id} (${created.record.hint}) of gamma.\n` });
    expect(await eventually(async () => !(await call(created.key)).ok)).toBe(true);
    const d = await call(created.key);
    expect(!d.ok && d.code).toBe('KEY_REVOKED');
    expect(await kw.keys.get(created.record.id)).toMatchObject({ status: 'revoked', revokedReason: 'leaked' });
  });

  it('revoke-owner and revoke-before: incident response in one command', async () => {
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(jsonOf<{ key: string; record: KeyInfo }>(await run(['keys', 'create', '--owner', 'victim', '--json'])));
    const bystander = jsonOf<{ key: string; record: KeyInfo }>(await run(['keys', 'create', '--owner', 'bystander', '--json']));
    for (const k of keys) expect((await call(k.key)).ok).toBe(true);
    const r = jsonOf<{ ids: string[] }>(await run(['keys', 'revoke-owner', 'victim', '--reason', 'account compromised', '--json']));
    expect(r.ids.sort()).toEqual(keys.map((k) => k.record.id).sort());
    for (const k of keys) expect(await eventually(async () => !(await call(k.key)).ok)).toBe(true);
    expect((await call(bystander.key)).ok).toBe(true);

    const later = jsonOf<{ key: string; record: KeyInfo }>(await run(['keys', 'create', '--owner', 'late', '--json']));
    const cut = new Date(later.record.createdAt).toISOString();
    const before = await run(['keys', 'revoke-before', cut, '--owner', 'bystander', '--reason', 'leak window']);
    expect(before.stdout).toMatch(/^Revoked 1 key\(s\) created before /);
    expect(await eventually(async () => !(await call(bystander.key)).ok)).toBe(true);
    expect((await call(later.key)).ok).toBe(true);
  });

  it('import: legacy UUIDs (stdin), SHA-256 and bulk files; due lists them; sweep reports once', async () => {
    const uuid = randomUUID();
    const imported = jsonOf<KeyInfo[]>(await run(['keys', 'import', '--owner', 'legacy-co', '--key-stdin', '--scope', 'docs:read', '--created-at', '2020-01-01T00:00:00Z', '--json'], `${uuid}\n`));
    expect(imported[0]).toMatchObject({ owner: 'legacy-co', legacy: true, createdAt: Date.parse('2020-01-01T00:00:00Z') });
    expect((await call(uuid)).ok).toBe(true);

    const b64 = randomBytes(30).toString('base64');
    const sha = createHash('sha256').update(b64).digest('hex');
    const bySha = await run(['keys', 'import', '--owner', 'legacy-co', '--sha256', sha, '--hint', '…' + b64.slice(-4)]);
    expect(bySha.stdout).toMatch(/^Imported 1 key\(s\), 1 legacy/);
    expect(bySha.stdout).not.toContain(sha);
    expect((await call(b64)).ok).toBe(true);

    const old = jsonOf<{ key: string; record: KeyInfo }>(await run(['keys', 'create', '--owner', 'elsewhere', '--json']));
    const dir = mkdtempSync(join(tmpdir(), 'kwcli-'));
    const file = join(dir, 'keys.jsonl');
    const other = randomBytes(24).toString('base64url');
    // Saved as a Windows editor would: a byte order mark, CRLF line ends.
    writeFileSync(file, '\uFEFF' + [JSON.stringify({ key: other, owner: 'bulk', scopes: ['docs:read'], createdAt: '2021-06-01T00:00:00Z' }), '', JSON.stringify({ key: old.key, owner: 'moved', createdAt: '2021-01-01T00:00:00Z' })].join('\r\n'));
    await kw.keys.delete(old.record.id); // moving a keyward key from another store
    const bulk = jsonOf<KeyInfo[]>(await run(['keys', 'import', '--file', file, '--json']));
    expect(bulk.map((k) => [k.owner, k.legacy ?? false])).toEqual([['bulk', true], ['moved', false]]);
    expect(await eventually(async () => (await call(old.key)).ok)).toBe(true);

    const dup = await run(['keys', 'import', '--owner', 'x', '--key-stdin'], uuid);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/^keyward: the key: a key with id key_\w+ or the same hash exists\n$/);
    expect(dup.stderr).not.toContain(uuid);

    const partial = join(dir, 'partial.jsonl');
    writeFileSync(partial, [JSON.stringify({ sha256: createHash('sha256').update(randomUUID()).digest('hex'), owner: 'partial' }), '', '', JSON.stringify({ sha256: 'abc', owner: 'partial' })].join('\n'));
    const stopped = await run(['keys', 'import', '--file', partial, '--json']);
    expect(stopped).toMatchObject({ code: 2, stdout: '' });
    expect(stopped.stderr).toBe(`keyward: ${partial}:4: "sha256" must be 64 hexadecimal digits (1 imported before it)\n`); // the line, as a parse error names it
    expect((await kw.keys.list({ owner: 'partial' })).items).toHaveLength(1);

    const due = jsonOf<Array<{ key: KeyInfo; reason: string }>>(await run(['keys', 'due', '--max-age', '90d', '--json']));
    const reasons = new Map(due.map((d) => [d.key.id, d.reason]));
    expect(reasons.get(imported[0]!.id)).toBe('legacy');
    expect(reasons.get(bulk[1]!.id)).toBe('max-age');
    const table = await run(['keys', 'due', '--max-age', '90d']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+OWNER\s+HINT\s+REASON\s+DUE$/);

    const sweep = jsonOf<{ report: { expired: string[]; idle: string[] }; events: Array<{ type: string; keyId: string; reason?: string }> }>(await run(['keys', 'sweep', '--max-age', '365d', '--auto-expire', '--idle-after', '30d', '--json']));
    expect(sweep.report.expired).toEqual(expect.arrayContaining([imported[0]!.id, bulk[0]!.id, bulk[1]!.id]));
    expect(sweep.events).toEqual(expect.arrayContaining([{ ...sweep.events.find((e) => e.keyId === bulk[1]!.id && e.type === 'key.expired'), reason: 'MAX_AGE' }]));
    const again = jsonOf<{ events: Array<{ type: string; keyId: string }> }>(await run(['keys', 'sweep', '--max-age', '365d', '--auto-expire', '--idle-after', '30d', '--json']));
    expect(again.events.filter((e) => [imported[0]!.id, bulk[0]!.id, bulk[1]!.id].includes(e.keyId))).toEqual([]);
    const human = await run(['keys', 'sweep']);
    expect(human.stdout).toMatch(/Swept \d+ key\(s\): 0 expiring, 0 expired, 0 idle, 0 retired after rotation\.\n$/);
  });

  it('errors are one clear line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['keys', 'show', 'key_nope'], /^keyward: no key with id key_nope\n$/],
      [['keys', 'revoke', 'key_nope'], /^keyward: no key with id key_nope\n$/],
      [['keys', 'show', `kw_live_${'A'.repeat(40)}`], /^keyward: no key with id \(a key was given, not its id: not shown; pass record\.id, "key_…"\)\n$/],
      [['keys', 'rotate', 'key_nope', '--grace', 'soon'], /^keyward: --grace must be a duration such as 30s, 15m, 24h or 90d/],
      [['keys', 'create'], /^keyward: required option '--owner <owner>' not specified\n$/],
      [['keys', 'create', '--owner', 'a', '--scope', 'bad scope'], /^keyward: "scopes" contains an invalid scope/],
      [['keys', 'create', '--owner', 'a', '--metadata', '[1]'], /^keyward: --metadata must be a JSON object\n$/],
      [['keys', 'revoke-before', 'yesterday'], /^keyward: <date> must be a date/],
      [['keys', 'import', '--owner', 'a'], /^keyward: give exactly one of --key-stdin, --sha256 and --file\n$/],
      [['keys', 'import', '--owner', 'a', '--sha256', 'abc'], /^keyward: the key: "sha256" must be 64 hexadecimal digits\n$/],
      [['keys', 'list', '--state', 'weird'], /^keyward: option '--state <state>' argument 'weird' is invalid/],
      [['keys', 'frobnicate'], /^keyward: unknown command 'frobnicate'\n$/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((r, i) => {
      const [args, re] = cases[i]!;
      expect({ args, code: r.code, lines: r.stderr.trimEnd().split('\n').length }).toEqual({ args, code: 2, lines: 1 });
      expect(r.stderr).toMatch(re);
    });
  });
});

describe('keyward: store selection, connection errors, help', () => {
  it('--help works on every command', async () => {
    const subs = ['create', 'list', 'show', 'rotate', 'revoke', 'revoke-owner', 'revoke-before', 'due', 'import', 'sweep'];
    const results = await Promise.all(subs.map((sub) => cli(['keys', sub, '--help'])));
    results.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: keyward keys ${subs[i]} `));
    });
  });

  it('names the missing store, never prints a password, and exits 2', async () => {
    const none = await cli(['keys', 'list']);
    expect(none).toMatchObject({ code: 2, stdout: '', stderr: 'keyward: no key store: pass --redis URL or --database URL (or set REDIS_URL or DATABASE_URL)\n' });
    const down = await cli(['keys', 'list', '--redis', 'redis://user:s3cr3tpass@127.0.0.1:1/0']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^keyward: cannot connect to Redis at redis:\/\/127\.0\.0\.1:1\/0: /);
    expect(down.stderr).not.toContain('s3cr3tpass');
    const pg = await cli(['keys', 'list'], { env: { DATABASE_URL: 'postgres://postgres:pw0rd@127.0.0.1:1/test' } });
    expect(pg.code).toBe(2);
    expect(pg.stderr).toMatch(/^keyward: cannot connect to PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/test: /);
    expect(pg.stderr).not.toContain('pw0rd');
    const missing = await cli(['keys', 'list', '--database', DATABASE_URL, '--schema', `kwcli_missing_${tag}`]);
    expect(missing.stderr).toBe('keyward: the keyward tables do not exist in this database schema; run `keyward migrate` first\n');
    expect((await cli(['keys', 'list', '--store', 'mongo', '--redis', REDIS_URL])).stderr).toBe('keyward: --store must be "redis" or "postgres"\n');
  });

  it('migrate --json prints { schema, applied }', async () => {
    const fresh = `kwcli_json_${tag}`;
    const pg = new Pool({ connectionString: DATABASE_URL, max: 1 });
    try {
      const first = await cli(['migrate', '--database', DATABASE_URL, '--schema', fresh, '--json']);
      expect(first).toMatchObject({ code: 0, stderr: '' });
      const applied = jsonOf<{ schema: string; applied: number[] }>(first);
      expect(applied).toEqual({ schema: fresh, applied: expect.arrayContaining([1]) });
      expect(applied.applied.every((v) => Number.isInteger(v))).toBe(true);
      expect(jsonOf(await cli(['migrate', '--json'], { env: { DATABASE_URL, KEYWARD_PG_SCHEMA: fresh } }))).toEqual({ schema: fresh, applied: [] });
    } finally {
      await pg.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
      await pg.end();
    }
  });

  it('reads the store from REDIS_URL and the key prefix from KEYWARD_PREFIX', async () => {
    const prefix = `kwcli-env-${tag}`;
    const env = { REDIS_URL, KEYWARD_REDIS_PREFIX: prefix, KEYWARD_PREFIX: 'acme' };
    const created = jsonOf<{ key: string }>(await cli(['keys', 'create', '--owner', 'o', '--json'], { env }));
    expect(created.key.startsWith('acme_live_')).toBe(true);
    const client = new Redis(REDIS_URL);
    const keys = await client.keys(`{${prefix}}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await client.del(...keys);
    await client.quit();
  });
});
