import { generateKeyPairSync } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createKeyward } from '../keyward';
import type { KeywardOptions } from '../config/options';
import { manualClock } from '../util/clock';
import type { AuthRequest, Decision, DenyDecision, KeywardEvent, Principal } from '../index';
import { EventBus } from '../events/bus';
import type { FeatureDeps } from '../features/deps';
import type { Completion, PipelineContext, StageResult } from '../pipeline/context';
import { limitsFeature } from './feature';
import { memoryLimiterStore, type LimiterStore } from './store';
import { MemoryKeyStore } from '../stores/memory-key-store';

const T0 = Date.parse('2026-03-02T10:00:00Z');

async function setup(options: KeywardOptions, keyInput: { plan?: string; limits?: Record<string, unknown>; owner?: string } = {}) {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, ...options });
  const { key, record } = await kw.keys.create({ owner: keyInput.owner ?? 'acme', ...(keyInput.plan ? { plan: keyInput.plan } : {}), ...(keyInput.limits ? { limits: keyInput.limits as never } : {}) });
  const req = (k: string | undefined = key, remoteAddress = '198.51.100.7'): AuthRequest => ({ method: 'GET', path: '/x', headers: k ? { 'x-api-key': k } : {}, remoteAddress });
  return { kw, clock, key, record, req };
}

const denied = (d: Decision) => d as DenyDecision;

describe('limits feature', () => {
  it('allows N then refuses with 429, RateLimit headers and Retry-After; resets with the window', async () => {
    const { kw, clock, req } = await setup({ limits: { rules: { burst: { points: 3, window: '10s' } } } });
    const answers: Decision[] = [];
    for (let i = 0; i < 4; i++) answers.push(await kw.check(req()));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, false]);
    expect(answers[0]!.headers['RateLimit-Policy']).toBe('"burst";q=3;w=10');
    expect(answers[0]!.headers['RateLimit']).toBe('"burst";r=2;t=10');
    const d = denied(answers[3]!);
    expect(d.status).toBe(429);
    expect(d.code).toBe('RATE_LIMITED');
    expect(d.headers['Retry-After']).toBe('10');
    expect(d.headers['RateLimit']).toBe('"burst";r=0;t=10');
    expect(d.problem['violated-policies']).toEqual(['burst']);
    clock.advance(10_000);
    expect((await kw.check(req())).ok).toBe(true);
    await kw.close();
  });

  it('weights by cost; a limit of 0 blocks', async () => {
    const { kw, req } = await setup({ limits: { rules: { burst: { points: 10, window: '1m' } } } });
    expect((await kw.check(req(), { cost: 6 })).ok).toBe(true);
    const refused = denied(await kw.check(req(), { cost: 6 }));
    // the refused request did not count: 4 points are still there, and its headers say so
    expect([refused.code, refused.headers['RateLimit']]).toEqual(['RATE_LIMITED', '"burst";r=4;t=60']);
    expect(denied(await kw.check(req(), { cost: 50 })).headers['RateLimit']).toBe('"burst";r=4;t=60');
    // a cost far above the limit leaves the count exact (1e17 + 6 - 1e17 was 0 in floating point: 10 more passed)
    expect(denied(await kw.check(req(), { cost: 1e17 })).headers['RateLimit']).toBe('"burst";r=4;t=60');
    expect((await kw.check(req(), { cost: 4 })).ok).toBe(true);
    const zero = await setup({ limits: { rules: { none: { points: 0, window: '1m' } } } });
    const d = denied(await zero.kw.check(zero.req()));
    expect([d.status, d.code]).toEqual([429, 'RATE_LIMITED']);
    await kw.close();
    await zero.kw.close();
  });

  it('a quota of 0 requests or 0 bytes refuses without Retry-After, saying the request can never pass', async () => {
    for (const [quota, detail] of [
      [{ requests: 0, period: 'month' as const }, 'Quota exceeded: none. "none" allows no request: it can never pass.'],
      [{ bytes: 0, period: 'day' as const }, 'Quota exceeded: none. "none" allows no response bytes: it can never pass.'],
    ] as const) {
      const { kw, req } = await setup({ limits: { quotas: { none: quota } } });
      const d = denied(await kw.check(req()));
      expect([d.status, d.code, d.headers['Retry-After'], d.problem.detail]).toEqual([429, 'QUOTA_EXCEEDED', undefined, detail]);
      await kw.close();
    }
  });

  it('a cost given to check() that is not a non-negative number is refused, never counted as 1', async () => {
    const { kw, req } = await setup({ limits: { rules: { burst: { points: 10, window: '1m' } } } });
    // A mount refuses such a cost at start-up; check() must not let Infinity (a request that can never pass), NaN
    // (a cost computed from a missing value) or a string through as a cost of 1.
    for (const cost of [Infinity, -1, NaN, '5']) {
      await expect(kw.check(req(), { cost: cost as number })).rejects.toThrow('keyward: "cost" must be a non-negative finite number');
    }
    expect((await kw.check(req(), { cost: 0 })).headers['RateLimit']).toBe('"burst";r=10;t=60');
    expect((await kw.check(req(), { cost: 2.5 })).headers['RateLimit']).toBe('"burst";r=7;t=60');
    await kw.close();
  });

  it('two limits at once: the tighter one is reported and refuses', async () => {
    const { kw, req } = await setup({ limits: { rules: { burst: { points: 5, window: '10s' }, daily: { points: 2, window: '1d' } }, headers: 'both' } });
    const a = await kw.check(req());
    expect(a.headers['RateLimit']).toBe('"burst";r=4;t=10, "daily";r=1;t=50400');
    expect(a.headers['X-RateLimit-Limit']).toBe('2');
    expect(a.headers['X-RateLimit-Remaining']).toBe('1');
    await kw.check(req());
    const d = denied(await kw.check(req()));
    expect(d.problem['violated-policies']).toEqual(['daily']);
    expect(d.headers['Retry-After']).toBe('50400');
    // the refusal was refunded on burst
    expect(d.headers['RateLimit']).toBe('"burst";r=3;t=10, "daily";r=0;t=50400');
    await kw.close();
  });

  it('plans select limits; per-key overrides replace any of them', async () => {
    const limits = { rules: { burst: { points: 2, window: '1m' } }, plans: { free: {}, pro: { limits: { burst: { points: 5, window: '1m' } } }, unlimited: { limits: { burst: false as const } } }, defaultPlan: 'free' };
    const free = await setup({ limits });
    const pro = await setup({ limits }, { plan: 'pro' });
    const unl = await setup({ limits }, { plan: 'unlimited' });
    const over = await setup({ limits }, { plan: 'pro', limits: { burst: { points: 1 } } });
    const oks = async (s: typeof free, n: number) => { let c = 0; for (let i = 0; i < n; i++) if ((await s.kw.check(s.req())).ok) c++; return c; };
    expect(await oks(free, 10)).toBe(2);
    expect(await oks(pro, 10)).toBe(5);
    expect(await oks(unl, 10)).toBe(10);
    expect(await oks(over, 10)).toBe(1);
    for (const s of [free, pro, unl, over]) await s.kw.close();
  });

  it("an override of a limit the key's plan lacks adds none; it applies once the key's plan has that limit", async () => {
    const limits = { plans: { free: { limits: { daily: { points: 3, window: '1d' } } }, pro: { limits: { burst: { points: 100, window: '10s' } } } }, defaultPlan: 'free' };
    const s = await setup({ limits }, { plan: 'free', limits: { burst: { points: 1 } } });
    expect((await s.kw.check(s.req())).headers['RateLimit-Policy']).toBe('"daily";q=3;w=86400');
    await s.kw.keys.update(s.record.id, { plan: 'pro' });
    const answers = [await s.kw.check(s.req()), await s.kw.check(s.req())];
    expect(answers.map((a) => [a.ok, a.headers['RateLimit-Policy']])).toEqual([[true, '"burst";q=1;w=10'], [false, '"burst";q=1;w=10']]);
    await s.kw.close();
  });

  it('an unknown plan gets the default plan', async () => {
    const s = await setup({ limits: { plans: { free: { limits: { burst: { points: 1, window: '1m' } } }, pro: {} }, defaultPlan: 'free' } }, { plan: 'gold' });
    expect((await s.kw.check(s.req())).ok).toBe(true);
    expect((await s.kw.check(s.req())).ok).toBe(false);
    await s.kw.close();
  });

  it('invalid stored overrides are ignored, never trusted', async () => {
    // Written to the store directly: keys.create() and keys.update() refuse them (below).
    const store = new MemoryKeyStore();
    const s = await setup({ store, limits: { rules: { burst: { points: 1, window: '1m' } } } });
    await store.update(s.record.id, { limits: { burst: { points: -5, window: 'soon' } } as never });
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    expect((await s.kw.check(s.req())).ok).toBe(true);
    expect((await s.kw.check(s.req())).ok).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('invalid limit override'), expect.objectContaining({ code: 'KEYWARD_BAD_LIMIT_OVERRIDE' }));
    warn.mockRestore();
    await s.kw.close();
  });

  it('keys.create() and keys.update() refuse a bad override, naming it, and store nothing', async () => {
    const s = await setup({ limits: { rules: { burst: { points: 1, window: '1m' } }, quotas: { daily: { requests: 5, period: 'day' } } } });
    const create = (limits: unknown) => s.kw.keys.create({ owner: 'acme', limits: limits as never });
    await expect(create({ burst: { points: -5 } })).rejects.toThrow('keyward: "limits.burst.points" must be a non-negative integer');
    await expect(create({ burst: { window: 'soon' } })).rejects.toThrow('"limits.burst.window"');
    await expect(create({ burst: { point: 5 } })).rejects.toThrow('keyward: "limits.burst" has an unknown field "point" (did you mean "points"? known: points, window, requests, bytes)');
    await expect(create({ daily: 100 })).rejects.toThrow('keyward: "limits.daily" must be an object or false');
    await expect(create({ 'no spaces': false })).rejects.toThrow('keyward: "limits" has an invalid name "no spaces"');
    await expect(s.kw.keys.update(s.record.id, { limits: { daily: { request: 5 } } as never })).rejects.toThrow('"limits.daily" has an unknown field "request" (did you mean "requests"?');
    // A field of another kind of limit would be stored and then ignored: the key would keep the plan's value.
    await expect(create({ daily: { points: 100 } })).rejects.toThrow('keyward: "limits.daily.points" does not apply to "daily", which takes "requests"');
    await expect(create({ burst: { requests: 100 } })).rejects.toThrow('keyward: "limits.burst.requests" does not apply to "burst", which takes "points" and "window"');
    await expect(s.kw.keys.update(s.record.id, { limits: { daily: { bytes: 100 } } })).rejects.toThrow('"limits.daily.bytes" does not apply to "daily"');
    // No limit or quota can be named "auth-failures" (the failed-auth block's policy): an override of it would never apply.
    await expect(create({ 'auth-failures': { points: 100 } })).rejects.toThrow('keyward: "limits.auth-failures" names the failed-auth block\'s policy, which no limit or quota can take; a key cannot override it');
    await expect(s.kw.keys.update(s.record.id, { limits: { 'auth-failures': false } })).rejects.toThrow('"limits.auth-failures" names the failed-auth block\'s policy');
    expect((await s.kw.keys.list()).items).toHaveLength(1);
    expect((await s.kw.keys.get(s.record.id))!.limits).toBeUndefined();
    const ok = await create({ burst: { points: 500, window: '10s' }, daily: false, later: { requests: 1 } }); // a name no limit has yet is allowed
    expect(ok.record.limits).toEqual({ burst: { points: 500, window: '10s' }, daily: false, later: { requests: 1 } });
    await s.kw.close();
  });

  it('keys.create() refuses an override of a before-auth limit, which no key can change', async () => {
    const s = await setup({ limits: { rules: { ip: { points: 10, window: '1m', by: 'address', beforeAuth: true }, burst: { points: 1, window: '1m' } } } });
    await expect(s.kw.keys.create({ owner: 'acme', limits: { ip: false } })).rejects.toThrow('keyward: "limits.ip" names a before-authentication limit, which a key can neither change nor switch off');
    await expect(s.kw.keys.create({ owner: 'acme', limits: { ip: { points: 100 } } })).rejects.toThrow('"limits.ip" names a before-authentication limit');
    expect((await s.kw.keys.create({ owner: 'acme', limits: { burst: false } })).record.limits).toEqual({ burst: false });
    await s.kw.close();
  });

  it('keys.create() and keys.update() refuse a plan or an override that is a near miss of a configured one', async () => {
    const s = await setup({
      limits: {
        rules: { burst: { points: 100, window: '10s' } },
        plans: { free: { quotas: { monthly: { requests: 1000, period: 'month' } } }, pro: { limits: { burst: { points: 1000, window: '10s' } } } },
        defaultPlan: 'free',
      },
    });
    const create = (input: object) => s.kw.keys.create({ owner: 'acme', ...input });
    // Stored, `plan: 'proo'` would have given the key the default plan's limits, and `bursst` would have been ignored.
    await expect(create({ plan: 'proo' })).rejects.toThrow('keyward: "plan" names "proo", which is configured nowhere (did you mean "pro"? known: free, pro)');
    await expect(create({ plan: 'Free' })).rejects.toThrow('(did you mean "free"?');
    await expect(create({ limits: { bursst: { points: 5 } } })).rejects.toThrow('keyward: "limits" names "bursst", which is configured nowhere (did you mean "burst"? known: burst, monthly)');
    await expect(create({ limits: { monthy: { requests: 5 } } })).rejects.toThrow('(did you mean "monthly"?');
    await expect(s.kw.keys.update(s.record.id, { plan: 'fre' })).rejects.toThrow('"plan" names "fre"');
    await expect(s.kw.keys.update(s.record.id, { limits: { burts: false } })).rejects.toThrow('"limits" names "burts"');
    // Configured names, and names far from every one (a later configuration may add them), are kept.
    const ok = await create({ plan: 'enterprise', limits: { burst: { points: 5 }, monthly: false, hourly: { requests: 10 } } });
    expect(ok.record).toMatchObject({ plan: 'enterprise', limits: { burst: { points: 5 }, monthly: false, hourly: { requests: 10 } } });
    expect((await s.kw.keys.update(ok.record.id, { plan: 'pro' })).plan).toBe('pro');
    await s.kw.close();
    // Without the limits option, nothing is known, and nothing refused.
    const bare = await setup({});
    expect((await bare.kw.keys.create({ owner: 'acme', plan: 'proo', limits: { bursst: false } })).record.plan).toBe('proo');
    await bare.kw.close();
  });

  it('owner-keyed limits are shared by the owner’s keys; address limits by the IPv6 /56', async () => {
    const s = await setup({ limits: { rules: { team: { points: 2, window: '1m', by: 'owner' } } } });
    const other = (await s.kw.keys.create({ owner: 'acme' })).key;
    expect((await s.kw.check(s.req())).ok).toBe(true);
    expect((await s.kw.check(s.req(other))).ok).toBe(true);
    expect((await s.kw.check(s.req(other))).ok).toBe(false);
    const a = await setup({ limits: { rules: { ip: { points: 1, window: '1m', by: 'address' } } } });
    expect((await a.kw.check(a.req(a.key, '2001:db8:0:1100::1'))).ok).toBe(true);
    expect((await a.kw.check(a.req(a.key, '2001:db8:0:11ff::9'))).ok).toBe(false);
    expect((await a.kw.check(a.req(a.key, '2001:db8:0:1200::1'))).ok).toBe(true);
    expect((await a.kw.check(a.req(a.key, '::ffff:192.0.2.1'))).ok).toBe(true);
    expect((await a.kw.check(a.req(a.key, '192.0.2.1'))).ok).toBe(false);
    const f = await setup({ limits: { rules: { perPath: { points: 1, window: '1m', by: (c: { path: string }) => c.path } } } });
    expect((await f.kw.check(f.req())).ok).toBe(true);
    expect((await f.kw.check(f.req())).ok).toBe(false);
    for (const x of [s, a, f]) await x.kw.close();
  });

  it('address limits count each IPv4 client behind a NAT64 translator on its own, as over IPv4', async () => {
    const a = await setup({ limits: { rules: { ip: { points: 1, window: '1m', by: 'address', beforeAuth: true }, perAddress: { points: 1, window: '1h', by: 'address' } } } });
    const codes = async (address: string) => { const d = await a.kw.check(a.req(a.key, address)); return d.ok ? 'OK' : denied(d).code; };
    expect(await codes('64:ff9b::cb00:7109')).toBe('OK');
    expect(await codes('64:ff9b::cb00:7109')).toBe('RATE_LIMITED');
    expect(await codes('203.0.113.9')).toBe('RATE_LIMITED'); // the same client over IPv4
    expect(await codes('64:ff9b::cb00:710a')).toBe('OK'); // another IPv4 client, same translator
    expect(await codes('64:ff9b:1::cb00:7109')).toBe('OK'); // a local-use translator (RFC 8215)
    expect(await codes('64:ff9b:1::cb00:710a')).toBe('OK');
    expect(await codes('64:ff9b:1::cb00:710a')).toBe('RATE_LIMITED');
    await a.kw.close();
  });

  it('a bucket function answering anything but a name fails the request instead of switching the limit off', async () => {
    const numbered = await setup({ limits: { rules: { tenant: { points: 1, window: '1m', by: () => 42 as unknown as string } } } });
    expect((await numbered.kw.check(numbered.req())).ok).toBe(true);
    expect(denied(await numbered.kw.check(numbered.req())).code).toBe('RATE_LIMITED');
    for (const [answer, what] of [[Promise.resolve('acme'), 'a promise'], [Promise.reject(new Error('lookup failed')), 'a promise'], [{ id: 'acme' }, 'an object'], [true, 'a boolean']] as const) {
      const s = await setup({ limits: { quotas: { monthly: { requests: 1, period: 'month', by: () => answer as unknown as string } } } });
      await expect(s.kw.check(s.req())).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: `keyward: the "by" function of limit "monthly" returned ${what}; it must return a bucket name (a string) or undefined, synchronously` });
      await s.kw.close();
    }
    const skipped = await setup({ limits: { rules: { tenant: { points: 1, window: '1m', by: () => undefined } } } });
    for (let i = 0; i < 3; i++) expect((await skipped.kw.check(skipped.req())).ok).toBe(true);
    await numbered.kw.close();
    await skipped.kw.close();
  });

  it('200 parallel requests against a limit of 50: exactly 50 succeed', async () => {
    const { kw, req } = await setup({ limits: { rules: { burst: { points: 50, window: '1m' }, daily: { points: 1000, window: '1d' } } } });
    const answers = await Promise.all(Array.from({ length: 200 }, () => kw.check(req())));
    expect(answers.filter((a) => a.ok)).toHaveLength(50);
    expect(answers.filter((a) => !a.ok && a.code === 'RATE_LIMITED')).toHaveLength(150);
    const next = await kw.check(req());
    expect(next.headers['RateLimit']).toBe('"burst";r=0;t=60, "daily";r=950;t=50400');
    await kw.close();
  });

  it('a bogus credential never creates a bucket; memory stays bounded under many addresses', async () => {
    const store = memoryLimiterStore({ maxEntries: 500 });
    const { kw, req } = await setup({ limits: { store, rules: { burst: { points: 5, window: '1m' } } } });
    for (let i = 0; i < 300; i++) expect((await kw.check(req(`kw_live_bogus${i}`, `10.0.${i >> 8}.${i & 255}`))).ok).toBe(false);
    expect(store.size).toBe(0);
    // a before-auth address limit: one counter per address, never more than the bound
    const bounded = memoryLimiterStore({ maxEntries: 1000 });
    const ip = await setup({ limits: { store: bounded, rules: { ip: { points: 5, window: '1m', by: 'address', beforeAuth: true } } } });
    for (let i = 0; i < 5000; i++) await ip.kw.check(ip.req(`bogus-${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    expect(bounded.size).toBeLessThanOrEqual(1000);
    for (let i = 0; i < 5; i++) await ip.kw.check(ip.req('bogus', '192.0.2.55'));
    const d = denied(await ip.kw.check(ip.req(ip.key, '192.0.2.55')));
    expect([d.status, d.code]).toEqual([429, 'RATE_LIMITED']);
    expect(bounded.size).toBeLessThanOrEqual(1000);
    await kw.close();
    await ip.kw.close();
  });

  it('quotas: requests per period, refilled at the period start, 429 QUOTA_EXCEEDED with the IANA type', async () => {
    const { kw, clock, req } = await setup({ limits: { quotas: { monthly: { requests: 3, period: 'month', day: 1, timeZone: 'Europe/Paris' } } } });
    for (let i = 0; i < 3; i++) expect((await kw.check(req())).ok).toBe(true);
    const d = denied(await kw.check(req()));
    expect(d.status).toBe(429);
    expect(d.code).toBe('QUOTA_EXCEEDED');
    expect(d.problem.type).toBe('https://iana.org/assignments/http-problem-types#quota-exceeded');
    expect(d.problem['violated-policies']).toEqual(['monthly']);
    const reset = Date.parse('2026-03-31T22:00:00Z'); // April 1st, midnight in Paris (UTC+2)
    expect(d.headers['Retry-After']).toBe(String((reset - T0) / 1000));
    expect(d.headers['RateLimit-Policy']).toBe(`"monthly";q=3;w=${(reset - Date.parse('2026-02-28T23:00:00Z')) / 1000}`);
    clock.set(reset - 1);
    expect((await kw.check(req())).ok).toBe(false);
    clock.set(reset);
    expect((await kw.check(req())).ok).toBe(true);
    await kw.close();
  });

  it('a monthly quota starting on the 31st refills on the last day of a shorter month', async () => {
    const { kw, clock, req } = await setup({ limits: { quotas: { monthly: { requests: 1, period: 'month', day: 31, timeZone: 'Europe/Berlin' } } } });
    expect((await kw.check(req())).headers['RateLimit']).toBe(`"monthly";r=0;t=${(Date.parse('2026-03-30T22:00:00Z') - T0) / 1000}`);
    const refilled = Date.parse('2026-03-30T22:00:00Z'); // March 31st, midnight in Berlin (UTC+2 since the 29th)
    clock.set(refilled - 1);
    expect(denied(await kw.check(req())).headers['Retry-After']).toBe('1');
    clock.set(refilled);
    const a = await kw.check(req());
    expect([a.ok, a.headers['RateLimit-Policy'], a.headers['RateLimit']]).toEqual([true, '"monthly";q=1;w=2592000', '"monthly";r=0;t=2592000']); // to April 30th
    await kw.close();
  });

  it('byte quotas count the finished response and refuse once used up', async () => {
    const { kw, clock, req } = await setup({ limits: { quotas: { egress: { bytes: 1000, period: 'day' } } } });
    const a = await kw.check(req());
    expect(a.ok).toBe(true);
    expect(a.headers['RateLimit-Policy']).toBe('"egress";q=1000;qu="content-bytes";w=86400');
    expect(a.headers['RateLimit']).toBe('"egress";r=1000;t=50400');
    if (a.ok) a.done({ status: 200, bytes: 600 });
    const b = await kw.check(req());
    expect(b.headers['RateLimit']).toBe('"egress";r=400;t=50400');
    if (b.ok) b.done({ status: 200, bytes: 600 });
    const c = denied(await kw.check(req()));
    expect([c.status, c.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(c.problem['violated-policies']).toEqual(['egress']);
    clock.advance(50_400_000);
    expect((await kw.check(req())).ok).toBe(true);
    await kw.close();
  });

  it('a rate-limited request does not use up the quota', async () => {
    const { kw, clock, req } = await setup({ limits: { rules: { burst: { points: 1, window: '1s' } }, quotas: { daily: { requests: 2, period: 'day' } } } });
    expect((await kw.check(req())).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(denied(await kw.check(req())).code).toBe('RATE_LIMITED');
    clock.advance(1000);
    expect((await kw.check(req())).ok).toBe(true);
    clock.advance(1000);
    expect(denied(await kw.check(req())).code).toBe('QUOTA_EXCEEDED');
    await kw.close();
  });

  it('headers can be legacy or off', async () => {
    const off = await setup({ limits: { rules: { burst: { points: 1, window: '1m' } }, headers: false } });
    const a = await off.kw.check(off.req());
    expect(Object.keys(a.headers).filter((h) => /ratelimit/i.test(h))).toEqual([]);
    const d = denied(await off.kw.check(off.req()));
    expect(d.headers['Retry-After']).toBe('60');
    await off.kw.close();
  });

  it('legacy headers of a refusal describe the policy that refused, as Retry-After does', async () => {
    const s = await setup({ limits: { rules: { burst: { points: 10, window: '1m' } }, quotas: { egress: { bytes: 100, period: 'day' } }, headers: 'legacy' } });
    const a = await s.kw.check(s.req());
    expect([a.headers['X-RateLimit-Limit'], a.headers['X-RateLimit-Remaining']]).toEqual(['10', '9']); // the tightest request policy
    if (a.ok) a.done({ status: 200, bytes: 500 });
    // Refused by the byte quota alone: not "9 of 10 left, reset in a minute" next to a Retry-After of 14 hours.
    const d = denied(await s.kw.check(s.req()));
    expect(d.code).toBe('QUOTA_EXCEEDED');
    expect([d.headers['X-RateLimit-Limit'], d.headers['X-RateLimit-Remaining'], d.headers['X-RateLimit-Reset'], d.headers['Retry-After']]).toEqual(['100', '0', String((T0 + 50_400_000) / 1000), '50400']);
    await s.kw.close();
  });

  describe('store failure policy', () => {
    const broken: LimiterStore = { increment: () => Promise.reject(new Error('boom')), get: () => Promise.reject(new Error('boom')) };
    const hanging: LimiterStore = { increment: () => new Promise(() => {}), get: () => new Promise(() => {}) };
    it.each([['throws', broken], ['hangs', hanging]] as const)('when the store %s: deny → 503, allow → through, local → counted in memory', async (_n, store) => {
      const events: KeywardEvent[] = [];
      const rules = { burst: { points: 2, window: '1m' } };
      const deny = await setup({ limits: { store, rules, storeTimeout: 20 } });
      deny.kw.on('store.error', (e) => { events.push(e); });
      const d = denied(await deny.kw.check(deny.req()));
      expect([d.status, d.code, d.headers['Retry-After']]).toEqual([503, 'STORE_UNAVAILABLE', '1']);
      await deny.kw.flushEvents();
      expect(events[0]).toMatchObject({ type: 'store.error', reason: store === broken ? 'STORE_ERROR' : 'STORE_TIMEOUT' });
      expect(JSON.stringify(events)).not.toContain(deny.key);
      const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {}); // "allow" warns once, at start-up
      const allow = await setup({ limits: { store, rules, storeTimeout: 20, storeFailure: 'allow' } });
      warn.mockRestore();
      for (let i = 0; i < 4; i++) expect((await allow.kw.check(allow.req())).ok).toBe(true);
      const local = await setup({ limits: { store, rules, storeTimeout: 20, storeFailure: 'local' } });
      const oks = [];
      for (let i = 0; i < 4; i++) oks.push((await local.kw.check(local.req())).ok);
      expect(oks).toEqual([true, true, false, false]);
      for (const s of [deny, allow, local]) await s.kw.close();
    });

    it('local: a charge the fallback counted is refunded to the fallback, never to the store (whose count would drift down)', async () => {
      // A store (a memory store behind a wrapper, so keyward treats it as remote) that fails to add to the "tight"
      // counters, and takes what is given back: the store recovering between a request's charge and its refund.
      const inner = memoryLimiterStore();
      const flaky: LimiterStore = {
        increment: (k, a, t) => (a > 0 && k.includes(':tight:') ? Promise.reject(new Error('boom')) : inner.increment(k, a, t)),
        get: (k) => inner.get(k),
      };
      const { kw, req, record } = await setup({ limits: { store: flaky, storeFailure: 'local', storeTimeout: 50, rules: { wide: { points: 100, window: '1m' }, tight: { points: 1, window: '1m' } } } });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push((await kw.check(req())).ok);
      expect(answers).toEqual([true, false, false, false]);
      // The store never counted a "tight" charge, so it gets no refund of one either (it got -1 per refusal before);
      // "wide" was counted by the store and refunded there: one request passed.
      const start = Math.floor(T0 / 60_000) * 60_000;
      expect(await inner.get(`r:tight:60000:k:key:${record.id}:${start}`)).toBe(0);
      expect(await inner.get(`r:wide:60000:k:key:${record.id}:${start}`)).toBe(1);
      await kw.close();
    });
  });

  it('validates options at start-up, naming the option', () => {
    const bad: Array<[unknown, string]> = [
      [{ rules: { burst: { points: -1, window: '1m' } } }, 'keyward: option "limits.rules.burst.points" must be a non-negative integer'],
      [{ rules: { burst: { points: 1, window: '10ms' } } }, 'keyward: option "limits.rules.burst.window" must be at least 1 second'],
      [{ rules: { burst: { points: 1, window: '1m', by: 'ip' } } }, 'keyward: option "limits.rules.burst.by" must be "key", "owner", "address" or a function'],
      [{ rules: { burst: { points: 1, window: '1m', beforeAuth: true } } }, 'needs by: "address"'],
      [{ rules: { 'bad name': { points: 1, window: '1m' } } }, 'invalid name'],
      [{ quotas: { q: { requests: 1, bytes: 1, period: 'day' } } }, 'keyward: option "limits.quotas.q" must set exactly one of "requests" and "bytes"'],
      [{ quotas: { q: { requests: 1, period: 'year' } } }, 'keyward: option "limits.quotas.q.period"'],
      [{ quotas: { q: { requests: 1, period: 'month', day: 32 } } }, 'keyward: option "limits.quotas.q.day" must be an integer from 1 to 31'],
      [{ quotas: { q: { requests: 1, period: 'month', day: 0 } } }, 'keyward: option "limits.quotas.q.day" must be an integer from 1 to 31'],
      [{ quotas: { q: { requests: 1, period: 'week', day: 7 } } }, 'keyward: option "limits.quotas.q.day" must be an integer from 0 to 6'],
      // `day` places the start of a week or a month: given for an hour or a day it would be accepted and ignored.
      [{ quotas: { q: { requests: 1, period: 'day', day: 15 } } }, 'keyward: option "limits.quotas.q.day" applies only to period "week" or "month" (an hour starts on the hour, a day at midnight)'],
      [{ plans: { pro: { quotas: { q: { bytes: 1, period: 'hour', day: 1 } } } } }, 'keyward: option "limits.plans.pro.quotas.q.day" applies only to period "week" or "month"'],
      [{ quotas: { q: { requests: 1, period: 'day', timeZone: 'Mars/Base' } } }, 'keyward: option "limits.quotas.q.timeZone"'],
      [{ rules: { x: { points: 1, window: '1m' } }, quotas: { x: { requests: 1, period: 'day' } } }, 'policy names must be unique'],
      // A before-auth limit runs before the plan is known: a plan entry of its name would count it twice (a limit of 10
      // let 5 through) or, as `false`, be silently ignored; a quota of its name would repeat it in the headers.
      [{ rules: { ip: { points: 10, window: '1m', by: 'address', beforeAuth: true } }, quotas: { ip: { requests: 1, period: 'day' } } }, 'policy names must be unique'],
      [{ rules: { ip: { points: 10, window: '1m', by: 'address', beforeAuth: true } }, plans: { free: { limits: { ip: { points: 10, window: '1m', by: 'address' } } } } }, 'keyward: option "limits.plans.free.limits.ip" names the before-authentication limit "limits.rules.ip", which a plan can neither replace nor remove'],
      [{ rules: { ip: { points: 10, window: '1m', by: 'address', beforeAuth: true } }, plans: { off: { limits: { ip: false } } } }, 'keyward: option "limits.plans.off.limits.ip" names the before-authentication limit'],
      [{ rules: { ip: { points: 10, window: '1m', by: 'address', beforeAuth: true } }, plans: { pro: { quotas: { ip: { requests: 1, period: 'day' } } } } }, 'keyward: option "limits.plans.pro.quotas.ip" names the before-authentication limit'],
      [{ defaultPlan: 'gold' }, 'keyward: option "limits.defaultPlan" must name a plan'],
      [{ storeFailure: 'maybe' }, 'keyward: option "limits.storeFailure"'],
      // A silent store would hold every request for as long (the key store's storeTimeout has the same bound).
      [{ storeTimeout: '1h' }, 'keyward: option "limits.storeTimeout" must be from 1 ms to 1 minute'],
      [{ storeTimeout: 0 }, 'keyward: option "limits.storeTimeout" must be from 1 ms to 1 minute'],
      [{ headers: 'all' }, 'keyward: option "limits.headers"'],
      [{ store: { nope: true } }, 'keyward: option "limits.store"'],
    ];
    for (const [limits, message] of bad) {
      expect(() => createKeyward({ limits: limits as never })).toThrow(TypeError);
      expect(() => createKeyward({ limits: limits as never })).toThrow(message);
    }
  });

  it('refuses the name "auth-failures", the failed-auth block\'s RateLimit policy, with the block on or off', () => {
    const reserved = 'which is reserved for the failed-auth block\'s policy in the RateLimit headers; give it another name';
    const cases: Array<[unknown, string]> = [
      [{ rules: { 'auth-failures': { points: 1, window: '1m' } } }, 'limits.rules.auth-failures'],
      [{ rules: { 'auth-failures': { points: 1, window: '1m', by: 'address', beforeAuth: true } } }, 'limits.rules.auth-failures'],
      [{ quotas: { 'auth-failures': { requests: 1, period: 'day' } } }, 'limits.quotas.auth-failures'],
      [{ plans: { pro: { limits: { 'auth-failures': { points: 1, window: '1m' } } } } }, 'limits.plans.pro.limits.auth-failures'],
      [{ plans: { pro: { quotas: { 'auth-failures': false } } } }, 'limits.plans.pro.quotas.auth-failures'],
    ];
    for (const [limits, option] of cases) {
      for (const authFailures of [undefined, { max: 3 }]) {
        const create = () => createKeyward({ limits: limits as never, ...(authFailures ? { authFailures } : {}) });
        expect(create).toThrow(TypeError);
        expect(create).toThrow(`keyward: option "${option}" uses the name "auth-failures", ${reserved}`);
      }
    }
    // other names close to it are fine
    expect(() => createKeyward({ limits: { rules: { 'auth-failure': { points: 1, window: '1m' }, 'Auth-failures': { points: 1, window: '1m' } } } })).not.toThrow();
  });

  it('never mutates the options', async () => {
    const limits = Object.freeze({ rules: Object.freeze({ burst: Object.freeze({ points: 1, window: '1m' }) }), plans: Object.freeze({ pro: Object.freeze({}) }) });
    const kw = createKeyward({ limits });
    await kw.close();
  });
});

/** A signing configuration, so the instance can exchange its keys for tokens (client-credentials grant). */
const SIGNING = { issuer: 'https://api.example', audience: 'docs-api', keys: [{ privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'k1' }], ttl: '10m' };
const EXTERNAL_SECRET = 'an-hmac-secret-that-is-long-enough-0123456789';
const EXTERNAL = 'https://idp.example/';

/** An instance with limits and token exchange, a key of `acme`, and requests with the key or a bearer token. */
async function withTokens(limits: NonNullable<KeywardOptions['limits']>, keyInput: { plan?: string; limits?: Record<string, unknown> } = {}) {
  const clock = manualClock(T0);
  const kw = createKeyward({ clock, limits, tokens: { signing: SIGNING, issuers: [{ issuer: EXTERNAL, audience: 'docs-api', secret: EXTERNAL_SECRET, algorithms: ['HS256'] }] } });
  const { key, record } = await kw.keys.create({ owner: 'acme', ...(keyInput.plan ? { plan: keyInput.plan } : {}), ...(keyInput.limits ? { limits: keyInput.limits as never } : {}) });
  const exchange = async (): Promise<string> => {
    const res = await kw.tokens.endpoint()({ method: 'POST', path: '/oauth/token', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${record.id}:${key}`).toString('base64')}` }, remoteAddress: '198.51.100.7', body: 'grant_type=client_credentials' });
    expect(res.status).toBe(200);
    return JSON.parse(String(res.body)).access_token;
  };
  const asKey = (): AuthRequest => ({ method: 'GET', path: '/x', headers: { 'x-api-key': key }, remoteAddress: '198.51.100.7' });
  const asToken = (token: string): AuthRequest => ({ method: 'GET', path: '/x', headers: { authorization: `Bearer ${token}` }, remoteAddress: '198.51.100.7' });
  const status = async (r: AuthRequest) => { const d = await kw.check(r); return d.ok ? 200 : d.status; };
  return { kw, clock, key, record, exchange, asKey, asToken, status };
}

describe('limits of a token exchanged for an API key: the key\'s own', () => {
  it('a key and its tokens share one rate-limit bucket and one quota: N in all, exactly', async () => {
    const s = await withTokens({ rules: { burst: { points: 6, window: '1m' } }, quotas: { daily: { requests: 5, period: 'day' } } });
    const [t1, t2] = [await s.exchange(), await s.exchange()]; // each exchange is one of the key's requests: 2 of 6, 2 of 5
    const first = await s.kw.check(s.asKey());
    expect(first.headers['RateLimit']).toBe('"burst";r=3;t=60, "daily";r=2;t=50400');
    const second = await s.kw.check(s.asToken(t1));
    expect(second.headers['RateLimit']).toBe('"burst";r=2;t=60, "daily";r=1;t=50400'); // the key's counters, not new ones
    expect(await s.status(s.asToken(t2))).toBe(200);
    const refused = denied(await s.kw.check(s.asToken(t1)));
    expect([refused.status, refused.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect([await s.status(s.asKey()), await s.status(s.asToken(t2))]).toEqual([429, 429]);
    s.clock.advance(86_400_000); // the next day: the quota is refilled for the key and its new tokens alike
    expect([await s.status(s.asToken(await s.exchange())), await s.status(s.asKey())]).toEqual([200, 200]);
    await s.kw.close();
  });

  it("the key's per-key override and plan apply to its tokens, as they are now", async () => {
    const limits = { rules: { burst: { points: 3, window: '1m' } }, plans: { free: {}, pro: { limits: { burst: { points: 6, window: '1m' } } } } };
    const s = await withTokens(limits, { limits: { burst: { points: 1 } } });
    const token = await s.exchange();
    s.clock.advance(60_000); // the exchange was the key's one request of its minute
    // the audit's case: key [200, 429], then its token is refused too instead of 3 more 200s
    expect([await s.status(s.asKey()), await s.status(s.asKey()), await s.status(s.asToken(token)), await s.status(s.asToken(token))]).toEqual([200, 429, 429, 429]);
    expect(denied(await s.kw.check(s.asToken(token))).headers['RateLimit-Policy']).toBe('"burst";q=1;w=60');
    s.clock.advance(60_000);
    expect(await s.status(s.asToken(token))).toBe(200);
    expect(await s.status(s.asKey())).toBe(429);
    // a run-time change of the key reaches the live token on its next request
    await s.kw.keys.update(s.record.id, { plan: 'pro', limits: null });
    const pro = await s.kw.check(s.asToken(token));
    expect([pro.ok, pro.headers['RateLimit-Policy'], pro.headers['RateLimit']]).toEqual([true, '"burst";q=6;w=60', '"burst";r=4;t=60']);
    await s.kw.close();
  });

  it("owner limits count the key's owner; other tokens (another issuer, or issued without client_id) count on their own", async () => {
    const s = await withTokens({ rules: { burst: { points: 1, window: '1m' }, team: { points: 10, window: '1m', by: 'owner' } } });
    const token = await s.exchange();
    s.clock.advance(60_000); // the exchange was the key's one request of its minute
    expect(await s.status(s.asKey())).toBe(200);
    const shared = await s.kw.check(s.asToken(token));
    expect([shared.ok, shared.headers['RateLimit']]).toEqual([false, '"burst";r=0;t=60, "team";r=9;t=60']);
    const { SignJWT } = await import('jose');
    const external = await new SignJWT({ iss: EXTERNAL, aud: 'docs-api', sub: s.record.id, client_id: s.record.id, owner: 'acme' })
      .setProtectedHeader({ alg: 'HS256' }).setIssuedAt(Math.floor(T0 / 1000)).setExpirationTime(Math.floor(T0 / 1000) + 600).sign(new TextEncoder().encode(EXTERNAL_SECRET));
    expect(await s.status(s.asToken(external))).toBe(200); // another issuer's client_id names no key of ours
    const issued = (await s.kw.tokens.issue({ subject: 'svc-1', claims: { owner: 'acme' } })).token;
    expect(await s.status(s.asToken(issued))).toBe(200); // no client_id: a principal of its own
    expect(await s.status(s.asToken(issued))).toBe(429);
    await s.kw.close();
  });
});

describe('a "by" function that throws', () => {
  /** Limits before and after a custom bucket whose function throws while `failing.on`; `store` if given. */
  function throwing(failing: { on: boolean }, store?: NonNullable<KeywardOptions['limits']>['store']) {
    const by = () => {
      if (failing.on) throw new Error('tenant lookup failed');
      return 'tenant-1';
    };
    return {
      ...(store ? { store } : {}),
      rules: { ip: { points: 2, window: '1m', by: 'address' as const, beforeAuth: true }, burst: { points: 2, window: '1m' }, tenant: { points: 10, window: '1m', by } },
      quotas: { daily: { requests: 2, period: 'day' as const }, perTenant: { requests: 10, period: 'day' as const, by: () => (failing.on ? 'x' : 'tenant-1') } },
    };
  }

  /** After one failed request, the two allowed by every limit still pass: the failure used up nothing. */
  async function expectRefunded(options: KeywardOptions['limits'], failing: { on: boolean }) {
    const { kw, req } = await setup({ limits: options });
    failing.on = true;
    await expect(kw.check(req())).rejects.toThrow('tenant lookup failed');
    failing.on = false;
    const answers = [await kw.check(req()), await kw.check(req()), await kw.check(req())];
    expect(answers.map((a) => a.ok)).toEqual([true, true, false]);
    expect(answers[0]!.headers['RateLimit']).toContain('"burst";r=1;t=60');
    await kw.close();
  }

  it('in a rule: the request fails, and what the limits before it charged (before-auth ones too) is refunded', async () => {
    const failing = { on: false };
    await expectRefunded(throwing(failing), failing);
  });

  it('in a quota: the rules that passed and the quotas before it are refunded', async () => {
    const failing = { on: false };
    const options = throwing(failing);
    options.rules.tenant.by = () => 'tenant-1';
    options.quotas.perTenant.by = () => {
      if (failing.on) throw new Error('tenant lookup failed');
      return 'tenant-1';
    };
    await expectRefunded(options, failing);
  });
});

describe('limits feature on the real Redis', () => {
  /** Runs `body` with a real Redis client and a fresh key prefix, and removes what it wrote. */
  async function onRedis(body: (store: { redis: Redis; prefix: string }) => Promise<void>): Promise<void> {
    const { default: Redis } = await import('ioredis');
    const { randomUUID } = await import('node:crypto');
    const client = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
    await client.ping();
    const prefix = `keyward-test:limits-feature:${randomUUID()}`;
    try {
      await body({ redis: client, prefix });
    } finally {
      const keys = await client.keys(`${prefix}:*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
  }

  it('counts exactly through { store: { redis } }: 100 parallel against 30', () =>
    onRedis(async (store) => {
      const { kw, req } = await setup({ limits: { store, rules: { burst: { points: 30, window: '1m' } } } });
      const answers = await Promise.all(Array.from({ length: 100 }, () => kw.check(req())));
      expect(answers.filter((a) => a.ok)).toHaveLength(30);
      expect(answers.filter((a) => !a.ok && a.code === 'RATE_LIMITED')).toHaveLength(70);
      await kw.close();
    }));

  it('a "by" function that throws refunds what the limits before it charged in Redis', () =>
    onRedis(async (store) => {
      let failing = false;
      const by = () => {
        if (failing) throw new Error('tenant lookup failed');
        return 'tenant-1';
      };
      const { kw, req } = await setup({ limits: { store, rules: { ip: { points: 2, window: '1m', by: 'address', beforeAuth: true }, burst: { points: 2, window: '1m' }, tenant: { points: 10, window: '1m', by } }, quotas: { daily: { requests: 2, period: 'day' }, perTenant: { requests: 10, period: 'day', by } } } });
      failing = true;
      await expect(kw.check(req())).rejects.toThrow('tenant lookup failed');
      failing = false;
      const answers = [await kw.check(req()), await kw.check(req()), await kw.check(req())];
      expect(answers.map((a) => a.ok)).toEqual([true, true, false]);
      expect(answers[0]!.headers['RateLimit']).toContain('"burst";r=1;t=60');
      await kw.close();
    }));

  it('a key and its exchanged tokens count in one bucket: 60 parallel, half by key, half by token, against 25', () =>
    onRedis(async (store) => {
      const s = await withTokens({ store, rules: { burst: { points: 25, window: '1m' } } });
      const token = await s.exchange(); // one of the 25, counted in Redis too
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => s.kw.check(i % 2 === 0 ? s.asKey() : s.asToken(token))));
      expect(answers.filter((a) => a.ok)).toHaveLength(24);
      expect(answers.filter((a) => !a.ok && a.code === 'RATE_LIMITED')).toHaveLength(36);
      await s.kw.close();
    }));
});

describe('limits stages: synchronous with the memory store, asynchronous with any other', () => {
  const principal: Principal = { type: 'key', id: 'key-1', owner: 'acme', scopes: [] } as unknown as Principal;

  function stages(limits: KeywardOptions['limits']) {
    const clock = manualClock(T0);
    const deps = { clock, events: new EventBus(clock), challenge: { realm: 'keyward', schemes: ['Bearer'] } } as unknown as FeatureDeps;
    const feature = limitsFeature({ clock, limits }, deps)!;
    return { feature, limits: feature.stages!.limits!, preauth: feature.stages!.preauth };
  }

  function context(cost?: number): PipelineContext {
    return {
      request: { method: 'GET', path: '/x', headers: {} },
      requirements: cost === undefined ? {} : { cost },
      scopes: undefined,
      requestId: 'req-1',
      now: T0,
      clientAddress: '198.51.100.7',
      principal,
      headers: {},
      state: new Map(),
      onDone: [],
    };
  }

  /** A user store answering with promises: not the memory store, so it goes through the timeout and failure policy. */
  function asyncStore(): LimiterStore {
    const counters = memoryLimiterStore({ clock: manualClock(T0) });
    return { increment: async (k, a, t) => counters.increment(k, a, t), get: async (k) => counters.get(k) };
  }

  it('with the memory store, allows and refuses without a promise, refunds and reports like before', async () => {
    const s = stages({ rules: { burst: { points: 5, window: '10s' }, daily: { points: 2, window: '1d' } }, quotas: { monthly: { requests: 10, period: 'month' } } });
    const answers: StageResult[] = [];
    const contexts: PipelineContext[] = [];
    for (let i = 0; i < 3; i++) {
      const ctx = context();
      const r = s.limits(ctx);
      expect(r).not.toBeInstanceOf(Promise);
      answers.push(r as StageResult);
      contexts.push(ctx);
    }
    expect(answers.slice(0, 2)).toEqual([undefined, undefined]);
    expect(contexts[0]!.headers['RateLimit']).toBe('"burst";r=4;t=10, "daily";r=1;t=50400, "monthly";r=9;t=2556000');
    const d = answers[2] as DenyDecision;
    expect([d.status, d.code, d.headers['Retry-After']]).toEqual([429, 'RATE_LIMITED', '50400']);
    // the refused request was refunded on burst and never reached the quota
    expect(d.headers['RateLimit']).toBe('"burst";r=3;t=10, "daily";r=0;t=50400');
    await s.feature.close?.();
  });

  it('with the memory store, before-auth limits and byte quotas answer at once too', async () => {
    const s = stages({ rules: { ip: { points: 1, window: '1m', by: 'address', beforeAuth: true } }, quotas: { egress: { bytes: 100, period: 'day' } } });
    const ctx = context();
    expect(s.preauth!(ctx)).toBeUndefined();
    expect(s.limits(ctx)).toBeUndefined();
    expect(ctx.headers['RateLimit']).toBe('"ip";r=0;t=60, "egress";r=100;t=50400');
    expect(ctx.onDone).toHaveLength(1);
    ctx.onDone[0]!({ status: 200, bytes: 100, durationMs: 1 } as Completion);
    const next = context();
    const refused = s.limits(next) as DenyDecision;
    expect([refused.status, refused.code]).toEqual([429, 'QUOTA_EXCEEDED']);
    const blocked = s.preauth!(context()) as DenyDecision;
    expect([blocked.status, blocked.code]).toEqual([429, 'RATE_LIMITED']);
    await s.feature.close?.();
  });

  it('a memory store passed as an option is counted synchronously as well', async () => {
    const store = memoryLimiterStore({ clock: manualClock(T0) });
    const s = stages({ store, rules: { burst: { points: 1, window: '1m' } } });
    expect(s.limits(context())).toBeUndefined();
    expect((s.limits(context()) as DenyDecision).code).toBe('RATE_LIMITED');
    expect(await store.get(`r:burst:60000:k:key:key-1:${Math.floor(T0 / 60_000) * 60_000}`)).toBe(1); // the refusal was refunded
    await s.feature.close?.();
  });

  it('with an asynchronous store, the stages answer with promises and the same decisions', async () => {
    const s = stages({ store: asyncStore(), rules: { ip: { points: 2, window: '1m', by: 'address', beforeAuth: true }, burst: { points: 1, window: '10s' } }, quotas: { egress: { bytes: 100, period: 'day' } } });
    const ctx = context();
    const pre = s.preauth!(ctx);
    expect(pre).toBeInstanceOf(Promise);
    expect(await pre).toBeUndefined();
    const first = s.limits(ctx);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBeUndefined();
    expect(ctx.headers['RateLimit']).toBe('"ip";r=1;t=60, "burst";r=0;t=10, "egress";r=100;t=50400');
    const second = s.limits(context());
    expect(second).toBeInstanceOf(Promise);
    const d = (await second) as DenyDecision;
    expect([d.status, d.code, d.headers['Retry-After'], d.headers['RateLimit']]).toEqual([429, 'RATE_LIMITED', '10', '"burst";r=0;t=10']);
    await s.feature.close?.();
  });

  it('with an asynchronous store, 200 parallel requests against a limit of 50: exactly 50 succeed', async () => {
    const { kw, req } = await setup({ limits: { store: asyncStore(), rules: { burst: { points: 50, window: '1m' }, daily: { points: 1000, window: '1d' } } } });
    const answers = await Promise.all(Array.from({ length: 200 }, () => kw.check(req())));
    expect(answers.filter((a) => a.ok)).toHaveLength(50);
    expect(answers.filter((a) => !a.ok && a.code === 'RATE_LIMITED')).toHaveLength(150);
    expect((await kw.check(req())).headers['RateLimit']).toBe('"burst";r=0;t=60, "daily";r=950;t=50400');
    await kw.close();
  });
});
