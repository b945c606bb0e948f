import { createKeyward, type Keyward } from '../keyward';
import type { KeywardOptions } from './options';
import { fieldsOf, refuseUnknownFields, refuseUnknownInput } from './fields';

const SECRET = 'a-thirty-two-byte-long-hmac-secret-value!';
const issuer = (extra: Record<string, unknown> = {}) => ({ issuer: 'https://issuer.test', secret: SECRET, algorithms: ['HS256'], audience: 'api', ...extra });
const signing = (extra: Record<string, unknown> = {}) => ({ issuer: 'https://keyward.test', keys: [{ secret: SECRET, alg: 'HS256', kid: 'k1' }], ...extra });

/** createKeyward's error for `options`, or `undefined` when it accepted them (the instance is closed). */
function refusal(options: unknown): string | undefined {
  try {
    void createKeyward(options as KeywardOptions).close();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
}

describe('unknown option fields are refused at start-up, naming the field and the likely one', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a top-level typo', { publicPath: ['/health'] }, 'keyward: unknown option "publicPath" (did you mean "publicPaths"?)'],
    ['a top-level name in the wrong case', { trustproxy: ['loopback'] }, 'keyward: unknown option "trustproxy" (did you mean "trustProxy"?)'],
    ['a top-level name like none', { somethingElse: 1 }, 'keyward: unknown option "somethingElse"'],
    ['cache', { cache: { tll: 1000 } }, 'keyward: option "cache" has an unknown field "tll" (did you mean "ttl"? known: max, ttl)'],
    ['a rate limit given where its rules go', { limits: { burst: { points: 10, window: '10s' } } }, 'keyward: option "limits" has an unknown field "burst" (known: rules, quotas, plans, defaultPlan, store, storeFailure, storeTimeout, headers, ipv6Subnet, maxEntries)'],
    ['a rate limit', { limits: { rules: { burst: { point: 10, window: '10s' } } } }, 'option "limits.rules.burst" has an unknown field "point" (did you mean "points"?'],
    ['a quota', { limits: { quotas: { daily: { requests: 10, period: 'day', timezone: 'UTC' } } } }, 'option "limits.quotas.daily" has an unknown field "timezone" (did you mean "timeZone"?'],
    ['a plan', { limits: { plans: { free: { limit: {} } } } }, 'option "limits.plans.free" has an unknown field "limit" (did you mean "limits"?'],
    ['authFailures', { authFailures: { maxx: 3 } }, 'option "authFailures" has an unknown field "maxx" (did you mean "max"?'],
    ['loadShedding', { loadShedding: { maxEventLoopDelays: 100 } }, 'option "loadShedding" has an unknown field "maxEventLoopDelays" (did you mean "maxEventLoopDelay"?'],
    ['metrics', { metrics: { maxKey: 10 } }, 'option "metrics" has an unknown field "maxKey" (did you mean "maxKeys"?'],
    ['anomalies', { anomalies: { warmup: '1h', suspended: true } }, 'option "anomalies" has an unknown field "suspended" (did you mean "suspend"?'],
    ['keyPolicy', { keyPolicy: { maxAge: '90d', gracePeriods: '1d' } }, 'option "keyPolicy" has an unknown field "gracePeriods" (did you mean "gracePeriod"?'],
    ['tokens', { tokens: { issuer: [issuer()] } }, 'option "tokens" has an unknown field "issuer" (did you mean "issuers"?'],
    ['a trusted issuer', { tokens: { issuers: [issuer({ audiance: 'api' })] } }, 'option "tokens.issuers[0]" has an unknown field "audiance" (did you mean "audience"?'],
    ['a remote key set cache', { tokens: { issuers: [{ issuer: 'https://issuer.test', jwksUri: 'https://issuer.test/jwks', algorithms: ['RS256'], audience: 'api', jwksCache: { maxage: '1m' } }] } }, 'option "tokens.issuers[0].jwksCache" has an unknown field "maxage" (did you mean "maxAge"?'],
    ['a claim mapping', { tokens: { issuers: [issuer({ claims: { scope: 'scp' } })] } }, 'option "tokens.issuers[0].claims" has an unknown field "scope" (did you mean "scopes"?'],
    ['signing', { tokens: { signing: signing({ ttl: '5m', maxTTL: '1h' }) } }, 'option "tokens.signing" has an unknown field "maxTTL" (did you mean "maxTtl"?'],
    ['a signing key', { tokens: { signing: signing({ keys: [{ secret: SECRET, alg: 'HS256', keyId: 'k1' }] }) } }, 'option "tokens.signing.keys[0]" has an unknown field "keyId" (did you mean "kid"? known: kid, alg, privateKey, privateKeyEnv, secret, secretEnv)'],
    ['the token cache', { tokens: { issuers: [issuer()], cache: { maxSize: 10 } } }, 'option "tokens.cache" has an unknown field "maxSize" (known: max, ttl)'],
  ])('%s', (_what, options, message) => {
    expect(refusal(options)).toContain(message);
  });

  it('accepts every documented option and field (the lists are checked against the types by the compiler)', () => {
    expect(refusal({
      publicPaths: ['/health'], cache: { max: 10, ttl: '1s' }, trustProxy: ['loopback'], keyPolicy: { maxAge: '90d', gracePeriod: '1h' },
      limits: { rules: { burst: { points: 10, window: '10s', by: 'key' } }, quotas: { daily: { requests: 100, period: 'day', timeZone: 'UTC' } }, plans: { free: { limits: {}, quotas: {} } }, defaultPlan: 'free' },
      authFailures: { max: 3, window: '1m', block: '1m' }, metrics: { maxKeys: 10 }, anomalies: { warmup: '1h', suspend: false },
      tokens: { issuers: [issuer({ claims: { scopes: 'scp' }, requireExp: true })], signing: signing({ ttl: '5m', maxTtl: '1h' }), cache: { max: 10, ttl: '1m' } },
    })).toBeUndefined();
  });

  it('names a field, never a value, keeps a name on one line, and never shows a long or key-like one', () => {
    const message = refusal({ limits: { rules: { burst: { points: 1, window: '1s', secret: SECRET } } } })!;
    expect(message).toContain('"secret"');
    expect(message).not.toContain(SECRET);
    expect(refusal({ 'public\nPaths': 1 })).toBe('keyward: unknown option "public\\nPaths" (did you mean "publicPaths"?)');
    expect(refusal({ [`x\n${'y'.repeat(200)}`]: 1 })).toBe('keyward: unknown option (a name of 202 characters, not shown: it could be a credential)');
    // A key used as a name by mistake (e.g. as a limit's name, or spread into the options): never echoed.
    const key = 'kw_live_4f9QbZ2mXr7LpT0aVcY8nHs3' + 'dK1eWuJ6';
    expect(refusal({ cache: { [key]: 1 } })).toBe('keyward: option "cache" has an unknown field (a name of 40 characters, not shown: it could be a credential) (known: max, ttl)');
    expect(refusal({ [key.slice(0, 36)]: 1 })).not.toContain(key.slice(8, 36));
  });

  it('also for the helpers themselves', () => {
    const known = fieldsOf<{ alpha?: number; beta?: number }>({ alpha: true, beta: true });
    expect(() => refuseUnknownFields({ alpha: 1, beta: 2 }, known, 'thing')).not.toThrow();
    expect(() => refuseUnknownFields({ alpah: 1 }, known, 'thing')).toThrow('keyward: option "thing" has an unknown field "alpah" (did you mean "alpha"? known: alpha, beta)');
    expect(() => refuseUnknownInput({ gamma: 1 }, known, 'thing()')).toThrow('keyward: thing() has an unknown field "gamma" (known: alpha, beta)');
  });
});

describe('unknown fields in the input of a call are refused before anything is stored or signed', () => {
  let kw: Keyward;
  beforeEach(() => {
    kw = createKeyward({ tokens: { signing: signing() } });
  });
  afterEach(() => kw.close());

  it('keys.create: a misspelt expiry does not make a key that never expires', async () => {
    await expect(kw.keys.create({ owner: 'acme', expiresInn: '90d' } as never)).rejects.toThrow('keyward: keys.create() has an unknown field "expiresInn" (did you mean "expiresIn"?');
    expect((await kw.keys.list()).items).toHaveLength(0);
  });

  it('keys.import, keys.update and keys.rotate', async () => {
    await expect(kw.keys.import({ owner: 'acme', sha: 'e3b0c442' } as never)).rejects.toThrow('keyward: keys.import() has an unknown field "sha" (known:');
    const { record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    await expect(kw.keys.update(record.id, { scope: ['admin'] } as never)).rejects.toThrow('keyward: keys.update() has an unknown field "scope" (did you mean "scopes"?');
    await expect(kw.keys.update(record.id, undefined as never)).rejects.toThrow('keyward: keys.update() takes an options object');
    await expect(kw.keys.rotate(record.id, { grace: '1h' } as never)).rejects.toThrow('keyward: keys.rotate() has an unknown field "grace" (known: gracePeriod)');
    expect((await kw.keys.get(record.id))!.scopes).toEqual(['docs:read']);
    expect((await kw.keys.list()).items).toHaveLength(1);
  });

  it('keys.list, revoke, disable, revokeOwner, revokeCreatedBefore, dueForRotation: a misspelt filter never widens the call', async () => {
    const a = await kw.keys.create({ owner: 'acme' });
    const b = await kw.keys.create({ owner: 'globex' });
    await expect(kw.keys.list({ ownr: 'acme' } as never)).rejects.toThrow('keyward: keys.list() has an unknown field "ownr" (did you mean "owner"? known: owner, limit, cursor)');
    await expect(kw.keys.revokeCreatedBefore(Date.now() + 60_000, { ownr: 'acme' } as never)).rejects.toThrow('keyward: keys.revokeCreatedBefore() has an unknown field "ownr" (did you mean "owner"? known: reason, owner)');
    await expect(kw.keys.revoke(a.record.id, { reson: 'leaked' } as never)).rejects.toThrow('keyward: keys.revoke() has an unknown field "reson" (did you mean "reason"? known: reason)');
    await expect(kw.keys.disable(a.record.id, { why: 'paused' } as never)).rejects.toThrow('keyward: keys.disable() has an unknown field "why" (known: reason)');
    await expect(kw.keys.revokeOwner('acme', { resaon: 'gone' } as never)).rejects.toThrow('keyward: keys.revokeOwner() has an unknown field "resaon" (did you mean "reason"?');
    await expect(kw.keys.dueForRotation({ maxage: '90d' } as never)).rejects.toThrow('keyward: keys.dueForRotation() has an unknown field "maxage" (did you mean "maxAge"?');
    await expect(kw.keys.list(null as never)).rejects.toThrow('keyward: keys.list() takes an options object');
    for (const { record } of [a, b]) expect((await kw.keys.get(record.id))!.status).toBe('active'); // nothing was revoked or disabled
    expect((await kw.keys.list({ owner: 'acme' })).items.map((k) => k.id)).toEqual([a.record.id]);
  });

  it('tokens.issue', async () => {
    await expect(kw.tokens.issue({ subject: 'svc', scope: ['docs:read'] } as never)).rejects.toThrow('keyward: tokens.issue() has an unknown field "scope" (did you mean "scopes"?');
  });
});
