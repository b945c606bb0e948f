/**
 * keyward on a real Redis Cluster: three masters (no replicas) started by this file on spare loopback ports
 * (`redis-server --cluster-enabled yes`, joined with `redis-cli --cluster create`), reached through ioredis's
 * `Cluster` client. Covers the Redis key store (one hash tag per store, so its Lua scripts and MGETs stay in one
 * slot), the revocation list (entries spread over the masters), cache invalidation over classic pub/sub between two
 * instances, the audit stream, rate-limit counters (rate-limiter-flexible's Redis limiter) and `createRedisMetrics`.
 *
 * Not covered: failover, resharding of anything but the key store's slot, and replicas (no replicas here; one test
 * moves the key store's slot to another master by hand, the others run on slots that never move).
 * Without `redis-server` or `redis-cli` on the PATH the file fails, naming the missing binary; it never skips.
 */
import { randomBytes } from 'node:crypto';
import Redis, { type Cluster } from 'ioredis';
import { createKeyward, manualClock, type InvalidationChannel, type KeyChange, type KeyRecord, type KeywardEvent, type Keyward } from '@keyward/core';
import { attachAuditStream, boundedRedisOptions, createAuditStream, RedisInvalidationChannel, RedisKeyStore, RedisRevocationStore, whenReady } from '@keyward/redis';
import { createRedisMetrics } from '@keyward/monitoring';
import { errorCodeOf, testEncryption, uniqueName } from '../stores/support';
import { testCluster } from './redis-cluster';

const PROPAGATION_BOUND_MS = 3000; // generous: pub/sub on loopback takes milliseconds

const cluster = testCluster();
const clients: Cluster[] = [];
const instances: Keyward[] = [];
let admin: Cluster;

/**
 * A Cluster client as the README sets one up: no offline queue, keyward's bounded options on every node connection
 * (command timeout, one retry), the Cluster's own auto-pipelining off (see the Redis README), ready before use. One startup node; ioredis discovers the others.
 */
async function connect(): Promise<Cluster> {
  const c = new Redis.Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], {
    enableOfflineQueue: false,
    redisOptions: boundedRedisOptions({ commandTimeoutMs: 2000 }),
  });
  c.on('error', () => {}); // a test failure reports what matters; keep ioredis from printing
  clients.push(c);
  await whenReady(c, 10_000);
  return c;
}

function keyward(options: Parameters<typeof createKeyward>[0]): Keyward {
  const kw = createKeyward(options);
  instances.push(kw);
  return kw;
}

/** Keys matching `pattern`, per master (SCAN on each node: a node only lists the keys it holds). */
async function keysPerMaster(pattern: string): Promise<string[][]> {
  return Promise.all(admin.nodes('master').map(async (node) => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
    return out;
  }));
}

async function slotOf(key: string): Promise<number> {
  return Number(await admin.cluster('KEYSLOT', key));
}

async function eventually(probe: () => Promise<boolean>, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`condition not reached within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A synthetic record (its `hash` is random hex, not derived from any key). */
let seq = 0;
function record(over: Partial<KeyRecord> = {}): KeyRecord {
  seq++;
  const now = Date.now();
  return {
    id: over.id ?? `key_${String(seq).padStart(6, '0')}`,
    hash: randomBytes(32).toString('hex'),
    hashVersion: 'sha256-v1',
    hint: 'kw_live_…A1b2',
    prefix: 'kw',
    env: 'live',
    owner: 'acme',
    name: `key ${seq} — ünïcode ✓`,
    scopes: ['docs:read'],
    status: 'active',
    createdAt: now,
    updatedAt: now,
    metadata: { team: 'a', nested: { list: [1, 'two', null] } },
    ...over,
  };
}


const get = (key: string, ip = '10.0.0.1') => ({ method: 'GET', path: '/docs', headers: { 'x-api-key': key, 'user-agent': 'sdk/1' }, remoteAddress: ip });

beforeAll(async () => {
  await cluster.start();
  admin = await connect();
}, 60_000);

afterAll(async () => {
  try {
    await Promise.all(instances.map((kw) => kw.close()));
    for (const c of clients) c.disconnect();
  } finally {
    await cluster.stop();
  }
}, 30_000);

describe('Redis Cluster: the cluster under test', () => {
  it('has three masters sharing all 16384 slots', async () => {
    expect(admin.nodes('master')).toHaveLength(3);
    const info = String(await admin.cluster('INFO'));
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_slots_ok:16384/);
    const slots = (await admin.cluster('SLOTS')) as unknown as unknown[];
    expect(slots.length).toBeGreaterThanOrEqual(3);
  });
});

describe('Redis Cluster: RedisKeyStore', () => {
  const prefix = uniqueName('kwc_store');
  let store: RedisKeyStore;
  beforeAll(async () => {
    store = new RedisKeyStore({ client: await connect(), prefix });
  });

  it('create, get and findByHash return the record exactly; unknown is undefined', async () => {
    const r = record();
    await store.create(r);
    expect(await store.get(r.id)).toEqual(r);
    expect(await store.findByHash(r.hash)).toEqual(r);
    expect(await store.get('key_unknown')).toBeUndefined();
    expect(await store.findByHash(randomBytes(32).toString('hex'))).toBeUndefined();
  });

  it('conflicts: same id or same hash is KEY_CONFLICT; of concurrent creates of one hash exactly one wins', async () => {
    const r = record();
    await store.create(r);
    expect(await errorCodeOf(store.create({ ...record(), id: r.id }))).toBe('KEY_CONFLICT');
    expect(await errorCodeOf(store.create({ ...record(), hash: r.hash }))).toBe('KEY_CONFLICT');
    const hash = randomBytes(32).toString('hex');
    const results = await Promise.all(Array.from({ length: 8 }, () => errorCodeOf(store.create(record({ hash })))));
    expect(results.filter((c) => c === undefined)).toHaveLength(1);
    expect(results.filter((c) => c === 'KEY_CONFLICT')).toHaveLength(7);
  });

  it('list by owner pages in id order, each record once; without owner covers every owner', async () => {
    const owner = uniqueName('pages');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = record({ id: `key_${owner}_${i}`, owner });
      ids.push(r.id);
      await store.create(r);
    }
    await store.create(record({ owner: `${owner}_other` }));
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ owner, limit: 3, ...(cursor !== undefined ? { cursor } : {}) });
      sizes.push(page.items.length);
      seen.push(...page.items.map((r) => r.id));
      expect(page.items.every((r) => r.owner === owner)).toBe(true);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...ids].sort());
    const all: string[] = [];
    cursor = undefined;
    do {
      const page = await store.list({ limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
      all.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(all).toEqual(expect.arrayContaining([...ids, `key_${String(seq).padStart(6, '0')}`]));
    expect(new Set(all).size).toBe(all.length);
  });

  it('update: a shallow patch lands, undefined removes a field, an owner change moves the key between owner lists', async () => {
    const owner = uniqueName('mover');
    const r = record({ owner, plan: 'pro' });
    await store.create(r);
    const updated = await store.update(r.id, { name: 'renamed', plan: undefined });
    expect(updated).toMatchObject({ id: r.id, name: 'renamed' });
    expect(updated).not.toHaveProperty('plan');
    expect(await store.get(r.id)).toEqual(updated);
    await store.update(r.id, { owner: `${owner}_new` });
    expect((await store.list({ owner, limit: 10 })).items).toEqual([]);
    expect((await store.list({ owner: `${owner}_new`, limit: 10 })).items.map((x) => x.id)).toEqual([r.id]);
    expect(await store.update('key_unknown', { name: 'x' })).toBeUndefined();
  });

  it('concurrent updates of different fields all land', async () => {
    const r = record();
    await store.create(r);
    await Promise.all([
      store.update(r.id, { name: 'n2' }),
      store.update(r.id, { plan: 'enterprise' }),
      store.update(r.id, { scopes: ['docs:read', 'docs:write'] }),
      store.update(r.id, { metadata: { team: 'b' } }),
      store.update(r.id, { status: 'disabled', disabledReason: 'test' }),
      store.update(r.id, { expiresAt: r.createdAt + 60_000 }),
    ]);
    expect(await store.get(r.id)).toEqual({
      ...r,
      name: 'n2',
      plan: 'enterprise',
      scopes: ['docs:read', 'docs:write'],
      metadata: { team: 'b' },
      status: 'disabled',
      disabledReason: 'test',
      expiresAt: r.createdAt + 60_000,
    });
  });

  it('delete removes the record and its indexes; the hash can be used again; deleting twice is false', async () => {
    const owner = uniqueName('gone');
    const r = record({ owner });
    await store.create(r);
    expect(await store.delete(r.id)).toBe(true);
    expect(await store.get(r.id)).toBeUndefined();
    expect(await store.findByHash(r.hash)).toBeUndefined();
    expect((await store.list({ owner, limit: 10 })).items).toEqual([]);
    expect(await store.delete(r.id)).toBe(false);
    await store.create(record({ hash: r.hash, owner }));
  });

  it('encryption at rest and reencrypt() work through the cluster client', async () => {
    const client = await connect();
    const encPrefix = uniqueName('kwc_enc');
    const plain = new RedisKeyStore({ client, prefix: encPrefix });
    const r = record();
    await plain.create(r);
    const sealed = new RedisKeyStore({ client, prefix: encPrefix, encryption: testEncryption() });
    expect(await sealed.reencrypt({ batchSize: 2 })).toEqual({ scanned: 1, rewritten: 2 });
    expect(await sealed.get(r.id)).toEqual(r);
  });

  it('every key of the store is in one slot (one hash tag), on one master', async () => {
    const perMaster = await keysPerMaster(`{${prefix}}*`);
    const holding = perMaster.filter((keys) => keys.length > 0);
    expect(holding).toHaveLength(1);
    const keys = holding[0]!;
    expect(keys.length).toBeGreaterThan(20);
    const slots = new Set(await Promise.all(keys.map(slotOf)));
    expect(slots.size).toBe(1);
  });
});

describe('Redis Cluster: RedisRevocationStore', () => {
  const prefix = uniqueName('kwc_revoked');
  let store: RedisRevocationStore;
  beforeAll(async () => {
    store = new RedisRevocationStore({ client: await connect(), prefix });
  });

  it('revoke and isRevoked; an unknown jti is not revoked; revoking twice keeps the later time', async () => {
    const now = Date.now();
    await store.revoke('jti-a', now + 60_000);
    expect(await store.isRevoked('jti-a', now)).toBe(true);
    expect(await store.isRevoked('jti-a', now + 60_001)).toBe(false);
    expect(await store.isRevoked('jti-unknown', now)).toBe(false);
    await store.revoke('jti-a', now + 120_000);
    await store.revoke('jti-a', now + 30_000);
    expect(await store.isRevoked('jti-a', now + 90_000)).toBe(true);
  });

  it('entries expire in Redis once they no longer matter', async () => {
    const short = new RedisRevocationStore({ client: admin, prefix, graceMs: 0 });
    await short.revoke('jti-short', Date.now() + 300);
    expect(await short.isRevoked('jti-short', Date.now())).toBe(true);
    const ttl = await admin.pttl(`${prefix}:revoked:jti-short`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(302);
    await eventually(async () => (await admin.exists(`${prefix}:revoked:jti-short`)) === 0, 5000);
    expect(await short.isRevoked('jti-short', 0)).toBe(false);
  });

  it('entries spread over the masters (no hash tag), and each is found wherever it landed', async () => {
    const until = Date.now() + 60_000;
    const jtis = Array.from({ length: 30 }, (_, i) => `spread-${i}`);
    await Promise.all(jtis.map((j) => store.revoke(j, until)));
    expect(await Promise.all(jtis.map((j) => store.isRevoked(j, Date.now())))).toEqual(jtis.map(() => true));
    const perMaster = await keysPerMaster(`${prefix}:revoked:spread-*`);
    expect(perMaster.flat()).toHaveLength(30);
    expect(perMaster.filter((keys) => keys.length > 0).length).toBeGreaterThanOrEqual(2);
  });
});

/** Wraps a channel to tell when its first subscription is in place (after `onReset`), so tests need no sleeps. */
function observed(inner: InvalidationChannel): { channel: InvalidationChannel; subscribed: Promise<void> } {
  let resolve!: () => void;
  const subscribed = new Promise<void>((r) => (resolve = r));
  return {
    subscribed,
    channel: {
      publish: (change: KeyChange) => inner.publish(change),
      subscribe: (onChange, onReset) => inner.subscribe(onChange, () => {
        onReset();
        resolve();
      }),
    },
  };
}

describe('Redis Cluster: RedisInvalidationChannel between two instances', () => {
  const prefix = uniqueName('kwc_inv');
  const channel = `${prefix}:invalidate`;
  let a: Keyward;
  let b: Keyward;
  let store: RedisKeyStore;

  beforeAll(async () => {
    const ca = await connect();
    const cb = await connect();
    store = new RedisKeyStore({ client: ca, prefix });
    const oa = observed(new RedisInvalidationChannel({ client: ca, channel }));
    const ob = observed(new RedisInvalidationChannel({ client: cb, channel }));
    a = keyward({ store, invalidation: oa.channel });
    // b caches keys for an hour: a change made through a can only reach b through invalidation
    b = keyward({ store: new RedisKeyStore({ client: cb, prefix }), invalidation: ob.channel, cache: { ttl: '1h' } });
    await Promise.all([oa.subscribed, ob.subscribed]);
  });

  it('a revocation through one instance is refused by the other within the bound', async () => {
    const { key, record: r } = await a.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    expect((await b.check(get(key))).ok).toBe(true); // cached in b now
    await a.keys.revoke(r.id, { reason: 'leaked' });
    const took = await eventually(async () => {
      const d = await b.check(get(key));
      return !d.ok && d.code === 'KEY_REVOKED';
    }, PROPAGATION_BOUND_MS);
    expect(took).toBeLessThan(PROPAGATION_BOUND_MS);
  });

  it('a message published on any master reaches the subscriber (classic pub/sub is cluster-wide)', async () => {
    for (const node of admin.nodes('master')) {
      const { key, record: r } = await a.keys.create({ owner: 'acme' });
      expect((await b.check(get(key))).ok).toBe(true);
      // change the store without publishing: b keeps answering from its cache…
      await store.update(r.id, { status: 'disabled', disabledReason: 'test' });
      expect((await b.check(get(key))).ok).toBe(true);
      // …until an invalidation arrives, here published through this one node
      await node.publish(channel, JSON.stringify({ id: r.id }));
      await eventually(async () => {
        const d = await b.check(get(key));
        return !d.ok && d.code === 'KEY_DISABLED';
      }, PROPAGATION_BOUND_MS);
    }
  });
});

describe('Redis Cluster: audit stream', () => {
  const stream = uniqueName('kwc_audit');

  it('attachAuditStream appends every event of the instance to the stream', async () => {
    const client = await connect();
    const kw = keyward({});
    const seen: KeywardEvent[] = [];
    kw.on('*', (e) => void seen.push(e));
    const sink = attachAuditStream(kw, { client, stream });
    const { key } = await kw.keys.create({ owner: 'acme' });
    await kw.check(get(key));
    await kw.check(get('not-a-key'));
    await kw.flushEvents();
    await sink.flush();
    await sink.close();
    const entries = await admin.xrange(stream, '-', '+');
    expect(entries).toHaveLength(seen.length);
    expect(sink.written).toBe(seen.length);
    const types = entries.map(([, fields]) => fields[fields.indexOf('type') + 1]);
    expect(types).toEqual(seen.map((e) => e.type));
    expect(types).toEqual(expect.arrayContaining(['key.created', 'auth.succeeded', 'auth.failed']));
    const events = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1]!) as KeywardEvent);
    expect(events).toEqual(seen.map((e) => JSON.parse(JSON.stringify(e))));
  });

  it('createAuditStream writes in pipelined batches, in order', async () => {
    const sink = createAuditStream({ client: await connect(), stream: `${stream}:batches`, batchSize: 7 });
    const events = Array.from({ length: 50 }, (_, i) => ({ schema: 1, type: 'key.updated', time: new Date().toISOString(), keyId: `key_${i}` }) as unknown as KeywardEvent);
    for (const e of events) sink.listener(e);
    await eventually(async () => sink.written === 50, 5000);
    await sink.close();
    const entries = await admin.xrange(`${stream}:batches`, '-', '+');
    expect(entries.map(([, f]) => (JSON.parse(f[3]!) as KeywardEvent).keyId)).toEqual(events.map((e) => e.keyId));
  });
});

describe('Redis Cluster: rate limits counted in Redis', () => {
  const prefix = uniqueName('kwc_rl');
  const N = 5;
  const EXTRA = 7;

  it(`allows exactly ${N} of ${N + EXTRA} parallel requests per key, over two instances, with counters spread over the masters`, async () => {
    const clock = manualClock(Date.now()); // one fixed window: no window boundary can split the count
    const [c1, c2] = [await connect(), await connect()];
    const store = new RedisKeyStore({ client: c1, prefix });
    const limits = (client: Cluster) => ({ rules: { burst: { points: N, window: '1h' } }, store: { redis: client, prefix: `${prefix}:rl` }, storeFailure: 'deny' as const, storeTimeout: '2s' });
    const k1 = keyward({ clock, store, limits: limits(c1) });
    const k2 = keyward({ clock, store: new RedisKeyStore({ client: c2, prefix }), limits: limits(c2) });
    const keys = await Promise.all(Array.from({ length: 12 }, () => k1.keys.create({ owner: 'limited' })));
    await Promise.all(keys.map(async ({ key }) => {
      const decisions = await Promise.all(Array.from({ length: N + EXTRA }, (_, i) => (i % 2 ? k1 : k2).check(get(key))));
      expect(decisions.filter((d) => d.ok)).toHaveLength(N);
      const refused = decisions.filter((d) => !d.ok);
      expect(refused).toHaveLength(EXTRA);
      expect(refused.every((d) => !d.ok && d.code === 'RATE_LIMITED' && d.status === 429)).toBe(true);
    }));
    const perMaster = await keysPerMaster(`${prefix}:rl*`);
    expect(perMaster.flat().length).toBeGreaterThanOrEqual(keys.length);
    expect(perMaster.filter((k) => k.length > 0).length).toBeGreaterThanOrEqual(2);
  });
});

describe('Redis Cluster: createRedisMetrics', () => {
  const prefix = `${uniqueName('kwc_metrics')}:`;

  it('adds up what two instances saw; forKey and top read it back', async () => {
    const clock = manualClock(Date.now());
    const store = new RedisKeyStore({ client: await connect(), prefix: uniqueName('kwc_mstore') });
    const a = keyward({ clock, store });
    const b = keyward({ clock, store });
    const ma = createRedisMetrics({ client: await connect(), prefix, keyward: a, clock, flushInterval: '1h' });
    const mb = createRedisMetrics({ client: await connect(), prefix, keyward: b, clock, flushInterval: '1h' });
    try {
      const { key, record: r } = await a.keys.create({ owner: 'acme', plan: 'pro' });
      const other = await a.keys.create({ owner: 'beta' });
      const call = async (kw: Keyward, k: string, ip: string, status: number) => {
        const d = await kw.check(get(k, ip));
        if (d.ok) d.done({ status, bytes: 100 });
      };
      await call(a, key, '10.0.0.1', 200);
      await call(a, key, '10.0.0.2', 404);
      await call(b, key, '10.0.0.1', 200);
      await call(b, key, '10.0.0.3', 500);
      await call(b, other.key, '10.0.0.9', 200);
      await Promise.all([a.flushEvents(), b.flushEvents()]);
      await Promise.all([ma.flush(), mb.flush()]);
      const m = await mb.forKey(r.id);
      expect(m).toMatchObject({ keyId: r.id, owner: 'acme', plan: 'pro' });
      const h = m!.windows.hour;
      expect({ requests: h.requests, status: h.status, bytes: h.bytes }).toEqual({ requests: 4, status: { '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 1, '5xx': 1 }, bytes: 400 });
      expect(h.addresses).toEqual({ distinct: 3, top: [{ value: '10.0.0.1', count: 2 }, { value: '10.0.0.2', count: 1 }, { value: '10.0.0.3', count: 1 }] });
      expect(await ma.top({ by: 'requests', window: 'hour' })).toEqual([{ keyId: r.id, owner: 'acme', value: 4 }, { keyId: other.record.id, owner: 'beta', value: 1 }]);
      // on a Cluster, every key of one prefix shares a hash tag (pipelines, ZUNION and PFCOUNT need one slot)
      const perMaster = await keysPerMaster(`{${prefix}}*`);
      const holding = perMaster.filter((k) => k.length > 0);
      expect(holding).toHaveLength(1);
      expect(new Set(await Promise.all(holding[0]!.map(slotOf))).size).toBe(1);
    } finally {
      await Promise.all([ma.close(), mb.close()]);
    }
  });

  it('a prefix with its own hash tag is kept as given', async () => {
    const tagged = `{${uniqueName('kwc_mtag')}}:metrics:`;
    const clock = manualClock(Date.now());
    const kw = keyward({ clock });
    const m = createRedisMetrics({ client: await connect(), prefix: tagged, keyward: kw, clock, flushInterval: '1h' });
    try {
      const { key, record: r } = await kw.keys.create({ owner: 'acme' });
      const d = await kw.check(get(key));
      if (d.ok) d.done({ status: 200, bytes: 10 });
      await kw.flushEvents();
      await m.flush();
      expect((await m.forKey(r.id))?.windows.minute.requests).toBe(1);
      const keys = (await keysPerMaster(`${tagged}*`)).filter((k) => k.length > 0);
      expect(keys).toHaveLength(1);
      expect(keys[0]!.every((k) => k.startsWith(tagged))).toBe(true);
    } finally {
      await m.close();
    }
  });
});

describe('Redis Cluster: RedisKeyStore while its slot moves to another master', () => {
  it('finds a key whose indexes moved before its record: every key a look-up reads is declared, so the node answers TRYAGAIN (followed), not a script error', async () => {
    const prefix = uniqueName('kwc_move');
    const tag = `{${prefix}}`;
    const kw = keyward({ store: new RedisKeyStore({ client: await connect(), prefix }), cache: false, storeTimeout: '10s' });
    const { key, record: r } = await kw.keys.create({ owner: 'acme' });
    const slot = await slotOf(tag);
    const masters = admin.nodes('master');
    const counts = await Promise.all(masters.map((n) => n.cluster('COUNTKEYSINSLOT', slot)));
    const source = masters[counts.findIndex((n) => Number(n) > 0)]!;
    const target = masters.find((n) => n !== source)!;
    const [sourceId, targetId] = [String(await source.cluster('MYID')), String(await target.cluster('MYID'))];
    const hash = (await source.get(`${tag}:id:${r.id}`))!;
    const move = (keys: string[]) => source.migrate('127.0.0.1', target.options.port!, '', 0, 5000, 'KEYS', ...keys);
    await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId);
    await source.cluster('SETSLOT', slot, 'MIGRATING', targetId);
    await move([`${tag}:id:${r.id}`, `${tag}:owner:acme`]); // the indexes are on the target; the record and ids not yet
    const finish = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await move([`${tag}:k:${hash}`, `${tag}:ids`]);
      for (const node of [target, source, ...masters.filter((n) => n !== source && n !== target)]) await node.cluster('SETSLOT', slot, 'NODE', targetId);
    })();
    const [decision, byId] = await Promise.all([kw.check(get(key)), kw.keys.get(r.id), finish]);
    expect(decision).toMatchObject({ ok: true });
    expect(byId).toMatchObject({ id: r.id, owner: 'acme' });
    expect((await kw.check(get(key))).ok).toBe(true); // and from its new master
  });
});

describe('Redis Cluster: RedisKeyStore when an index is lost', () => {
  it('a record missing from its id index, ids or owner index is not found by hash or id (the declared look-up checks them as the standalone one does)', async () => {
    const prefix = uniqueName('kwc_lost');
    const tag = `{${prefix}}`;
    const store = new RedisKeyStore({ client: await connect(), prefix });
    const lose: Record<string, (r: KeyRecord) => Promise<unknown>> = {
      ids: (r) => admin.zrem(`${tag}:ids`, r.id),
      'owner index': (r) => admin.zrem(`${tag}:owner:${r.owner}`, r.id),
      'id index': (r) => admin.set(`${tag}:id:${r.id}`, randomBytes(32).toString('hex')),
    };
    for (const [what, remove] of Object.entries(lose)) {
      const r = record({ owner: 'ac"me {x}' });
      await store.create(r);
      expect(await store.findByHash(r.hash)).toEqual(r);
      await remove(r);
      expect([what, await store.findByHash(r.hash), await store.get(r.id)]).toEqual([what, undefined, undefined]);
    }
  });
});
