import { createKeyward, manualClock, MemoryKeyStore, type KeyRecord } from '../index';

const T0 = Date.parse('2026-04-01T08:00:00Z');

describe('KeyManager.usableRecord (what an exchanged token is judged by)', () => {
  it('answers from the store with a promise, then from the cache by id at once, the same record, until the key changes', async () => {
    const clock = manualClock(T0);
    const store = new MemoryKeyStore();
    const kw = createKeyward({ clock, store });
    const { record: info } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], restrictions: { ip: { allow: ['203.0.113.0/24'] } } });

    const first = kw.keys.usableRecord(info.id, clock());
    expect(first).toBeInstanceOf(Promise);
    const record = (await first) as KeyRecord;
    expect(record).toMatchObject({ id: info.id, owner: 'acme', restrictions: { ip: { allow: ['203.0.113.0/24'] } } });

    const cached = kw.keys.usableRecord(info.id, clock());
    expect(cached).toBe(record); // no promise, no copy
    expect(kw.keys.standing(info.id, clock())).toBe(true); // the same cache answers standing at once

    await kw.keys.update(info.id, { restrictions: { ip: { allow: ['198.51.100.0/24'] } }, plan: 'pro' });
    const changed = kw.keys.usableRecord(info.id, clock());
    expect(changed).toBeInstanceOf(Promise); // the change dropped the cached record
    expect(await changed).toMatchObject({ plan: 'pro', restrictions: { ip: { allow: ['198.51.100.0/24'] } } });
    expect(kw.keys.usableRecord(info.id, clock())).not.toBeInstanceOf(Promise);
    await kw.close();
  });

  it('is undefined for a key that is revoked, disabled, expired or unknown, as standing is false', async () => {
    const clock = manualClock(T0);
    const kw = createKeyward({ clock });
    const revoked = await kw.keys.create({ owner: 'acme' });
    const disabled = await kw.keys.create({ owner: 'acme' });
    const expiring = await kw.keys.create({ owner: 'acme', expiresIn: '2s' });
    await kw.keys.revoke(revoked.record.id);
    await kw.keys.disable(disabled.record.id);
    for (const id of [revoked.record.id, disabled.record.id, 'key_unknown']) {
      expect(await kw.keys.usableRecord(id, clock())).toBeUndefined();
      expect(await kw.keys.standing(id, clock())).toBe(false);
    }
    expect(await kw.keys.usableRecord(expiring.record.id, clock())).toMatchObject({ id: expiring.record.id });
    clock.advance(2_000);
    expect(kw.keys.usableRecord(expiring.record.id, clock())).toBeUndefined(); // still cached (5 s), expired now: at once
    expect(kw.keys.standing(expiring.record.id, clock())).toBe(false);
    await kw.close();
  });

  it('rejects when the store fails, naming nothing of the key', async () => {
    const store = new MemoryKeyStore();
    const kw = createKeyward({ clock: manualClock(T0), store });
    const { record } = await kw.keys.create({ owner: 'acme' });
    store.get = async () => { throw new Error('store down'); };
    await expect(kw.keys.usableRecord(record.id, T0)).rejects.toThrow('store down');
    await expect(kw.keys.standing(record.id, T0)).rejects.toThrow('store down');
    await kw.close();
  });
});
