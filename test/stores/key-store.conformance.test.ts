/**
 * The store conformance suite: the same scenarios against every KeyStore (memory, Redis, PostgreSQL, and the
 * Redis/PostgreSQL stores with encryption at rest) and every RevocationStore. A store is done when this passes.
 */
import { createKeyward, MemoryRevocationStore, type KeyRecord, type KeyStore, type RevocationStore } from '@keyward/core';
import { KEY_STORE_BACKENDS, REVOCATION_BACKENDS, errorCodeOf, type RevocationBackend } from './support';

const T0 = Date.parse('2026-03-01T10:00:00Z');
let seq = 0;

/** A full record with every optional field, including empty arrays and nested objects. */
function record(over: Partial<KeyRecord> = {}): KeyRecord {
  seq++;
  const id = over.id ?? `key_${String(seq).padStart(6, '0')}`;
  return {
    id,
    hash: `${'ab'.repeat(28)}${String(seq).padStart(8, '0')}`,
    hashVersion: 'sha256-v1',
    hint: 'kw_live_…A1b2',
    prefix: 'kw',
    env: 'live',
    owner: 'acme',
    name: `key ${seq} — ünïcode ✓`,
    scopes: ['docs:read', 'users:*'],
    plan: 'pro',
    restrictions: { ip: { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: [] }, referrers: { allow: [] } },
    limits: { burst: { points: 500 } },
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 86_400_000,
    lifetimeMs: 86_400_000,
    metadata: { team: 'a', nested: { list: [1, 'two', null, { x: true }], empty: {} }, emptyList: [] },
    ...over,
  };
}


describe.each(KEY_STORE_BACKENDS)('KeyStore conformance: $name', (backend) => {
  let store: KeyStore;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await backend.make());
  });
  afterAll(() => cleanup());

  it('create, get and findByHash return the record exactly', async () => {
    const r = record();
    await store.create(r);
    expect(await store.get(r.id)).toEqual(r);
    expect(await store.findByHash(r.hash)).toEqual(r);
    const minimal = record({ name: undefined, plan: undefined, restrictions: undefined, limits: undefined, expiresAt: undefined, lifetimeMs: undefined, scopes: [], metadata: {} });
    const clean = JSON.parse(JSON.stringify(minimal)) as KeyRecord;
    await store.create(clean);
    expect(await store.get(clean.id)).toEqual(clean);
    expect(await store.findByHash(clean.hash)).toEqual(clean);
  });

  it('unknown id and hash: undefined', async () => {
    expect(await store.get('key_nope')).toBeUndefined();
    expect(await store.findByHash('f'.repeat(64))).toBeUndefined();
    expect(await store.update('key_nope', { name: 'x' })).toBeUndefined();
    expect(await store.delete('key_nope')).toBe(false);
  });

  it('returned records are copies', async () => {
    const r = record();
    await store.create(r);
    const got = (await store.get(r.id)) as unknown as { scopes: string[]; metadata: Record<string, unknown> };
    got.scopes.push('admin');
    got.metadata['team'] = 'evil';
    expect(await store.get(r.id)).toEqual(r);
  });

  it('conflicts: same id or same hash fails with KEY_CONFLICT and changes nothing', async () => {
    const r = record({ owner: 'conflicts' });
    await store.create(r);
    expect(await errorCodeOf(store.create(record({ id: r.id, owner: 'conflicts' })))).toBe('KEY_CONFLICT');
    expect(await errorCodeOf(store.create(record({ hash: r.hash, owner: 'conflicts' })))).toBe('KEY_CONFLICT');
    expect(await store.get(r.id)).toEqual(r);
    expect((await store.list({ owner: 'conflicts', limit: 10 })).items.map((x) => x.id)).toEqual([r.id]);
  });

  it('concurrent creates of one hash: exactly one wins', async () => {
    const hash = 'c'.repeat(64);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => errorCodeOf(store.create(record({ hash, owner: 'race', id: `key_race_${i}` })))));
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    expect(results.filter((r) => r === 'KEY_CONFLICT')).toHaveLength(7);
    expect((await store.list({ owner: 'race', limit: 100 })).items).toHaveLength(1);
  });

  it('list: ordered by id (code point order), paginated, each record once', async () => {
    const ids = ['key_Zeta', 'key_alpha', 'key_Alpha', 'key_beta', 'key_0', 'key_a0', 'key_B'];
    for (const id of ids) await store.create(record({ id, owner: 'pager' }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ owner: 'pager', limit: 3, ...(cursor !== undefined ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toEqual([...ids].sort());
    expect(pages).toBe(3);
    const exact = await store.list({ owner: 'pager', limit: 7 });
    expect(exact.items).toHaveLength(7);
    expect(exact.nextCursor).toBeUndefined();
    expect(exact.items.find((r) => r.id === 'key_B')).toEqual(expect.objectContaining({ owner: 'pager', scopes: ['docs:read', 'users:*'] }));
  });

  it('list without owner covers every owner; unknown owner is empty', async () => {
    await store.create(record({ owner: 'other-owner' }));
    const all: KeyRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(all.some((r) => r.owner === 'other-owner')).toBe(true);
    expect(all.some((r) => r.owner === 'pager')).toBe(true);
    expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort());
    expect(await store.list({ owner: 'nobody', limit: 10 })).toEqual({ items: [] });
  });

  it('update: shallow patch, undefined removes, the result and later reads agree', async () => {
    const r = record();
    await store.create(r);
    const next = await store.update(r.id, { name: 'renamed', plan: undefined, metadata: { only: 1 }, updatedAt: T0 + 1 });
    const { plan: _plan, ...rest } = r;
    const expected = { ...rest, name: 'renamed', metadata: { only: 1 }, updatedAt: T0 + 1 };
    expect(next).toEqual(expected);
    expect(await store.get(r.id)).toEqual(expected);
    expect(await store.findByHash(r.hash)).toEqual(expected);
  });

  it('revoke (status change) is seen by findByHash at once', async () => {
    const r = record();
    await store.create(r);
    await store.update(r.id, { status: 'revoked', revokedAt: T0 + 5, revokedReason: 'leaked', updatedAt: T0 + 5 });
    expect(await store.findByHash(r.hash)).toMatchObject({ status: 'revoked', revokedAt: T0 + 5, revokedReason: 'leaked' });
  });

  it('changing the owner moves the key between owner lists', async () => {
    const r = record({ owner: 'from-owner' });
    await store.create(r);
    await store.update(r.id, { owner: 'to-owner' });
    expect((await store.list({ owner: 'from-owner', limit: 10 })).items).toEqual([]);
    expect((await store.list({ owner: 'to-owner', limit: 10 })).items.map((x) => x.id)).toEqual([r.id]);
  });

  it('concurrent patches of different fields all land', async () => {
    const r = record();
    await store.create(r);
    await Promise.all([
      store.update(r.id, { name: 'n1' }),
      store.update(r.id, { plan: 'enterprise' }),
      store.update(r.id, { lastUsedAt: T0 + 10 }),
      store.update(r.id, { status: 'disabled', disabledReason: 'abuse' }),
      store.update(r.id, { graceEndsAt: T0 + 20 }),
      store.update(r.id, { scopes: ['a:b'] }),
      store.update(r.id, { expiresAt: undefined }),
      store.update(r.id, { metadata: { m: 2 } }),
    ]);
    expect(await store.get(r.id)).toMatchObject({ name: 'n1', plan: 'enterprise', lastUsedAt: T0 + 10, status: 'disabled', disabledReason: 'abuse', graceEndsAt: T0 + 20, scopes: ['a:b'], metadata: { m: 2 } });
    expect((await store.get(r.id))!.expiresAt).toBeUndefined();
  });

  it('a conditional update lands only while its condition holds, and of concurrent ones exactly one wins', async () => {
    const r = record();
    await store.create(r);
    const claim = (to: string) => store.update(r.id, { rotatedTo: to, graceEndsAt: T0 + 1000 }, { status: 'active', absent: ['rotatedTo', 'graceEndsAt'] });
    const outcomes = await Promise.allSettled(['key_a', 'key_b', 'key_c', 'key_d'].map(claim));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('KEY_CONFLICT');
    const won = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<KeyRecord>).value.rotatedTo;
    expect((await store.get(r.id))!.rotatedTo).toBe(won);
    // A status condition: a revoked record is not patched; a record that meets it is.
    const other = record();
    await store.create(other);
    await store.update(other.id, { status: 'revoked' });
    expect(await errorCodeOf(store.update(other.id, { name: 'x' }, { status: 'active' }))).toBe('KEY_CONFLICT');
    expect((await store.get(other.id))!.name).toBe(other.name);
    expect((await store.update(other.id, { name: 'y' }, { status: 'revoked', absent: ['rotatedTo'] }))!.name).toBe('y');
    expect(await store.update('key_nope', { name: 'x' }, { status: 'active' })).toBeUndefined();
  });

  it('an "equals" condition on notified: the patch lands only while the field holds the value read, and of concurrent claims one wins', async () => {
    const r = record();
    await store.create(r);
    const first = await store.update(r.id, { notified: { idle: T0 } }, { status: 'active', absent: ['notified'] });
    expect(await errorCodeOf(store.update(r.id, { notified: { idle: T0 + 1 } }, { absent: ['notified'] }))).toBe('KEY_CONFLICT');
    const read = first!.notified!;
    const claim = (at: number) => store.update(r.id, { notified: { ...read, expiring: at } }, { status: 'active', equals: { notified: read } });
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((i) => claim(T0 + i)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code?: string }).code).toBe('KEY_CONFLICT');
    const now = (await store.get(r.id))!.notified!;
    expect(now.idle).toBe(T0);
    // The value as now stored meets the condition; another value (a subset, a superset) does not.
    expect((await store.update(r.id, { name: 'n' }, { equals: { notified: now } }))!.name).toBe('n');
    expect(await errorCodeOf(store.update(r.id, { name: 'x' }, { equals: { notified: { idle: T0 } } }))).toBe('KEY_CONFLICT');
    expect(await errorCodeOf(store.update(r.id, { name: 'x' }, { equals: { notified: { ...now, expired: T0 } } }))).toBe('KEY_CONFLICT');
    expect((await store.get(r.id))!.name).toBe('n');
  });

  it('an "equals" condition on rotatedTo: a failed rotation lifts its claim only while the old key names its new key', async () => {
    const r = record();
    await store.create(r);
    expect(await errorCodeOf(store.update(r.id, { graceEndsAt: undefined }, { equals: { rotatedTo: 'key_new' } }))).toBe('KEY_CONFLICT'); // absent
    await store.update(r.id, { rotatedTo: 'key_other', graceEndsAt: T0 });
    expect(await errorCodeOf(store.update(r.id, { rotatedTo: undefined, graceEndsAt: undefined }, { status: 'active', equals: { rotatedTo: 'key_new' } }))).toBe('KEY_CONFLICT');
    await store.update(r.id, { rotatedTo: 'key_new' });
    const lifted = await store.update(r.id, { rotatedTo: undefined, graceEndsAt: undefined }, { status: 'active', equals: { rotatedTo: 'key_new' } });
    expect(lifted).not.toHaveProperty('rotatedTo');
    expect(lifted).not.toHaveProperty('graceEndsAt');
  });

  it('many concurrent patches of the same field: the record stays whole', async () => {
    const r = record();
    await store.create(r);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.update(r.id, { lastUsedAt: T0 + i })));
    const got = await store.get(r.id);
    expect(got!.lastUsedAt).toBeGreaterThanOrEqual(T0);
    expect({ ...got, lastUsedAt: undefined }).toEqual({ ...r, lastUsedAt: undefined });
  });

  it('delete removes the record and its indexes; the hash can be used again', async () => {
    const r = record({ owner: 'deleter' });
    await store.create(r);
    expect(await store.delete(r.id)).toBe(true);
    expect(await store.delete(r.id)).toBe(false);
    expect(await store.get(r.id)).toBeUndefined();
    expect(await store.findByHash(r.hash)).toBeUndefined();
    expect((await store.list({ owner: 'deleter', limit: 10 })).items).toEqual([]);
    await store.create(record({ hash: r.hash, owner: 'deleter' }));
    expect((await store.findByHash(r.hash))!.owner).toBe('deleter');
  });

  it('concurrent update and delete: the record is either gone or whole', async () => {
    const r = record();
    await store.create(r);
    const [, deleted] = await Promise.all([store.update(r.id, { name: 'late' }), store.delete(r.id)]);
    expect(deleted).toBe(true);
    expect(await store.get(r.id)).toBeUndefined();
    expect(await store.findByHash(r.hash)).toBeUndefined();
  });

  it('a recoverable key (sealed field) is stored only with encryption at rest, and read back only by get()', async () => {
    const r = record({ sealed: { key: 'kw_live_plaintextvalue' } });
    if (backend.name === 'memory') return; // the memory store keeps records in this process only
    if (!backend.encrypted) {
      expect(await errorCodeOf(store.create(r))).toBe('INVALID_ARGUMENT');
      expect(await store.get(r.id)).toBeUndefined();
      return;
    }
    await store.create(r);
    expect((await store.get(r.id))!.sealed).toEqual({ key: 'kw_live_plaintextvalue' });
    expect((await store.findByHash(r.hash))!.sealed).toBeUndefined();
    expect((await store.update(r.id, { name: 'x' }))!.sealed).toBeUndefined();
  });

  it('through keyward, text not every store keeps alike (NUL, unpaired surrogates) is refused alike, before the store', async () => {
    // PostgreSQL refuses NUL and stores an unpaired surrogate as U+FFFD; Redis and memory keep both. So the manager
    // refuses them, and a key behaves the same on every store.
    const kw = createKeyward({ store });
    const message = /must not contain a NUL character or an unpaired surrogate/;
    const { record: made } = await kw.keys.create({ owner: 'acme' });
    for (const bad of ['a\u0000b', 'a\ud800b', '\udc00']) {
      await expect(kw.keys.create({ owner: bad })).rejects.toThrow(message);
      await expect(kw.keys.create({ owner: 'acme', name: bad })).rejects.toThrow(message);
      await expect(kw.keys.create({ owner: 'acme', metadata: { nested: [{ [bad]: 1 }] } })).rejects.toThrow(message);
      await expect(kw.keys.create({ owner: 'acme', metadata: { x: bad } })).rejects.toThrow(message);
      await expect(kw.keys.update(made.id, { metadata: { x: bad } })).rejects.toThrow(message);
      await expect(kw.keys.list({ owner: bad })).rejects.toThrow(message);
      await expect(kw.keys.list({ cursor: bad })).rejects.toThrow(message);
      await expect(kw.keys.get(`key_${bad}`)).rejects.toThrow(message);
      await expect(kw.keys.revoke(`key_${bad}`)).rejects.toThrow(message);
      await expect(kw.keys.revokeOwner(bad)).rejects.toThrow(message);
    }
    const emoji = await kw.keys.create({ owner: 'acme 🔑', metadata: { note: 'ünïcode ✓ 🔑' } }); // paired surrogates are text
    expect(await kw.keys.get(emoji.record.id)).toMatchObject({ owner: 'acme 🔑', metadata: { note: 'ünïcode ✓ 🔑' } });
    await kw.close();
  });

  it('through keyward, racing changes never undo a revocation: one successor per rotation, no live key left to a revoked owner, no enable after revoke', async () => {
    const kw = createKeyward({ store });
    const owner = `race-${seq++}`;
    const { record: old } = await kw.keys.create({ owner });
    const outcomes = await Promise.allSettled([kw.keys.rotate(old.id), kw.keys.rotate(old.id), kw.keys.rotate(old.id)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as Error).message).toMatch(/cannot be rotated: it was rotated, revoked or disabled meanwhile|already rotated/);
    const live = (await kw.keys.list({ owner })).items.filter((k) => k.status === 'active' && k.id !== old.id);
    expect(live.map((k) => k.id)).toEqual([(await kw.keys.get(old.id))!.rotatedTo]);

    const victim = `incident-${seq++}`;
    const { record: key } = await kw.keys.create({ owner: victim });
    await Promise.allSettled([kw.keys.rotate(key.id), kw.keys.revokeOwner(victim, { reason: 'compromised' })]);
    expect((await kw.keys.list({ owner: victim })).items.filter((k) => k.status !== 'revoked')).toEqual([]);

    // A revocation is never undone by an enable() or a disable() that read the key before it landed.
    for (const [first, racing] of [['disable', 'enable'], [undefined, 'disable'], ['disable', 'disable']] as const) {
      const created = await kw.keys.create({ owner });
      if (first) await kw.keys.disable(created.record.id);
      await Promise.allSettled([kw.keys[racing](created.record.id), kw.keys.revoke(created.record.id, { reason: 'leaked' })]);
      expect((await kw.keys.get(created.record.id))!.status).toBe('revoked');
      const answer = await kw.check({ method: 'GET', path: '/', query: '', headers: { 'x-api-key': created.key }, remoteAddress: '192.0.2.1' });
      expect(answer.ok ? 200 : answer.code).toBe('KEY_REVOKED');
    }
    await kw.close();
  });

  it('through keyward, a key revoked already stays as it was revoked: a second revocation (a sweep, an incident) keeps its time and reason and sends no event', async () => {
    const kw = createKeyward({ store });
    const revoked: string[] = [];
    kw.on('key.revoked', (e) => { revoked.push(String(e.reason)); });
    const owner = `twice-${seq++}`;
    const { record } = await kw.keys.create({ owner });
    const first = await kw.keys.revoke(record.id, { reason: 'leaked' });
    const again = await Promise.all([kw.keys.revoke(record.id, { reason: 'other' }), kw.keys.revokeOwner(owner, { reason: 'offboarding' })]);
    const now = (await kw.keys.get(record.id))!;
    expect([now.status, now.revokedAt, now.revokedReason]).toEqual(['revoked', first.revokedAt, 'leaked']);
    expect(again[0].revokedAt).toBe(first.revokedAt);
    await kw.flushEvents();
    expect(revoked).toEqual(['leaked']);
    await expect(kw.keys.revoke('key_nope')).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    await kw.close();
  });

  it('through keyward, a look-up that read the key before its revocation does not cache it after: the next request is refused', async () => {
    // The store's answers to look-ups wait for a gate, as a network round trip would, after reading the record.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const slow: KeyStore = Object.assign(Object.create(store) as KeyStore, {
      findByHash: async (hash: string) => {
        const found = await store.findByHash(hash);
        await gate;
        return found;
      },
    });
    const kw = createKeyward({ store: slow, cache: { ttl: '1h' } });
    const { key, record: created } = await kw.keys.create({ owner: `cache-${seq++}` });
    const req = { method: 'GET', path: '/', query: '', headers: { 'x-api-key': key }, remoteAddress: '192.0.2.1' };
    const inFlight = kw.check(req); // a cache miss: it reads the key, still active, and waits at the gate
    await new Promise((r) => setTimeout(r, 20));
    await kw.keys.revoke(created.id);
    open();
    expect((await inFlight).ok).toBe(true); // it began before the revocation
    const next = await kw.check(req);
    expect(next.ok ? 200 : next.code).toBe('KEY_REVOKED'); // not answered from a cache filled by the stale read
    await kw.close();
  });
});

const REVOCATION: RevocationBackend[] = [{ name: 'memory', make: async () => ({ store: new MemoryRevocationStore(), cleanup: async () => {} }) }, ...REVOCATION_BACKENDS];

describe.each(REVOCATION)('RevocationStore conformance: $name', (backend) => {
  let store: RevocationStore;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await backend.make());
  });
  afterAll(() => cleanup());
  const now = Date.now();

  it('a revoked jti is revoked until its time, then not', async () => {
    await store.revoke('jti-a', now + 60_000);
    expect(await store.isRevoked('jti-a', now)).toBe(true);
    expect(await store.isRevoked('jti-a', now + 59_999)).toBe(true);
    expect(await store.isRevoked('jti-a', now + 60_000)).toBe(false);
  });

  it('an unknown jti is not revoked', async () => {
    expect(await store.isRevoked('jti-unknown', now)).toBe(false);
  });

  it('revoking twice keeps the later time', async () => {
    await store.revoke('jti-b', now + 120_000);
    await store.revoke('jti-b', now + 10_000);
    expect(await store.isRevoked('jti-b', now + 60_000)).toBe(true);
    await store.revoke('jti-b', now + 240_000);
    expect(await store.isRevoked('jti-b', now + 200_000)).toBe(true);
  });

  it('a revocation already in the past does not revoke', async () => {
    await store.revoke('jti-c', now - 1000);
    expect(await store.isRevoked('jti-c', now)).toBe(false);
  });

  it('jti values with odd characters are kept apart', async () => {
    await store.revoke('a:b', now + 60_000);
    expect(await store.isRevoked('a:b', now)).toBe(true);
    expect(await store.isRevoked('a', now)).toBe(false);
    expect(await store.isRevoked('a:b:', now)).toBe(false);
  });

  it('a jti with a NUL character is not revoked (and the look-up does not fail)', async () => {
    expect(await store.isRevoked('a\u0000b', now)).toBe(false);
  });

  it('a jti that is not a string is not revoked, whatever string ids are (and the look-up does not fail)', async () => {
    await store.revoke('undefined', now + 60_000);
    await store.revoke('42', now + 60_000);
    for (const jti of [undefined, null, 42, ['42'], {}]) expect(await store.isRevoked(jti as never, now)).toBe(false);
  });

  it('refuses alike what not every store can keep: a bad jti, a time that is not one (NaN once revoked forever in memory)', async () => {
    const jti = /^keyward: "jti" must be a non-empty string of at most 512 characters$/;
    const text = /^keyward: "jti" must not contain a NUL character or an unpaired surrogate$/;
    const time = /^keyward: "untilMs" must be a time in ms since the epoch$/;
    for (const [id, until, message] of [
      ['', now + 60_000, jti],
      ['x'.repeat(513), now + 60_000, jti],
      [42, now + 60_000, jti],
      ['a\u0000b', now + 60_000, text],
      ['a\uD800', now + 60_000, text],
      ['jti-nan', Number.NaN, time],
      ['jti-inf', Number.POSITIVE_INFINITY, time],
      ['jti-str', String(now + 60_000), time],
    ] as const) {
      await expect(store.revoke(id as string, until as number)).rejects.toThrow(message);
    }
    expect(await store.isRevoked('jti-nan', now)).toBe(false);
    await store.revoke('x'.repeat(512), now + 60_000); // the longest allowed
    expect(await store.isRevoked('x'.repeat(512), now)).toBe(true);
  });
});
