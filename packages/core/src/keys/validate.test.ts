import { createKeyward } from '../index';
import { checkObject, holdsCredential } from './validate';

describe('checkObject', () => {
  it('refuses an object whose JSON form is not an object (a Date, a toJSON() returning null, a string or an array)', () => {
    for (const value of [new Date(0), { toJSON: () => null }, { toJSON: () => 'x' }, { toJSON: () => [1] }]) {
      expect(() => checkObject(value, 'metadata')).toThrow('keyward: "metadata" must be a plain object (its JSON form is not an object)');
    }
    expect(checkObject({ toJSON: () => ({ a: 1 }) }, 'metadata')).toEqual({ a: 1 });
    expect(checkObject({ at: new Date(0) }, 'metadata')).toEqual({ at: '1970-01-01T00:00:00.000Z' });
  });

  it('so keys.create and keys.update never store metadata that a rotation would then refuse', async () => {
    const kw = createKeyward();
    await expect(kw.keys.create({ owner: 'acme', metadata: new Date(0) as unknown as Record<string, unknown> })).rejects.toThrow('"metadata" must be a plain object');
    const { record } = await kw.keys.create({ owner: 'acme', metadata: { a: 1 } });
    await expect(kw.keys.update(record.id, { metadata: { toJSON: () => null } })).rejects.toThrow('"metadata" must be a plain object');
    expect((await kw.keys.rotate(record.id)).record.metadata).toEqual({ a: 1 });
    await kw.close();
  });
});

describe('holdsCredential', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64url');

  it('finds a JWT whose JSON has white space (`{ "alg": … }` is `eyAi…`), so it is not stored as a reason or metadata', async () => {
    const token = `${b64('{ "alg": "HS256", "typ": "JWT" }')}.${b64('{ "sub": "u1", "exp": 2000000000 }')}.${'s'.repeat(43)}`;
    expect(holdsCredential(`leaked as ${token}`)).toBe(true);
    expect(holdsCredential(`${b64('{"alg":"HS256"}')}.${b64('{"sub":"u1"}')}.${'s'.repeat(43)}`)).toBe(true);
    for (const plain of ['eyeglasses.eyewear.reviewers-and-viewers', 'survey.key.new', 'eyJhbGciOiJIUzI1NiJ9.only-one-dot']) expect(holdsCredential(plain)).toBe(false);
    const kw = createKeyward();
    const { record } = await kw.keys.create({ owner: 'acme' });
    await expect(kw.keys.revoke(record.id, { reason: `leaked: ${token}` })).rejects.toThrow('"reason" holds a key or a token (not shown)');
    await expect(kw.keys.update(record.id, { metadata: { note: token } })).rejects.toThrow('"metadata" holds a key or a token (not shown)');
    await kw.close();
  });

  it('answers in linear time: 63 KiB of metadata repeating `eyJ` took seconds of a blocked event loop', async () => {
    const kw = createKeyward();
    for (const text of ['eyJ'.repeat(21_000), 'eyAi'.repeat(15_000), `eyJ${'a'.repeat(10)} `.repeat(4_000), 'eyJ'.repeat(20_000).concat('.x')]) {
      const started = performance.now();
      await kw.keys.create({ owner: 'acme', metadata: { text } });
      // Linear is a few ms; the quadratic regex took ~6 s. The bound sits far from both, for a busy machine.
      expect(performance.now() - started).toBeLessThan(2000);
    }
    await kw.close();
  });
});
