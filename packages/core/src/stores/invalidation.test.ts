import { createKeyward, manualClock, type InvalidationChannel, type KeyChange } from '../index';

describe('cross-instance invalidation messages', () => {
  it('carry the key id only, never its hash, for every kind of change', async () => {
    const published: KeyChange[] = [];
    const channel: InvalidationChannel = {
      async publish(change) {
        published.push(change);
      },
      async subscribe() {
        return () => {};
      },
    };
    const clock = manualClock(Date.parse('2026-03-01T10:00:00Z'));
    const kw = createKeyward({ clock, invalidation: channel });
    const a = await kw.keys.create({ owner: 'acme' });
    const b = await kw.keys.create({ owner: 'acme' });
    const c = await kw.keys.create({ owner: 'beta' });
    await kw.keys.update(a.record.id, { name: 'renamed' });
    await kw.keys.disable(a.record.id);
    await kw.keys.enable(a.record.id);
    const rotated = await kw.keys.rotate(a.record.id, { gracePeriod: '1h' });
    await kw.keys.revoke(rotated.record.id);
    await kw.keys.revokeOwner('acme');
    await kw.keys.delete(c.record.id);

    expect(published.length).toBeGreaterThanOrEqual(7);
    for (const change of published) expect(Object.keys(change)).toEqual(['id']);
    expect(new Set(published.map((p) => p.id))).toEqual(new Set([a.record.id, b.record.id, c.record.id, rotated.record.id]));
    await kw.close();
  });

  it('a subscription that completes after close() is ended at once, not left open', async () => {
    let unsubscribed = 0;
    let subscribed!: () => void;
    const channel: InvalidationChannel = {
      async publish() {},
      subscribe: () => new Promise((resolve) => (subscribed = () => resolve(() => unsubscribed++))),
    };
    const kw = createKeyward({ invalidation: channel });
    await kw.close();
    subscribed();
    await new Promise((r) => setImmediate(r));
    expect(unsubscribed).toBe(1);
  });
});

