import { checksum, generateKey, isWellFormedKey, keyHint, looksLikeKeywardKey, parseKey, randomLength, CHECKSUM_LENGTH } from './format';
import { createKeyHasher } from './hash';

const format = { prefix: 'kw', randomBits: 192 };

describe('key format', () => {
  it('generates <prefix>_<env>_<random><checksum> with ≥ 192 random bits of base62', () => {
    const key = generateKey(format, 'live');
    expect(key).toMatch(/^kw_live_[0-9A-Za-z]+$/);
    expect(randomLength(192)).toBe(33); // 33 × log2(62) ≈ 196.5 bits
    expect(key.length).toBe('kw_live_'.length + 33 + CHECKSUM_LENGTH);
    expect(parseKey(key, format)).toEqual({ prefix: 'kw', env: 'live' });
  });

  it('never repeats and uses the whole alphabet', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateKey(format, 'test')));
    expect(keys.size).toBe(2000);
    const chars = new Set([...keys].join('').replace(/kw_test_/g, ''));
    expect(chars.size).toBe(62);
  });

  it('refuses a wrong checksum, prefix, length or alphabet without any lookup', () => {
    const key = generateKey(format, 'live');
    const flip = (i: number) => key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(parseKey(flip(key.length - 1), format)).toBeUndefined(); // checksum
    expect(parseKey(flip(10), format)).toBeUndefined(); // body
    expect(parseKey(key.replace(/^kw/, 'xx'), format)).toBeUndefined();
    expect(parseKey(key.slice(0, -7) + key.slice(-6), format)).toBeUndefined();
    expect(parseKey(key.replace('_live_', '_LIVE_'), format)).toBeUndefined();
    expect(parseKey('kw_live_' + '-'.repeat(39), format)).toBeUndefined();
    expect(parseKey('', format)).toBeUndefined();
  });

  it('answers isWellFormedKey exactly as parseKey, for keys and for every one-character change of them', () => {
    const alphabet = ['a', 'Z', '0', '9', '_', '-', ' ', '\u00e9', ''];
    for (const env of ['live', 'test', 'x', 'a1b2c3d4e5f6g7h8']) {
      const key = generateKey(format, env);
      const candidates = [key, '', 'kw', 'kw_', 'kw_live_', `${key}a`, key.slice(0, -1), key.replace(/^kw/, 'kx'), key.replace(`_${env}_`, '__'), `kw_${'a'.repeat(17)}_${key.slice(-38)}`];
      for (let i = 0; i < key.length; i++) for (const c of alphabet) candidates.push(key.slice(0, i) + c + key.slice(i + 1));
      for (const c of candidates) expect([c, isWellFormedKey(c, format)]).toEqual([c, parseKey(c, format) !== undefined]);
    }
    const other = { prefix: 'acme', randomBits: 128 };
    const k = generateKey(other, 'live');
    expect(isWellFormedKey(k, other)).toBe(true);
    expect(isWellFormedKey(k, format)).toBe(false);
  });

  it('checks the CRC32 of everything before the checksum', () => {
    const key = generateKey(format, 'live');
    expect(key.slice(-CHECKSUM_LENGTH)).toBe(checksum(key.slice(0, -CHECKSUM_LENGTH)));
    expect(looksLikeKeywardKey(key)).toBe(true);
    expect(looksLikeKeywardKey(key.slice(0, -1) + '0')).toBe(key.endsWith('0'));
  });

  it('hints with prefix, env and the last four characters only', () => {
    const key = generateKey(format, 'live');
    expect(keyHint(key, { prefix: 'kw', env: 'live' })).toBe(`kw_live_…${key.slice(-4)}`);
  });

  it('hashes with SHA-256, or HMAC-SHA-256 with a pepper, tagging the scheme', () => {
    const plain = createKeyHasher(undefined);
    const peppered = createKeyHasher('p'.repeat(32));
    expect(plain.version).toBe('sha256-v1');
    expect(peppered.version).toBe('hmac-sha256-v1');
    expect(plain.hash('x')).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
    expect(peppered.hash('x')).not.toBe(plain.hash('x'));
    expect(peppered.lookupVersions).toEqual(['hmac-sha256-v1', 'sha256-v1']);
    expect(() => plain.hash('x', 'hmac-sha256-v1')).toThrow(/pepper/);
  });
});
