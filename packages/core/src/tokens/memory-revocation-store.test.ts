import { manualClock } from '../util/clock';
import { MemoryRevocationStore } from './memory-revocation-store';

describe('MemoryRevocationStore', () => {
  it('holds a revocation until its expiry, then forgets it', async () => {
    const clock = manualClock(1_000_000);
    const store = new MemoryRevocationStore({ clock });
    await store.revoke('a', 1_060_000);
    expect(await store.isRevoked('a', 1_000_000)).toBe(true);
    expect(await store.isRevoked('b', 1_000_000)).toBe(false);
    expect(await store.isRevoked('a', 1_060_000)).toBe(false);
    expect(store.size).toBe(0);
  });

  it('keeps the later expiry when a jti is revoked twice', async () => {
    const store = new MemoryRevocationStore({ clock: manualClock(0) });
    await store.revoke('a', 5000);
    await store.revoke('a', 1000);
    expect(await store.isRevoked('a', 2000)).toBe(true);
  });

  it('sweeps expired entries as it grows, so memory stays bounded by live revocations', async () => {
    const clock = manualClock(0);
    const store = new MemoryRevocationStore({ clock });
    for (let i = 0; i < 1000; i++) await store.revoke(`old-${i}`, 10);
    clock.set(100);
    for (let i = 0; i < 100; i++) await store.revoke(`new-${i}`, 1000);
    expect(store.size).toBeLessThan(200);
    expect(await store.isRevoked('new-1', 100)).toBe(true);
  });

  it('answers at once with isRevokedSync, exactly as isRevoked does', async () => {
    const store = new MemoryRevocationStore({ clock: manualClock(0) });
    await store.revoke('a', 1000);
    expect(store.isRevokedSync('a', 999)).toBe(true);
    expect(store.isRevokedSync('b', 999)).toBe(false);
    expect(store.isRevoked('a', 999)).toBeInstanceOf(Promise);
    expect(store.isRevokedSync('a', 1000)).toBe(false);
    expect(store.size).toBe(0);
  });
});
