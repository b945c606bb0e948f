import { randomUUID, randomBytes, createHash } from 'node:crypto';
import { withoutChannel } from '../../../../test/setup/leak-guard';
import { createKeyward, generateKey, manualClock, MemoryKeyStore, type KeywardEvent, type KeywardOptions, type InvalidationChannel, type KeyChange, type KeyPatch, type KeyRecord, type UpdateCondition } from '../index';

const DAY = 86_400_000;
const START = Date.parse('2026-03-01T10:00:00Z');

function setup(options: KeywardOptions = {}) {
  const clock = manualClock(START);
  const kw = createKeyward({ clock, ...options });
  const events: KeywardEvent[] = [];
  kw.on('*', (e) => { events.push(e); });
  const call = (key: string) => kw.check({ method: 'GET', path: '/x', headers: { 'x-api-key': key }, remoteAddress: '10.1.2.3' });
  const flush = async () => { await new Promise((r) => setImmediate(r)); await kw.flushEvents(); };
  return { kw, clock, events, call, flush };
}

describe('keys.rotate', () => {
  it('creates a new key inheriting everything, links both, and keeps the old one working with deprecation headers', async () => {
    const { kw, clock, call, events, flush } = setup({ keyPolicy: { rotationDocs: 'https://docs.example.com/rotation' } });
    const old = await kw.keys.create({ owner: 'acme', name: 'ci', scopes: ['docs:read'], plan: 'pro', expiresIn: '30d', metadata: { team: 'a' }, limits: { burst: { points: 5 } }, restrictions: { ip: { allow: ['10.0.0.0/8'] } }, env: 'test' });
    clock.advance(10 * DAY);
    const rotated = await kw.keys.rotate(old.record.id, { gracePeriod: '24h' });
    const n = rotated.record;
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.key.startsWith('kw_test_')).toBe(true);
    expect(n).toMatchObject({ owner: 'acme', name: 'ci', scopes: ['docs:read'], plan: 'pro', metadata: { team: 'a' }, limits: { burst: { points: 5 } }, restrictions: { ip: { allow: ['10.0.0.0/8'] } }, rotatedFrom: old.record.id, lifetimeMs: 30 * DAY, status: 'active' });
    expect(n.expiresAt).toBe(START + 10 * DAY + 30 * DAY);
    expect(rotated.previous).toMatchObject({ id: old.record.id, rotatedTo: n.id, graceEndsAt: START + 11 * DAY, deprecatedAt: START + 10 * DAY });

    const oldRes = await call(old.key);
    expect(oldRes.ok).toBe(true);
    expect(oldRes.headers).toEqual({
      Deprecation: `@${(START + 10 * DAY) / 1000}`,
      Sunset: 'Thu, 12 Mar 2026 10:00:00 GMT',
      Link: '<https://docs.example.com/rotation>; rel="deprecation"; type="text/html"',
    });
    const newRes = await call(rotated.key);
    expect(newRes.ok && newRes.headers).toEqual({});

    clock.advance(DAY);
    const after = await call(old.key);
    expect(after.ok).toBe(false);
    expect(!after.ok && after.code).toBe('KEY_REVOKED');
    expect((await call(rotated.key)).ok).toBe(true);

    await flush();
    const rotatedEvent = events.find((e) => e.type === 'key.rotated');
    expect(rotatedEvent).toMatchObject({ keyId: old.record.id, owner: 'acme', data: { rotatedTo: n.id, graceEndsAt: new Date(START + 11 * DAY).toISOString() } });
    expect(events.some((e) => e.type === 'key.created' && e.keyId === n.id && (e.data as { rotatedFrom?: string }).rotatedFrom === old.record.id)).toBe(true);
    expect(JSON.stringify(events)).not.toContain(rotated.key);
    await kw.close();
  });

  it('grace 0 revokes at once; a rotated, revoked or expired key cannot be rotated', async () => {
    const { kw, clock, call, events, flush } = setup();
    const a = await kw.keys.create({ owner: 'acme' });
    const r = await kw.keys.rotate(a.record.id, { gracePeriod: 0 });
    expect(r.previous).toMatchObject({ status: 'revoked', revokedReason: 'rotated', rotatedTo: r.record.id });
    const res = await call(a.key);
    expect(!res.ok && res.code).toBe('KEY_REVOKED');
    await expect(kw.keys.rotate(a.record.id)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    const b = await kw.keys.create({ owner: 'acme' });
    await kw.keys.rotate(b.record.id);
    await expect(kw.keys.rotate(b.record.id)).rejects.toThrow(/already rotated/);
    const c = await kw.keys.create({ owner: 'acme', expiresIn: '1h' });
    clock.advance(2 * 3_600_000);
    await expect(kw.keys.rotate(c.record.id)).rejects.toThrow(/expired/);
    await expect(kw.keys.rotate('key_nope')).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    // The key passed for its id (a common slip) is named as such and never shown; an odd id is quoted, a long one not shown.
    const { key } = await kw.keys.create({ owner: 'acme' });
    for (const call of [() => kw.keys.revoke(key), () => kw.keys.disable(key), () => kw.keys.rotate(key), () => kw.keys.update(key, { name: 'x' })]) {
      const error = await call().then(() => undefined, (e: Error) => e);
      expect(error).toMatchObject({ code: 'KEY_NOT_FOUND', message: 'no key with id (a key was given, not its id: not shown; pass record.id, "key_…")' });
    }
    await expect(kw.keys.revoke('key nope\n')).rejects.toMatchObject({ message: 'no key with id "key nope\\n"' });
    await expect(kw.keys.revoke('x'.repeat(60))).rejects.toMatchObject({ message: 'no key with id (a name of 60 characters, not shown: it could be a credential)' });

    // No credential is stored as text: a key or a token pasted into a name, a reason, a plan or metadata is refused, unshown.
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
    const stored = /holds a key or a token \(not shown\): keyward never stores a credential$/;
    const other = await kw.keys.create({ owner: 'acme' });
    for (const call of [
      () => kw.keys.create({ owner: 'acme', name: `old key ${key}` }),
      () => kw.keys.create({ owner: `acme:${key}` }),
      () => kw.keys.create({ owner: 'acme', metadata: { previous: key } }),
      () => kw.keys.create({ owner: 'acme', metadata: { nested: [{ idToken: token }] } }),
      () => kw.keys.update(other.record.id, { name: `x${key}` }), // glued to the word before it
      () => kw.keys.update(other.record.id, { plan: key }),
      () => kw.keys.revoke(other.record.id, { reason: `posted on GitHub: ${key}` }),
      () => kw.keys.disable(other.record.id, { reason: token }),
      () => kw.keys.revokeOwner('acme', { reason: key }),
    ]) {
      const error = await call().then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(stored);
      expect(error?.message).not.toContain(key.slice(8));
    }
    expect((await kw.keys.get(other.record.id))!.status).toBe('active'); // nothing was revoked or disabled
    // snake_case words with a long tail are not keys (no checksum): kept.
    const snake = await kw.keys.create({ owner: 'acme_prod_customerIdentifier123456', name: 'user_profile_settingsForTheMainAccountXYZ', metadata: { ref: 'team_alpha_ABCDEFGHIJKLMNOPQRSTUVWX' } });
    expect(snake.record.name).toBe('user_profile_settingsForTheMainAccountXYZ');
    await expect(kw.keys.create({ owner: 'acme', scopes: ['docs:read', key] })).rejects.toThrow('keyward: "scopes" holds a key or a token (not shown)');
    await expect(kw.keys.create({ owner: 'acme', scopes: Array.from({ length: 1001 }, (_, i) => `s${i}`) })).rejects.toThrow('keyward: "scopes" must hold at most 1000 scopes');
    expect((await kw.keys.create({ owner: 'acme', scopes: Array.from({ length: 1000 }, (_, i) => `s${i}`) })).record.scopes).toHaveLength(1000);
    // Metadata rides along in every cache entry: at most 64 KiB as JSON.
    await expect(kw.keys.create({ owner: 'acme', metadata: { x: 'a'.repeat(64 * 1024) } })).rejects.toThrow('keyward: "metadata" must be at most 64 KiB as JSON');
    await expect(kw.keys.update(snake.record.id, { metadata: { x: 'é'.repeat(40 * 1024) } })).rejects.toThrow('at most 64 KiB'); // bytes, not characters
    expect((await kw.keys.create({ owner: 'acme', metadata: { x: 'a'.repeat(60 * 1024) } })).record.metadata).toEqual({ x: 'a'.repeat(60 * 1024) });
    await expect(kw.keys.rotate(b.record.id, { gracePeriod: 'soon' })).rejects.toThrow(TypeError);
    await flush();
    expect(events.filter((e) => e.type === 'key.revoked' && e.keyId === a.record.id)).toHaveLength(1);
    await kw.close();
  });

  it('the default grace period is keyPolicy.gracePeriod (24h unless set), and never outlives the old expiry', async () => {
    const { kw, clock } = setup({ keyPolicy: { gracePeriod: '2h' } });
    const a = await kw.keys.create({ owner: 'acme' });
    expect((await kw.keys.rotate(a.record.id)).previous.graceEndsAt).toBe(START + 2 * 3_600_000);
    const b = await kw.keys.create({ owner: 'acme', expiresAt: START + 3_600_000 });
    const r = await kw.keys.rotate(b.record.id, { gracePeriod: '24h' });
    expect(r.previous.graceEndsAt).toBe(START + 3_600_000);
    expect(r.record.expiresAt).toBe(START + 3_600_000);
    clock.advance(1);
    await kw.close();
  });

  it('an absolute expiry is carried over as a lifetime of the same length', async () => {
    const { kw, clock } = setup();
    const a = await kw.keys.create({ owner: 'acme', expiresAt: START + 10 * DAY });
    clock.advance(4 * DAY);
    const r = await kw.keys.rotate(a.record.id);
    expect(r.record.expiresAt).toBe(START + 14 * DAY);
    const forever = await kw.keys.create({ owner: 'acme' });
    expect((await kw.keys.rotate(forever.record.id)).record.expiresAt).toBeUndefined();
    await kw.close();
  });

  it('a rotation inherits the expiry as keys.update() left it, not the lifetime given at creation', async () => {
    const { kw, clock } = setup();
    const a = await kw.keys.create({ owner: 'acme', expiresIn: '1d' });
    await kw.keys.update(a.record.id, { expiresAt: null });
    const r = await kw.keys.rotate(a.record.id);
    expect(r.record.expiresAt).toBeUndefined();
    expect(r.record.lifetimeMs).toBeUndefined();
    const b = await kw.keys.create({ owner: 'acme', expiresIn: '1d' });
    expect((await kw.keys.update(b.record.id, { expiresAt: START + 30 * DAY })).lifetimeMs).toBeUndefined();
    clock.advance(2 * DAY);
    expect((await kw.keys.rotate(b.record.id)).record.expiresAt).toBe(START + 32 * DAY);
    await kw.close();
  });

  it('a key whose expiry is more than 100 years after its creation can be rotated (expiresIn would refuse the lifetime)', async () => {
    const { kw, clock } = setup();
    const far = await kw.keys.create({ owner: 'acme', expiresAt: Date.parse('2200-01-01T00:00:00Z') });
    clock.advance(DAY);
    const r = await kw.keys.rotate(far.record.id);
    expect(r.record.expiresAt).toBe(Date.parse('2200-01-01T00:00:00Z') + DAY);
    const last = await kw.keys.create({ owner: 'acme', expiresAt: 8.64e15 }); // the latest time a Date holds
    const again = await kw.keys.rotate(last.record.id);
    expect(again.record.expiresAt).toBe(8.64e15);
    expect((await kw.keys.rotate(again.record.id)).record.expiresAt).toBe(8.64e15);
    await kw.close();
  });
});

describe('keys.rotate after the configuration changed', () => {
  it('inherits the key as it is stored: a plan or override name since renamed to a near miss, or settings a later check refuses, do not stop a rotation', async () => {
    const store = new MemoryKeyStore();
    const limits = (plan: string, rule: string) => ({ rules: { [rule]: { points: 100, window: '1m' } }, plans: { free: {}, [plan]: {} }, defaultPlan: 'free' });
    const before = setup({ store, limits: limits('pro', 'burst') });
    const a = await before.kw.keys.create({ owner: 'acme', plan: 'pro', scopes: ['docs:read'], limits: { burst: { points: 500 } }, expiresIn: '30d' });
    await before.kw.close();
    // Stored by an older version, before today's checks: more metadata than keys.create takes now.
    const big = { ...a.record, id: 'key_olderVersion01', hash: 'ab'.repeat(32), metadata: { blob: 'x'.repeat(70 * 1024) } };
    await store.create(big as never);

    const after = setup({ store, limits: limits('prod', 'bursts') }); // "pro" is now a near miss of "prod", "burst" of "bursts"
    after.clock.advance(DAY);
    const r = await after.kw.keys.rotate(a.record.id, { gracePeriod: '1h' });
    expect(r.record).toMatchObject({ owner: 'acme', plan: 'pro', scopes: ['docs:read'], limits: { burst: { points: 500 } }, rotatedFrom: a.record.id, lifetimeMs: 30 * DAY, expiresAt: START + 31 * DAY });
    expect((await after.call(r.key)).ok).toBe(true);
    const r2 = await after.kw.keys.rotate(big.id);
    expect(r2.record.metadata).toEqual(big.metadata);
    // A new key is still checked against today's configuration.
    await expect(after.kw.keys.create({ owner: 'acme', plan: 'pro' })).rejects.toThrow(/"plan" names "pro", which is configured nowhere \(did you mean "prod"\?/);
    await after.kw.close();
  });
});

describe('keys.rotate racing keys.update', () => {
  it('a change of the old key that lands while the rotation runs is in the new key too (a scope taken away is not given back)', async () => {
    const store = new MemoryKeyStore();
    const get = store.get.bind(store);
    let between: (() => Promise<unknown>) | undefined;
    store.get = async (id) => {
      const read = await get(id);
      const run = between;
      between = undefined;
      if (run) await run(); // another caller's change, landing just after the rotation read the key
      return read;
    };
    const { kw, call } = setup({ store });
    const a = await kw.keys.create({ owner: 'acme', scopes: ['admin', 'docs:read'], metadata: { tier: 'gold' } });
    between = () => kw.keys.update(a.record.id, { scopes: ['docs:read'], metadata: { tier: 'basic' }, restrictions: { ip: { allow: ['192.0.2.0/24'] } } });
    const r = await kw.keys.rotate(a.record.id);
    expect(r.record).toMatchObject({ scopes: ['docs:read'], metadata: { tier: 'basic' }, restrictions: { ip: { allow: ['192.0.2.0/24'] } } });
    expect(await kw.keys.get(r.record.id)).toMatchObject({ scopes: ['docs:read'], metadata: { tier: 'basic' }, restrictions: { ip: { allow: ['192.0.2.0/24'] } } });
    expect(await call(r.key)).toMatchObject({ ok: false, code: 'IP_FORBIDDEN' });
    await kw.close();
  });
});

describe('keys.rotate when the store fails to claim the old key', () => {
  /** A real memory store whose next claim of an old key (the patch setting `rotatedTo`) fails before or after it lands. */
  class FailingClaims extends MemoryKeyStore {
    failClaim: 'before' | 'after' | undefined;
    override async update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined> {
      const mode = patch.rotatedTo !== undefined ? this.failClaim : undefined;
      if (mode !== undefined) this.failClaim = undefined;
      if (mode === 'before') throw new Error('connection reset');
      const r = await super.update(id, patch, condition);
      if (mode === 'after') throw new Error('connection reset before the answer');
      return r;
    }
  }

  it.each([['24h'], [0]])('a claim that did not land (grace %s): the new key is revoked, the old one stays active and unrotated, and can be rotated again', async (gracePeriod) => {
    const store = new FailingClaims();
    const { kw, call, events, flush } = setup({ store });
    const a = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    store.failClaim = 'before';
    await expect(kw.keys.rotate(a.record.id, { gracePeriod })).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    const items = (await kw.keys.list({ owner: 'acme' })).items;
    expect(items.filter((k) => k.status === 'active').map((k) => k.id)).toEqual([a.record.id]); // no second live key
    const orphan = items.find((k) => k.id !== a.record.id);
    expect(orphan).toMatchObject({ rotatedFrom: a.record.id, status: 'revoked' });
    const old = await kw.keys.get(a.record.id);
    expect(old).toMatchObject({ status: 'active' });
    expect(old).not.toHaveProperty('rotatedTo');
    expect(old).not.toHaveProperty('graceEndsAt');
    expect(await call(a.key)).toMatchObject({ ok: true, headers: {} });
    expect((await kw.keys.dueForRotation({ maxAge: '1ms' })).map((d) => d.key.id)).toEqual([a.record.id]);
    const again = await kw.keys.rotate(a.record.id, { gracePeriod });
    expect(again.previous.rotatedTo).toBe(again.record.id);
    expect((await call(again.key)).ok).toBe(true);
    await flush();
    expect(events.filter((e) => e.type === 'key.rotated').map((e) => (e.data as { rotatedTo: string }).rotatedTo)).toEqual([again.record.id]);
    await kw.close();
  });

  it.each([['24h'], [0]])('a claim that landed but whose answer was lost (grace %s): the rotation completes and returns the new key', async (gracePeriod) => {
    const store = new FailingClaims();
    const { kw, call, events, flush } = setup({ store });
    const a = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await call(a.key); // cached: the rotation must drop it
    store.failClaim = 'after';
    const r = await kw.keys.rotate(a.record.id, { gracePeriod });
    expect(r.previous).toMatchObject({ id: a.record.id, rotatedTo: r.record.id });
    expect(await kw.keys.get(r.record.id)).toMatchObject({ status: 'active', rotatedFrom: a.record.id });
    expect((await call(r.key)).ok).toBe(true);
    const old = await call(a.key);
    if (gracePeriod === 0) expect(old).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
    else expect(old.ok && old.headers).toHaveProperty('Sunset');
    await flush();
    expect(events.filter((e) => e.type === 'key.rotated').map((e) => e.keyId)).toEqual([a.record.id]);
    await kw.close();
  });
});

describe('keys.rotate when the store fails to bring the new key up to date', () => {
  /**
   * A real memory store where a keys.update() of the old key lands between the rotation's read and its claim (as in
   * the race above), and the write that gives the new key the old key's settings as they are now then fails.
   */
  class FailingCatchUp extends MemoryKeyStore {
    between: (() => Promise<unknown>) | undefined;
    oldId = '';
    override async get(id: string): Promise<KeyRecord | undefined> {
      const read = await super.get(id);
      const run = this.between;
      this.between = undefined;
      if (run) await run();
      return read;
    }
    override async update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined> {
      if (id !== this.oldId && Object.prototype.hasOwnProperty.call(patch, 'lifetimeMs')) throw new Error('connection reset');
      return super.update(id, patch, condition);
    }
  }

  it('grace > 0: the rotation is undone (the new key revoked, the old one no longer rotated), so the old key stays the one live key', async () => {
    const store = new FailingCatchUp();
    const { kw, call, events, flush } = setup({ store });
    const a = await kw.keys.create({ owner: 'acme', scopes: ['admin', 'docs:read'] });
    store.oldId = a.record.id;
    store.between = () => kw.keys.update(a.record.id, { scopes: ['docs:read'] });
    await expect(kw.keys.rotate(a.record.id, { gracePeriod: '1h' })).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    const items = (await kw.keys.list({ owner: 'acme' })).items;
    expect(items.filter((k) => k.status === 'active').map((k) => k.id)).toEqual([a.record.id]);
    expect(items.find((k) => k.id !== a.record.id)).toMatchObject({ rotatedFrom: a.record.id, status: 'revoked', scopes: ['admin', 'docs:read'] });
    const old = await kw.keys.get(a.record.id);
    expect(old).toMatchObject({ status: 'active', scopes: ['docs:read'] });
    for (const field of ['rotatedTo', 'graceEndsAt', 'deprecatedAt']) expect(old).not.toHaveProperty(field);
    expect(await call(a.key)).toMatchObject({ ok: true, headers: {} });
    await flush();
    expect(events.filter((e) => e.type === 'key.rotated')).toEqual([]);
    const again = await kw.keys.rotate(a.record.id);
    expect(again.record.scopes).toEqual(['docs:read']);
    await kw.close();
  });

  it('grace 0: the old key stays revoked as asked, and the new key, with the settings the old one lost, is revoked too', async () => {
    const store = new FailingCatchUp();
    const { kw } = setup({ store });
    const a = await kw.keys.create({ owner: 'acme', scopes: ['admin', 'docs:read'] });
    store.oldId = a.record.id;
    store.between = () => kw.keys.update(a.record.id, { scopes: ['docs:read'] });
    await expect(kw.keys.rotate(a.record.id, { gracePeriod: 0 })).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    expect((await kw.keys.list({ owner: 'acme' })).items.map((k) => k.status)).toEqual(['revoked', 'revoked']);
    await kw.close();
  });
});

describe('policy: dueForRotation, autoExpire, sweep', () => {
  it('lists keys past or near the maximum age, legacy keys and expiring keys, oldest first', async () => {
    const { kw, clock } = setup({ keyPolicy: { maxAge: '90d', expiringLead: '7d' } });
    const old = await kw.keys.create({ owner: 'acme' });
    clock.advance(50 * DAY);
    const young = await kw.keys.create({ owner: 'acme' });
    const soon = await kw.keys.create({ owner: 'beta', expiresIn: '3d' });
    const legacy = await kw.keys.import({ key: randomUUID(), owner: 'beta' });
    const revoked = await kw.keys.create({ owner: 'acme', expiresIn: '1d' });
    await kw.keys.revoke(revoked.record.id);
    clock.advance(35 * DAY); // old is 85 days old: within the 7-day lead
    let due = await kw.keys.dueForRotation();
    expect(due.map((d) => [d.key.id, d.reason])).toEqual([[legacy.id, 'legacy'], [old.record.id, 'max-age']]);
    clock.set(START + 50 * DAY + 1);
    due = await kw.keys.dueForRotation();
    expect(due.map((d) => [d.key.id, d.reason])).toEqual([[legacy.id, 'legacy'], [soon.record.id, 'expiring']]);
    due = await kw.keys.dueForRotation({ maxAge: '10d', owner: 'acme' });
    expect(due.map((d) => d.key.id).sort()).toEqual([old.record.id].sort());
    expect(due[0]!.dueAt).toBe(START + 10 * DAY);
    expect(young.record.id).toBeDefined();
    await expect(kw.keys.dueForRotation({ maxAge: 'x' })).rejects.toThrow('"maxAge"');
    await kw.close();
  });

  it('autoExpire refuses keys older than maxAge with KEY_EXPIRED', async () => {
    const { kw, clock, call } = setup({ keyPolicy: { maxAge: '30d', autoExpire: true } });
    const a = await kw.keys.create({ owner: 'acme' });
    clock.advance(30 * DAY - 1);
    expect((await call(a.key)).ok).toBe(true);
    clock.advance(1);
    const res = await call(a.key);
    expect(!res.ok && res.code).toBe('KEY_EXPIRED');
    await kw.close();
  });

  it('sweep emits key.expiring, key.expired and key.idle once per key and condition', async () => {
    const { kw, clock, events, flush } = setup({ keyPolicy: { expiringLead: '2d', idleAfter: '5d', maxAge: '20d', autoExpire: true }, trackLastUsed: 0 });
    const a = await kw.keys.create({ owner: 'acme', expiresIn: '10d' });
    const b = await kw.keys.create({ owner: 'acme' }); // expires at its maximum age, 20 days
    const c = await kw.keys.create({ owner: 'acme' });
    const kinds = () => events.filter((e) => e.type.startsWith('key.') && !['key.created', 'key.updated'].includes(e.type)).map((e) => `${e.type}:${e.keyId === a.record.id ? 'a' : e.keyId === b.record.id ? 'b' : 'c'}`);

    clock.advance(4 * DAY);
    expect(await kw.keys.sweep()).toMatchObject({ scanned: 3, expiring: [], expired: [], idle: [] });
    clock.advance(2 * DAY); // day 6: all idle
    await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': c.key } }); // c used now
    await new Promise((r) => setImmediate(r));
    await kw.keys.sweep();
    await kw.keys.sweep();
    await flush();
    expect(kinds().sort()).toEqual(['key.idle:a', 'key.idle:b']);
    events.length = 0;
    clock.advance(3 * DAY); // day 9: a expiring
    const report = await kw.keys.sweep();
    await kw.keys.sweep();
    await flush();
    expect(report.expiring).toEqual([a.record.id]);
    expect(kinds()).toEqual(['key.expiring:a']);
    expect(events[0]).toMatchObject({ reason: 'EXPIRES_AT', data: { expiresAt: new Date(START + 10 * DAY).toISOString() } });
    events.length = 0;
    clock.advance(2 * DAY); // day 11: a expired, c idle since day 6
    await kw.keys.sweep();
    await kw.keys.sweep();
    await flush();
    expect(kinds().sort()).toEqual(['key.expired:a', 'key.idle:c']);
    events.length = 0;
    clock.advance(8 * DAY); // day 19: b expiring by age
    await kw.keys.sweep();
    clock.advance(DAY); // day 20: b and c expired by age; their expiry is recorded
    await kw.keys.sweep();
    await kw.keys.sweep();
    await flush();
    expect(kinds().slice(0, 2).sort()).toEqual(['key.expiring:b', 'key.expiring:c']);
    expect(kinds().slice(2).sort()).toEqual(['key.expired:b', 'key.expired:c']);
    expect(events.find((e) => e.type === 'key.expired')).toMatchObject({ reason: 'MAX_AGE' });
    expect((await kw.keys.get(b.record.id))!.expiresAt).toBe(START + 20 * DAY);
    await kw.close();
  });

  it('sweep records a notice as sent only while someone listens to its type', async () => {
    // Off the leak guard's channel, whose subscriber would make every type wanted.
    await withoutChannel(async (capture) => {
      const clock = manualClock(START);
      const kw = createKeyward({ clock, keyPolicy: { expiringLead: '2d', idleAfter: '5d' }, trackLastUsed: 0 });
      const seen: string[] = [];
      const off = kw.on('key.idle', (e) => { seen.push(e.type); capture(e); });
      const a = await kw.keys.create({ owner: 'acme', expiresIn: '7d' });
      clock.advance(6 * DAY); // idle, and expiring within two days
      expect(await kw.keys.sweep()).toMatchObject({ idle: [a.record.id], expiring: [] });
      expect((await kw.keys.get(a.record.id))!.notified).toEqual({ idle: START });
      await kw.flushEvents();
      off();
      kw.on('key.expiring', (e) => { seen.push(e.type); capture(e); });
      expect(await kw.keys.sweep()).toMatchObject({ idle: [], expiring: [a.record.id] }); // told now, not lost before
      await kw.flushEvents();
      expect(seen).toEqual(['key.idle', 'key.expiring']);
      await kw.close();
    });
  });

  it('sweep marks rotated keys revoked once their grace period has ended', async () => {
    const { kw, clock, events, flush } = setup();
    const a = await kw.keys.create({ owner: 'acme' });
    await kw.keys.rotate(a.record.id, { gracePeriod: '1h' });
    expect((await kw.keys.sweep()).revoked).toEqual([]);
    clock.advance(3_600_000);
    expect((await kw.keys.sweep()).revoked).toEqual([a.record.id]);
    expect((await kw.keys.sweep()).revoked).toEqual([]);
    await flush();
    expect(events.filter((e) => e.type === 'key.revoked')).toEqual([expect.objectContaining({ keyId: a.record.id, reason: 'ROTATION_GRACE_ENDED' })]);
    expect(await kw.keys.get(a.record.id)).toMatchObject({ status: 'revoked', revokedAt: START + 3_600_000 });
    await kw.close();
  });
});

describe('sweep racing other changes', () => {
  it('two sweeps at once, on one instance or on two sharing a store, send each notice once', async () => {
    const store = new MemoryKeyStore();
    const keyPolicy = { expiringLead: '2d', idleAfter: '5d' };
    const one = setup({ store, keyPolicy, trackLastUsed: 0 });
    const two = setup({ store, keyPolicy, trackLastUsed: 0, clock: one.clock });
    const a = await one.kw.keys.create({ owner: 'acme', expiresIn: '8d' });
    const b = await one.kw.keys.create({ owner: 'acme' });
    const notices = async () => {
      await Promise.all([one.flush(), two.flush()]);
      return [...one.events, ...two.events].filter((e) => ['key.idle', 'key.expiring', 'key.expired'].includes(e.type)).map((e) => `${e.type}:${e.keyId === a.record.id ? 'a' : 'b'}`).sort();
    };
    one.clock.advance(6 * DAY); // both idle, and a expiring: first notices, none recorded yet
    const reports = await Promise.all([one.kw.keys.sweep(), one.kw.keys.sweep(), two.kw.keys.sweep()]);
    expect(await notices()).toEqual(['key.expiring:a', 'key.idle:a', 'key.idle:b']);
    expect(reports.flatMap((r) => r.idle).sort()).toEqual([a.record.id, b.record.id].sort());
    one.events.length = two.events.length = 0;
    one.clock.advance(2 * DAY); // a expired: a notice on top of those recorded
    await Promise.all([one.kw.keys.sweep(), two.kw.keys.sweep(), two.kw.keys.sweep()]);
    expect(await notices()).toEqual(['key.expired:a']);
    expect((await one.kw.keys.get(a.record.id))!.notified).toEqual({ idle: START, expiring: START + 8 * DAY, expired: START + 8 * DAY });
    await Promise.all([one.kw.close(), two.kw.close()]);
  });

  /** A store that lets `between` run after a page is read, before the sweep acts on it (another instance's change). */
  function racing(between: (store: MemoryKeyStore) => Promise<void>) {
    const store = new MemoryKeyStore();
    const list = store.list.bind(store);
    let armed = false;
    store.list = async (query) => {
      const page = await list(query);
      if (armed) {
        armed = false;
        await between(store);
      }
      return page;
    };
    return { store, arm: () => void (armed = true) };
  }

  it('a rotated key revoked after the page was read keeps its reason, time and single key.revoked', async () => {
    let id = '';
    const { store, arm } = racing(async (s) => void (await s.update(id, { status: 'revoked', revokedAt: START + 1, revokedReason: 'leaked' })));
    const { kw, clock, events, flush } = setup({ store });
    const a = await kw.keys.create({ owner: 'acme' });
    id = a.record.id;
    await kw.keys.rotate(id, { gracePeriod: '1h' });
    clock.advance(2 * 3_600_000);
    arm();
    expect((await kw.keys.sweep()).revoked).toEqual([]);
    await flush();
    expect(events.filter((e) => e.type === 'key.revoked')).toEqual([]);
    expect(await kw.keys.get(id)).toMatchObject({ status: 'revoked', revokedAt: START + 1, revokedReason: 'leaked' });
    await kw.close();
  });

  it('a key deleted after the page was read is skipped, and the sweep goes on with the others', async () => {
    let id = '';
    const { store, arm } = racing(async (s) => void (await s.delete(id)));
    const { kw, clock } = setup({ store, keyPolicy: { maxAge: '10d', autoExpire: true } });
    const a = await kw.keys.create({ owner: 'acme' });
    id = a.record.id;
    const b = await kw.keys.create({ owner: 'acme' });
    await kw.keys.rotate(b.record.id, { gracePeriod: '1h' });
    const c = await kw.keys.create({ owner: 'acme' });
    clock.advance(11 * 86_400_000);
    arm();
    const report = await kw.keys.sweep();
    expect(report.revoked).toEqual([b.record.id]);
    expect(report.expired).not.toContain(a.record.id);
    expect(await kw.keys.get(c.record.id)).toMatchObject({ expiresAt: START + 10 * 86_400_000 });
    await kw.close();
  });
});

describe('null in key calls', () => {
  it('keys.update: null removes the plan, restrictions, limits or expiry; in keys.create, import and list null is refused by name', async () => {
    const { kw, call } = setup({ limits: { rules: { burst: { points: 100, window: '1m' } } } });
    const a = await kw.keys.create({ owner: 'acme', plan: 'pro', restrictions: { ip: { allow: ['192.0.2.0/24'] } }, limits: { burst: { points: 5 } }, expiresIn: '1d' });
    expect(await call(a.key)).toMatchObject({ ok: false, code: 'IP_FORBIDDEN' });
    const updated = await kw.keys.update(a.record.id, { plan: null, restrictions: null, limits: null, expiresAt: null });
    for (const field of ['plan', 'restrictions', 'limits', 'expiresAt'] as const) expect(updated[field]).toBeUndefined();
    expect((await call(a.key)).ok).toBe(true);
    for (const field of ['name', 'scopes', 'metadata']) await expect(kw.keys.update(a.record.id, { [field]: null })).rejects.toThrow(`"${field}"`);
    for (const field of ['env', 'restrictions', 'limits', 'plan', 'expiresAt', 'name', 'scopes', 'metadata']) {
      await expect(kw.keys.create({ owner: 'acme', [field]: null })).rejects.toThrow(new RegExp(`^keyward: (option )?"${field}"`));
    }
    // `env: null` and `limit: null` were taken for the default, instead of an error.
    await expect(kw.keys.import({ owner: 'acme', sha256: 'a'.repeat(64), env: null } as never)).rejects.toThrow('keyward: "env" must be');
    await expect(kw.keys.list({ limit: null } as never)).rejects.toThrow('keyward: "limit" must be');
    await kw.close();
  });
});

describe('keys.disable and keys.enable', () => {
  it('a key disabled already keeps its reason and sends no second key.disabled, also when two calls race', async () => {
    const { kw, events, flush } = setup();
    const { record } = await kw.keys.create({ owner: 'acme' });
    const first = await kw.keys.disable(record.id, { reason: 'unpaid invoice' });
    const again = await kw.keys.disable(record.id, { reason: 'anomaly: RATE_SPIKE' });
    expect(again).toMatchObject({ status: 'disabled', disabledReason: 'unpaid invoice', updatedAt: first.updatedAt });
    const other = await kw.keys.create({ owner: 'acme' });
    await Promise.all([kw.keys.disable(other.record.id, { reason: 'a' }), kw.keys.disable(other.record.id, { reason: 'b' })]);
    await flush();
    const disabled = events.filter((e) => e.type === 'key.disabled');
    expect(disabled.map((e) => [e.keyId, e.reason])).toEqual([[record.id, 'unpaid invoice'], [other.record.id, expect.stringMatching(/^[ab]$/)]]);
    expect((await kw.keys.get(other.record.id))!.disabledReason).toBe(disabled[1]!.reason);
    // enable(): once, however often it is called; an active key is left alone.
    await Promise.all([kw.keys.enable(record.id), kw.keys.enable(record.id)]);
    await kw.keys.enable(record.id);
    await flush();
    expect(events.filter((e) => e.type === 'key.enabled').map((e) => e.keyId)).toEqual([record.id]);
    expect(await kw.keys.get(record.id)).toMatchObject({ status: 'active' });
    await kw.close();
  });
});

describe('incident response', () => {
  function channel() {
    const published: KeyChange[] = [];
    const ch: InvalidationChannel = {
      async publish(change) { published.push(change); },
      async subscribe() { return () => {}; },
    };
    return { ch, published };
  }

  it('revokeOwner revokes every key of the owner, emits one event each and invalidates each', async () => {
    const { ch, published } = channel();
    const { kw, call, events, flush } = setup({ invalidation: ch });
    const keys = await Promise.all([1, 2, 3].map(() => kw.keys.create({ owner: 'acme' })));
    const other = await kw.keys.create({ owner: 'beta' });
    for (const k of keys) expect((await call(k.key)).ok).toBe(true); // cached
    await kw.keys.revoke(keys[0]!.record.id);
    published.length = 0;
    const { ids } = await kw.keys.revokeOwner('acme', { reason: 'account compromised' });
    expect(ids.sort()).toEqual([keys[1]!.record.id, keys[2]!.record.id].sort());
    for (const k of keys) expect((await call(k.key)).ok).toBe(false);
    expect((await call(other.key)).ok).toBe(true);
    expect(published.map((p) => p.id).sort()).toEqual(ids.sort());
    await flush();
    expect(events.filter((e) => e.type === 'key.revoked' && e.reason === 'account compromised').map((e) => e.keyId).sort()).toEqual(ids.sort());
    await expect(kw.keys.revokeOwner('')).rejects.toThrow(TypeError);
    await kw.close();
  });

  it('revokeCreatedBefore revokes keys created before the date, optionally of one owner', async () => {
    const { kw, clock, call } = setup();
    const a = await kw.keys.create({ owner: 'acme' });
    const b = await kw.keys.create({ owner: 'beta' });
    clock.advance(DAY);
    const c = await kw.keys.create({ owner: 'acme' });
    expect((await kw.keys.revokeCreatedBefore(START + 1, { owner: 'beta', reason: 'leak' })).ids).toEqual([b.record.id]);
    expect((await kw.keys.revokeCreatedBefore(new Date(START + 1), { reason: 'leak' })).ids).toEqual([a.record.id]);
    expect((await call(c.key)).ok).toBe(true);
    expect((await call(a.key)).ok).toBe(false);
    await expect(kw.keys.revokeCreatedBefore(NaN)).rejects.toThrow(TypeError);
    await kw.close();
  });

  it('walks every page of a large store', async () => {
    const { kw } = setup();
    await Promise.all(Array.from({ length: 1005 }, () => kw.keys.create({ owner: 'many' })));
    expect((await kw.keys.revokeOwner('many')).ids).toHaveLength(1005);
    await kw.close();
  });

  it('of two incident revocations at once (two instances sharing a store), each reports only the keys it revoked', async () => {
    const store = new MemoryKeyStore();
    const a = setup({ store });
    const b = setup({ store });
    const keys = await Promise.all([1, 2, 3, 4].map(() => a.kw.keys.create({ owner: 'acme' })));
    const [byA, byB] = await Promise.all([a.kw.keys.revokeOwner('acme', { reason: 'a' }), b.kw.keys.revokeCreatedBefore(START + 1, { reason: 'b' })]);
    expect([...byA.ids, ...byB.ids].sort()).toEqual(keys.map((k) => k.record.id).sort()); // each key once, by whoever revoked it
    for (const [mine, reason] of [[byA.ids, 'a'], [byB.ids, 'b']] as const) {
      for (const id of mine) expect((await a.kw.keys.get(id))?.revokedReason).toBe(reason);
    }
    await Promise.all([a.kw.close(), b.kw.close()]);
  });
});

describe('keys.import and legacy keys', () => {
  it('legacy keys authenticate only when legacyKeys accepts them, and are flagged and due', async () => {
    const uuid = randomUUID();
    const b64 = randomBytes(24).toString('base64');
    const off = setup();
    const info = await off.kw.keys.import({ key: uuid, owner: 'acme', scopes: ['docs:read'] });
    expect(info).toMatchObject({ legacy: true, prefix: 'legacy', hint: `legacy_…${uuid.slice(-4)}`, scopes: ['docs:read'] });
    expect(JSON.stringify(info)).not.toContain(uuid);
    expect((await off.call(uuid)).ok).toBe(false);
    await off.kw.close();

    const store = off.kw.config.store;
    const on = setup({ store, legacyKeys: true });
    const res = await on.call(uuid);
    expect(res.ok && res.principal?.keyId).toBe(info.id);
    expect((await on.call(uuid.slice(0, -1) + 'x')).ok).toBe(false);
    const sha = await on.kw.keys.import({ sha256: createHash('sha256').update(b64).digest('hex').toUpperCase(), owner: 'beta', hint: '…' + b64.slice(-4) });
    expect(sha).toMatchObject({ legacy: true, hint: '…' + b64.slice(-4) });
    expect((await on.call(b64)).ok).toBe(true);
    expect((await on.kw.keys.dueForRotation()).map((d) => [d.key.id, d.reason])).toEqual(expect.arrayContaining([[info.id, 'legacy'], [sha.id, 'legacy']]));
    // rotating a legacy key issues a keyward key
    const r = await on.kw.keys.rotate(info.id, { gracePeriod: 0 });
    expect(r.key.startsWith('kw_live_')).toBe(true);
    expect(r.record.legacy).toBeUndefined();
    expect((await on.call(uuid)).ok).toBe(false);
    await on.kw.close();

    const pattern = setup({ store, legacyKeys: /^[0-9a-f-]{36}$/ });
    expect((await pattern.call(b64)).ok).toBe(false);
    await pattern.kw.close();
  });

  it('a key stored already under another scheme (its SHA-256, a previous pepper) is not imported twice: revoking one record must stop it', async () => {
    const store = new MemoryKeyStore();
    const { kw, call } = setup({ store, pepper: 'p'.repeat(40), legacyKeys: true });
    const legacyKey = randomUUID();
    const first = await kw.keys.import({ sha256: createHash('sha256').update(legacyKey).digest('hex'), owner: 'acme' });
    await expect(kw.keys.import({ key: legacyKey, owner: 'acme' })).rejects.toMatchObject({ code: 'KEY_CONFLICT' });
    await kw.keys.revoke(first.id, { reason: 'leaked' });
    expect(await call(legacyKey)).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
    // The same under a previous pepper: a keyward key stored before the pepper changed.
    const before = setup({ store, pepper: 'o'.repeat(40) });
    const { key } = await before.kw.keys.create({ owner: 'acme' });
    const after = setup({ store, pepper: { current: 'n'.repeat(40), previous: ['o'.repeat(40)] } });
    await expect(after.kw.keys.import({ key, owner: 'acme' })).rejects.toMatchObject({ code: 'KEY_CONFLICT', message: expect.not.stringContaining(key) });
    await Promise.all([kw.close(), before.kw.close(), after.kw.close()]);
  });

  it('a keyward key is imported under its own environment label: another "env" is refused', async () => {
    const { kw } = setup();
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    await expect(kw.keys.import({ key, owner: 'acme', env: 'test' })).rejects.toThrow('"env" must be the key\'s own environment label, "live", or be left out');
    expect((await kw.keys.list()).items).toEqual([]);
    const same = await kw.keys.import({ key, owner: 'acme', env: 'live' });
    expect(same.env).toBe('live');
    expect((await kw.keys.rotate(same.id)).key.startsWith('kw_live_')).toBe(true);
    expect((await kw.keys.import({ key: randomUUID(), owner: 'acme', env: 'test' })).env).toBe('test'); // a legacy key has no label of its own
    await kw.close();
  });

  it('recoverable is checked as keys.create checks it, and a plaintext imported with it can be revealed', async () => {
    const plain = setup();
    await expect(plain.kw.keys.import({ key: randomUUID(), owner: 'acme', recoverable: true })).rejects.toThrow('"recoverable" keys need a store with encryption at rest');
    await expect(plain.kw.keys.import({ key: randomUUID(), owner: 'acme', recoverable: 'yes' as unknown as boolean })).rejects.toThrow('"recoverable" must be a boolean');
    expect((await plain.kw.keys.list()).items).toEqual([]);
    await plain.kw.close();

    const store = Object.assign(new MemoryKeyStore(), { encryptsAtRest: true }); // stands for a store that seals `sealed`
    const { kw } = setup({ store, legacyKeys: true });
    const uuid = randomUUID();
    const imported = await kw.keys.import({ key: uuid, owner: 'acme', recoverable: true });
    expect(await kw.keys.reveal(imported.id)).toBe(uuid);
    const sha = createHash('sha256').update(randomUUID()).digest('hex');
    await expect(kw.keys.import({ sha256: sha, owner: 'acme', recoverable: true })).rejects.toThrow('"recoverable" needs the plaintext "key"');
    const bySha = await kw.keys.import({ sha256: sha, owner: 'acme', recoverable: false });
    expect(await kw.keys.reveal(bySha.id)).toBeUndefined();
    await kw.close();
  });

  it('reveal() refuses a revoked key and a rotated one past its grace period, with KEY_REVOKED and no event', async () => {
    const store = Object.assign(new MemoryKeyStore(), { encryptsAtRest: true }); // stands for a store that seals `sealed`
    const { kw, clock, events, flush } = setup({ store });
    const revoked = await kw.keys.create({ owner: 'acme', recoverable: true });
    await kw.keys.revoke(revoked.record.id);
    await expect(kw.keys.reveal(revoked.record.id)).rejects.toMatchObject({ code: 'KEY_REVOKED' });
    const old = await kw.keys.create({ owner: 'acme', recoverable: true });
    const rotated = await kw.keys.rotate(old.record.id, { gracePeriod: '1h' });
    expect(await kw.keys.reveal(old.record.id)).toBe(old.key); // still works in its grace period
    clock.advance(2 * 60 * 60 * 1000);
    await expect(kw.keys.reveal(old.record.id)).rejects.toMatchObject({ code: 'KEY_REVOKED' });
    expect(String(await kw.keys.reveal(old.record.id).catch((e: Error) => e.message))).not.toContain(old.key);
    expect(await kw.keys.reveal(rotated.record.id)).toBe(rotated.key);
    await flush();
    expect(events.filter((e) => e.type === 'key.revealed').map((e) => e.keyId)).toEqual([old.record.id, rotated.record.id]);
    await kw.close();
  });

  it('reveal() refuses an expired key (its own expiry, or its maximum age under autoExpire) with KEY_EXPIRED and no event', async () => {
    const store = Object.assign(new MemoryKeyStore(), { encryptsAtRest: true }); // stands for a store that seals `sealed`
    const { kw, clock, events, flush } = setup({ store, keyPolicy: { maxAge: '30d', autoExpire: true } });
    const own = await kw.keys.create({ owner: 'acme', recoverable: true, expiresIn: '1h' });
    expect(await kw.keys.reveal(own.record.id)).toBe(own.key); // works until its expiry
    clock.advance(60 * 60 * 1000); // the expiry itself: the key is refused from that instant (KEY_EXPIRED)
    const refused = await kw.keys.reveal(own.record.id).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'KeywardError', code: 'KEY_EXPIRED' });
    expect(String((refused as Error).message)).not.toContain(own.key);
    const aged = await kw.keys.create({ owner: 'acme', recoverable: true });
    clock.advance(30 * DAY);
    await expect(kw.keys.reveal(aged.record.id)).rejects.toMatchObject({ code: 'KEY_EXPIRED' });
    await flush();
    expect(events.filter((e) => e.type === 'key.revealed').map((e) => e.keyId)).toEqual([own.record.id]);
    await kw.close();
  });

  it('a keyward key of this format imports as a normal key; the same key twice conflicts; errors name no secret', async () => {
    const src = setup();
    const { key } = await src.kw.keys.create({ owner: 'acme' });
    const dst = setup();
    const info = await dst.kw.keys.import({ key, owner: 'acme', createdAt: START - 5 * DAY });
    expect(info.legacy).toBeUndefined();
    expect(info.createdAt).toBe(START - 5 * DAY);
    expect((await dst.call(key)).ok).toBe(true);
    const err = await dst.kw.keys.import({ key, owner: 'acme' }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'KEY_CONFLICT' });
    expect((err as Error).message).not.toContain(key);
    await expect(dst.kw.keys.import({ owner: 'acme' })).rejects.toThrow('exactly one');
    await expect(dst.kw.keys.import({ key: 'short', owner: 'acme' })).rejects.toThrow('"key"');
    await expect(dst.kw.keys.import({ sha256: 'zz', owner: 'acme' })).rejects.toThrow('"sha256"');
    await expect(dst.kw.keys.import({ key: 'x'.repeat(20), owner: 'acme', createdAt: START + DAY })).rejects.toThrow('"createdAt"');
    await src.kw.close();
    await dst.kw.close();
  });

  it('refuses to import a legacy key longer than maxCredentialLength, which extraction would never pass on', async () => {
    const { kw, call } = setup({ legacyKeys: true, maxCredentialLength: 32 });
    const long = 'L'.repeat(40);
    const err = await kw.keys.import({ key: long, owner: 'acme' }).catch((e: Error) => e);
    expect([err instanceof TypeError, (err as Error).message]).toEqual([true, 'keyward: "key" would never authenticate as a legacy key: it is longer than 32 characters ("maxCredentialLength")']);
    expect((await call(long)).ok).toBe(false);
    const fits = 'F'.repeat(32);
    await kw.keys.import({ key: fits, owner: 'acme' });
    expect((await call(fits)).ok).toBe(true);
  });

  it('refuses to import a legacy key that look-up would never find (shorter than 16, or starting with "<prefix>_"), naming no secret', async () => {
    for (const options of [{}, { legacyKeys: true }, { prefix: 'acme', legacyKeys: true }] as KeywardOptions[]) {
      const { kw, call } = setup(options);
      const ours = `${options.prefix ?? 'kw'}_`;
      for (const key of ['abcd1234', 'x'.repeat(15), `${ours}oldformat12345678`, `${ours}live_${'A'.repeat(39)}`]) {
        const err = await kw.keys.import({ key, owner: 'acme' }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(TypeError);
        expect((err as Error).message).toMatch(key.startsWith(ours) ? `keyward: "key" would never authenticate as a legacy key: it starts with "${ours}"` : /^keyward: "key" would never authenticate as a legacy key: it is shorter than 16 characters/);
        expect((err as Error).message).not.toContain(key);
        expect((await call(key)).ok).toBe(false);
      }
      // the shortest key look-up considers imports, and then authenticates where legacyKeys is on
      const shortest = 'y'.repeat(16);
      const info = await kw.keys.import({ key: shortest, owner: 'acme' });
      expect(info.legacy).toBe(true);
      expect((await call(shortest)).ok).toBe(options.legacyKeys === true);
      // another prefix's keys are legacy here, and imported as such
      const foreign = options.prefix === undefined ? 'acme_oldformat12345678' : 'kw_oldformat12345678';
      expect((await kw.keys.import({ key: foreign, owner: 'acme' })).legacy).toBe(true);
      expect((await call(foreign)).ok).toBe(options.legacyKeys === true);
      expect((await kw.keys.list()).items).toHaveLength(2);
      await kw.close();
    }
  });

  it('with a legacyKeys RegExp, imports exactly the legacy keys it matches (short ones too), whatever its flags', async () => {
    const pattern = /^(?:kw_)?old-[a-z0-9]+$/gy;
    const { kw, call } = setup({ legacyKeys: pattern });
    const uuid = randomUUID();
    const err = await kw.keys.import({ key: uuid, owner: 'acme' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/^keyward: "key" would never authenticate as a legacy key: the "legacyKeys" RegExp/);
    expect((err as Error).message).not.toContain(uuid);
    // matched by the RegExp, but look-up never takes a "kw_" value for a legacy key
    await expect(kw.keys.import({ key: 'kw_old-abc12345', owner: 'acme' })).rejects.toThrow(/^keyward: "key" would never authenticate as a legacy key: it starts with "kw_"/);
    expect((await call('kw_old-abc12345')).ok).toBe(false);
    for (const key of ['old-ab12', 'old-abcdef0123456789', 'old-cd34']) {
      expect((await kw.keys.import({ key, owner: 'acme' })).legacy).toBe(true);
      expect((await call(key)).ok).toBe(true);
    }
    expect(pattern.lastIndex).toBe(0);
    await kw.close();
  });

  it('a value shaped like a keyward key with a bad checksum is never looked up, even with legacyKeys', async () => {
    const { kw, call } = setup({ legacyKeys: true });
    const { key } = await kw.keys.create({ owner: 'acme' });
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    await kw.keys.import({ key: flipped, owner: 'acme' }).catch(() => undefined);
    expect((await call(flipped)).ok).toBe(false);
    await kw.close();
  });
});

describe('lifecycle options', () => {
  it.each([
    [{ keyPolicy: 5 }, '"keyPolicy"'],
    [{ keyPolicy: { maxAge: 0 } }, '"keyPolicy.maxAge"'],
    [{ keyPolicy: { maxAge: '1y' } }, '"keyPolicy.maxAge"'],
    [{ keyPolicy: { autoExpire: true } }, '"keyPolicy.autoExpire"'],
    [{ keyPolicy: { autoExpire: 'yes' } }, '"keyPolicy.autoExpire"'],
    [{ keyPolicy: { idleAfter: -1 } }, '"keyPolicy.idleAfter"'],
    [{ keyPolicy: { rotationDocs: 'javascript:alert(1)' } }, '"keyPolicy.rotationDocs"'],
    [{ keyPolicy: { rotationDocs: 'https://x.example/a>b' } }, '"keyPolicy.rotationDocs"'],
    [{ legacyKeys: 'yes' }, '"legacyKeys"'],
  ])('%j throws a TypeError naming the option', (options, name) => {
    expect(() => createKeyward(options as KeywardOptions)).toThrow(TypeError);
    expect(() => createKeyward(options as KeywardOptions)).toThrow(name);
  });

  it('never mutates the options', () => {
    const options = Object.freeze({ keyPolicy: Object.freeze({ maxAge: '90d', autoExpire: true }), legacyKeys: /^x/g });
    expect(() => createKeyward(options)).not.toThrow();
    expect(options.legacyKeys.lastIndex).toBe(0);
  });
});

describe('changing the pepper', () => {
  const OLD = 'o'.repeat(40);
  const NEW = 'n'.repeat(40);

  it('keys stored under a previous pepper still work, are reported once as PREVIOUS_PEPPER, and rotate onto the current one', async () => {
    const store = new MemoryKeyStore();
    const before = setup({ store, pepper: OLD });
    const old = await before.kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await before.kw.close();
    // Only the new pepper: every key stored before is refused (what "previous" is for).
    const bare = setup({ store, pepper: NEW });
    expect(await bare.call(old.key)).toMatchObject({ ok: false, code: 'CREDENTIALS_INVALID' });
    await bare.kw.close();

    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const during = setup({ store, pepper: { current: NEW, previous: [OLD] }, cache: false });
      for (let i = 0; i < 3; i++) expect((await during.call(old.key)).ok).toBe(true);
      const fresh = await during.kw.keys.create({ owner: 'acme' });
      expect((await during.call(fresh.key)).ok).toBe(true);
      await during.flush();
      await new Promise((r) => setImmediate(r));
      const stale = during.events.filter((e) => e.reason === 'PREVIOUS_PEPPER');
      expect(stale).toEqual([expect.objectContaining({ type: 'key.expiring', keyId: old.record.id, hint: old.record.hint, owner: 'acme' })]);
      const warned = warn.mock.calls.filter(([, o]) => (o as { code?: string } | undefined)?.code === 'KEYWARD_PREVIOUS_PEPPER').map(([message]) => String(message));
      expect(warned).toEqual([expect.stringContaining(old.record.id)]);
      const text = JSON.stringify([during.events, warned]);
      for (const secret of [OLD, NEW, old.key]) expect(text).not.toContain(secret);
      const rotated = await during.kw.keys.rotate(old.record.id, { gracePeriod: 0 });
      await during.kw.close();

      // The old pepper dropped: the rotated key and the keys created meanwhile work.
      const after = setup({ store, pepper: NEW });
      expect((await after.call(rotated.key)).ok).toBe(true);
      expect((await after.call(fresh.key)).ok).toBe(true);
      await after.kw.close();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('keys stored under a previous pepper are marked', () => {
  const OLD = 'o'.repeat(40);
  const NEW = 'n'.repeat(40);

  it('in the record (previousPepperAt), durably, so dueForRotation lists them as previous-pepper on any instance until rotated', async () => {
    const store = new MemoryKeyStore();
    const before = setup({ store, pepper: OLD });
    const used = await before.kw.keys.create({ owner: 'acme' });
    const unused = await before.kw.keys.create({ owner: 'acme' });
    await before.kw.close();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const during = setup({ store, pepper: { current: NEW, previous: [OLD] } });
      during.clock.advance(DAY);
      const fresh = await during.kw.keys.create({ owner: 'acme' });
      expect((await during.call(used.key)).ok).toBe(true);
      expect((await during.call(fresh.key)).ok).toBe(true);
      await during.flush();
      await during.kw.close();
      // Another instance (or the CLI) that never saw the key presented reads the mark from the store.
      const other = setup({ store, pepper: { current: NEW, previous: [OLD] } });
      expect(await other.kw.keys.get(used.record.id)).toMatchObject({ previousPepperAt: START + DAY });
      expect(await other.kw.keys.get(fresh.record.id)).not.toHaveProperty('previousPepperAt');
      expect(await other.kw.keys.get(unused.record.id)).not.toHaveProperty('previousPepperAt'); // never presented: not known
      const due = await other.kw.keys.dueForRotation();
      expect(due.map((d) => [d.key.id, d.reason, d.dueAt])).toEqual([[used.record.id, 'previous-pepper', START + DAY]]);
      const rotated = await other.kw.keys.rotate(used.record.id, { gracePeriod: 0 });
      expect(rotated.record).not.toHaveProperty('previousPepperAt');
      expect(await other.kw.keys.dueForRotation()).toEqual([]);
      expect(JSON.stringify(await other.kw.keys.list())).not.toContain(OLD);
      await other.kw.close();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('the look-up cache', () => {
  it('answers a peppered key and a legacy SHA-256 record from the cache, and drops each by id when it changes', async () => {
    const { kw, call } = setup({ pepper: 'p'.repeat(40), legacyKeys: true });
    const fresh = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    const legacyKey = randomUUID();
    const legacy = await kw.keys.import({ sha256: createHash('sha256').update(legacyKey).digest('hex'), owner: 'beta' });
    for (let i = 0; i < 3; i++) {
      expect((await call(fresh.key)).ok).toBe(true);
      expect((await call(legacyKey)).ok).toBe(true);
    }
    expect(kw.keys.cached(fresh.key)?.id).toBe(fresh.record.id);
    expect(kw.keys.cached(legacyKey)?.id).toBe(legacy.id);
    await kw.keys.disable(fresh.record.id);
    await kw.keys.revoke(legacy.id);
    expect(kw.keys.cached(fresh.key)).toBeUndefined();
    expect(await call(fresh.key)).toMatchObject({ ok: false, code: 'KEY_DISABLED' });
    expect(await call(legacyKey)).toMatchObject({ ok: false, code: 'KEY_REVOKED' });
  });
});
