import { inspect } from 'node:util';
import { parseOptions } from './config';
import { createKeyward } from '../keyward';
import { LruCache } from '../util/lru';
import { parseDuration } from '../util/duration';
import { manualClock } from '../util/clock';

describe('options', () => {
  it('fills safe defaults and never mutates the input', () => {
    const input = Object.freeze({ publicPaths: Object.freeze(['/health']) });
    const c = parseOptions(input as never);
    expect(c).toMatchObject({ prefix: 'kw', env: 'live', randomBits: 192, realm: 'keyward', skipPreflight: true, cache: { max: 10_000, ttlMs: 5_000 } });
    expect(c.extraction).toEqual({ header: 'x-api-key', schemes: ['bearer'], queryParam: false, maxLength: 8192 });
    expect(c.publicPaths[0]!('/health')).toBe(true);
  });

  it('answers a /g or /y publicPaths RegExp the same on every request, and never touches the caller\'s RegExp', async () => {
    const health = /^\/health/g;
    const sticky = /\/status/y;
    const options = Object.freeze({ publicPaths: Object.freeze([health, sticky]) });
    const c = parseOptions(options);
    for (let i = 0; i < 4; i++) {
      expect(c.publicPaths[0]!('/health')).toBe(true);
      expect(c.publicPaths[1]!('/status')).toBe(true);
    }
    expect(c.publicPaths[0]!('/other')).toBe(false);
    const kw = createKeyward(options);
    for (let i = 0; i < 4; i++) expect(await kw.check({ method: 'GET', path: '/health', headers: {} })).toMatchObject({ ok: true, skipped: true, principal: undefined });
    expect([health.lastIndex, sticky.lastIndex]).toEqual([0, 0]);
    expect([health.flags, sticky.flags]).toEqual(['g', 'y']);
    await kw.close();
  });

  it.each([
    [{ prefix: 'Bad' }, '"prefix"'],
    [{ env: 'LIVE' }, '"env"'],
    [{ randomBits: 64 }, '"randomBits"'],
    [{ header: 'bad header' }, '"header"'],
    [{ header: 'authorization' }, '"header"'],
    [{ schemes: ['ok', 'b a d'] }, '"schemes[1]"'],
    [{ queryParam: 'a b' }, '"queryParam"'],
    [{ maxCredentialLength: 1 }, '"maxCredentialLength"'],
    [{ realm: 'a"b' }, '"realm"'],
    [{ cache: { max: -1 } }, '"cache.max"'],
    [{ cache: { ttl: 'soon' } }, '"cache.ttl"'],
    [{ publicPaths: ['health'] }, '"publicPaths[0]"'],
    [{ publicPaths: ['/health', '/public*'] }, 'keyward: option "publicPaths[1]" may end in "/*" (the path and everything below it) but has no other wildcard'],
    [{ publicPaths: ['/v1/*/docs'] }, '"publicPaths[0]" may end in "/*"'],
    [{ clock: 42 }, '"clock"'],
    [{ requestIdHeader: 'a b' }, '"requestIdHeader"'],
    [{ store: { get() {} } }, '"store"'],
    [{ invalidation: {} }, '"invalidation" must implement InvalidationChannel (missing publish())'],
    [{ invalidation: { publish: async () => {} } }, '"invalidation" must implement InvalidationChannel (missing subscribe())'],
    [{ invalidation: { publish: 'redis', subscribe: 'redis' } }, '"invalidation"'],
    [{ invalidation: null }, '"invalidation"'],
    [{ header: false, bearer: false }, '"header", "bearer"'],
    [{ pepper: '' }, '"pepper"'],
    [{ pepper: { current: '' } }, '"pepper.current"'],
    [{ pepper: { previous: ['p'.repeat(40)] } }, 'keyward: option "pepper.current" must be a non-empty string'],
    [{ pepper: { current: 'p'.repeat(40), previous: 'q'.repeat(40) } }, 'keyward: option "pepper.previous" must be an array of non-empty strings'],
    [{ pepper: { current: 'p'.repeat(40), previous: [''] } }, '"pepper.previous"'],
    [{ pepper: { current: 'p'.repeat(40), previuos: ['q'.repeat(40)] } }, 'option "pepper" has an unknown field "previuos"'],
    [{ environment: { KEYWARD_PEPPER_PREVIOUS: 'q'.repeat(40) } }, 'keyward: KEYWARD_PEPPER_PREVIOUS needs a current pepper too'],
    [{ onListenerError: 'log' }, 'keyward: option "onListenerError" must be a function'],
    [{ environment: 'production' }, 'keyward: option "environment" must be an object of environment variables'],
  ])('refuses %p with a TypeError naming %s', (options, name) => {
    expect(() => parseOptions(options as never)).toThrow(TypeError);
    expect(() => parseOptions(options as never)).toThrow(name);
  });

  it.each(['clock', 'env', 'prefix', 'storeTimeout', 'trackLastUsed', 'environment', 'restrictions', 'proxyHeader', 'randomBits'])('refuses %s: null by name (it was taken for the default)', (name) => {
    expect(() => parseOptions({ [name]: null } as never)).toThrow(new TypeError(`keyward: option "${name}" must not be null; leave it out for its default`));
  });

  it('createKeyward refuses an invalidation channel that could not carry a revocation (it was accepted, and lost them)', () => {
    const halfChannel = { publish: async () => {} };
    expect(() => createKeyward({ invalidation: halfChannel as never })).toThrow(new TypeError('keyward: option "invalidation" must implement InvalidationChannel (missing subscribe())'));
    const channel = { publish: async () => {}, subscribe: async () => () => {} };
    return createKeyward({ invalidation: channel }).close();
  });

  it('reads the pepper from the environment or a file, and warns when it is short', () => {
    expect(parseOptions({ environment: { KEYWARD_PEPPER: 'e'.repeat(40) } }).pepper).toBe('e'.repeat(40));
    expect(() => parseOptions({ environment: { KEYWARD_PEPPER_FILE: '/nonexistent/pepper' } })).toThrow(/KEYWARD_PEPPER_FILE/);
  });

  it('reads previous peppers from the option or KEYWARD_PEPPER_PREVIOUS (comma- or newline-separated), without the current one', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(40)) as [string, string, string];
    expect(parseOptions({ pepper: { current: a, previous: [b, a, c, b] } })).toMatchObject({ pepper: a, previousPeppers: [b, c] });
    expect(parseOptions({ environment: { KEYWARD_PEPPER: a, KEYWARD_PEPPER_PREVIOUS: `${b},${c}\n` } })).toMatchObject({ pepper: a, previousPeppers: [b, c] });
    expect(parseOptions({ pepper: a })).toMatchObject({ pepper: a, previousPeppers: [] });
    // No pepper in a message: a misplaced one is refused by the name of its option.
    const error = (() => { try { parseOptions({ pepper: { current: a, previous: b } as never }); } catch (e) { return e as Error; } return undefined; })();
    expect(error?.message).not.toContain(b);
  });

  it('never shows the pepper: not in util.inspect or JSON of the instance or its config, and keys still hash with it', async () => {
    const pepper = 'PEPPER-0123456789abcdef-0123456789abcdef';
    const previous = 'OLDPEPPER-0123456789abcdef-0123456789abcdef';
    const kw = createKeyward({ pepper: { current: pepper, previous: [previous] } });
    const { key } = await kw.keys.create({ owner: 'a' });
    for (const text of [inspect(kw, { depth: 20 }), inspect(kw.config, { depth: 20 }), JSON.stringify(kw), JSON.stringify(kw.config), JSON.stringify({ ...kw.config })]) {
      expect(text).not.toContain(pepper);
      expect(text).not.toContain(previous);
    }
    expect(kw.config.pepper).toBe(pepper);
    expect((await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key } })).ok).toBe(true);
    await kw.close();
  });

  it('parses durations', () => {
    expect(parseDuration('90d', 'x')).toBe(90 * 86_400_000);
    expect(parseDuration('1.5h', 'x')).toBe(5_400_000);
    expect(parseDuration(250, 'x')).toBe(250);
    expect(() => parseDuration('-1s', 'maxAge')).toThrow(/"maxAge"/);
    expect(parseDuration('36525d', 'x')).toBe(36_525 * 86_400_000); // 100 years, the most any option takes
    expect(() => parseDuration('36526d', 'gracePeriod')).toThrow('keyward: option "gracePeriod" must be at most 100 years');
    expect(() => parseDuration(Number.MAX_SAFE_INTEGER, 'ttl')).toThrow('keyward: option "ttl" must be at most 100 years');
  });

  it('refuses at start-up, by name, a duration a later date could not hold, instead of failing on first use', async () => {
    const huge = '1000000000d';
    expect(() => createKeyward({ keyPolicy: { gracePeriod: huge } })).toThrow(/"keyPolicy.gracePeriod" must be at most 100 years|"gracePeriod" must be at most 100 years/);
    expect(() => createKeyward({ authFailures: { max: 2, window: huge } })).toThrow(/must be at most 100 years/);
    const kw = createKeyward();
    const { record } = await kw.keys.create({ owner: 'acme' });
    await expect(kw.keys.rotate(record.id, { gracePeriod: huge })).rejects.toThrow(/"gracePeriod" must be at most 100 years/);
    await expect(kw.keys.create({ owner: 'acme', expiresIn: huge })).rejects.toThrow(/"expiresIn" must be at most 100 years/);
    await expect(kw.keys.create({ owner: 'acme', expiresAt: 8.7e15 })).rejects.toThrow(/"expiresAt" must be a Date/);
    await kw.close();
  });
});

describe('LruCache', () => {
  it('is bounded and expires entries by its clock', () => {
    const clock = manualClock(0);
    const c = new LruCache<string, number>(3, 1000, clock);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i);
    expect(c.size).toBe(3);
    expect(c.get('k9')).toBe(9);
    expect(c.get('k0')).toBeUndefined();
    clock.advance(1000);
    expect(c.get('k9')).toBeUndefined();
    c.set('short', 1, 10);
    clock.advance(11);
    expect(c.get('short')).toBeUndefined();
  });
});
