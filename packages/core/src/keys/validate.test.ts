import { createKeyward } from '../index';
import { checkObject } from './validate';

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
