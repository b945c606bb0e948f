import { inspect } from 'node:util';
import { createKeyward } from '../index';
import { MemoryKeyStore } from './memory-key-store';

describe('MemoryKeyStore and the look-up caches under util.inspect', () => {
  it('console.log(kw) shows how many keys there are, never a record or a key hash', async () => {
    const store = new MemoryKeyStore();
    const kw = createKeyward({ store });
    const { key, record } = await kw.keys.create({ owner: 'acme' });
    expect((await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': key } })).ok).toBe(true); // fills the caches
    const hash = (await store.get(record.id))!.hash;
    for (const text of [inspect(kw, { depth: 20 }), inspect(store, { depth: 20 }), inspect(kw.config, { depth: 20, showHidden: true })]) {
      expect(text.includes(hash)).toBe(false);
      expect(text.includes(key)).toBe(false);
    }
    expect(inspect(store)).toBe('MemoryKeyStore { keys: 1 }');
    await kw.close();
  });
});
