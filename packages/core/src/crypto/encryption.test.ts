import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEncryption, encryptionFromEnv, parseMasterKeys, resolveSealedFields, sealField, openField, isKeywardError } from '../index';

const k1 = { id: 'k1', key: Buffer.alloc(32, 1) };
const k2 = { id: 'k2', key: Buffer.alloc(32, 2) };

function failure(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isKeywardError(e) ? `${e.code}: ${e.message}` : `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('encryption at rest', () => {
  it('seals and opens, with a fresh IV each time', () => {
    const enc = createEncryption({ keys: [k1] });
    const a = enc.seal('secret text', 'aad');
    const b = enc.seal('secret text', 'aad');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^kwenc:v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    expect(a).not.toContain('secret');
    expect(enc.open(a, 'aad')).toBe('secret text');
    expect(enc.keyIdOf(a)).toBe('k1');
    expect(enc.isSealed(a)).toBe(true);
    expect(enc.isSealed('"plain"')).toBe(false);
  });

  it('refuses another AAD, a tampered envelope and an unknown key, without echoing values', () => {
    const enc = createEncryption({ keys: [k1] });
    const a = enc.seal('secret text', 'record-1:name');
    expect(failure(() => enc.open(a, 'record-2:name'))).toMatch(/^DECRYPTION_FAILED/);
    const parts = a.split(':');
    parts[4] = parts[4]!.startsWith('A') ? `B${parts[4]!.slice(1)}` : `A${parts[4]!.slice(1)}`;
    const msg = failure(() => enc.open(parts.join(':'), 'record-1:name'));
    expect(msg).toMatch(/^DECRYPTION_FAILED/);
    expect(msg).not.toContain(parts[4]);
    const other = createEncryption({ keys: [k2] });
    expect(failure(() => other.open(a, 'record-1:name'))).toBe('DECRYPTION_FAILED: no master key with id k1 is configured');
    expect(failure(() => enc.open('kwenc:v1:k1:xx', 'x'))).toMatch(/^DECRYPTION_FAILED/);
  });

  it('rotation: the current key seals, older keys still open', () => {
    const old = createEncryption({ keys: [k1] });
    const rotated = createEncryption({ keys: [k2, k1] });
    const sealedOld = old.seal('v', 'a');
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.open(sealedOld, 'a')).toBe('v');
    expect(rotated.keyIdOf(rotated.seal('v', 'a'))).toBe('k2');
    expect(createEncryption({ keys: [k2, k1], currentKeyId: 'k1' }).currentKeyId).toBe('k1');
  });

  it('fields: JSON values bound to record and field', () => {
    const enc = createEncryption({ keys: [k1] });
    const env = sealField(enc, 'key_1', 'metadata', { a: [1, { b: null }] });
    expect(openField(enc, 'key_1', 'metadata', env)).toEqual({ a: [1, { b: null }] });
    expect(failure(() => openField(enc, 'key_2', 'metadata', env))).toMatch(/^DECRYPTION_FAILED/);
    expect(failure(() => openField(enc, 'key_1', 'name', env))).toMatch(/^DECRYPTION_FAILED/);
  });

  it('options are checked once, naming the option', () => {
    expect(failure(() => createEncryption({ keys: [] }))).toBe('TypeError: keyward: option "encryption.keys" must be a non-empty array of { id, key }');
    expect(failure(() => createEncryption({ keys: [{ id: 'k', key: Buffer.alloc(16) }] }))).toBe('TypeError: keyward: option "encryption.keys[0].key" must be 32 bytes');
    expect(failure(() => createEncryption({ keys: [{ id: 'a:b', key: Buffer.alloc(32) }] }))).toMatch(/"encryption.keys\[0\].id"/);
    expect(failure(() => createEncryption({ keys: [k1, k1] }))).toMatch(/repeats the id/);
    expect(failure(() => createEncryption({ keys: [k1], currentKeyId: 'nope' }))).toMatch(/"encryption.currentKeyId"/);
    expect(failure(() => resolveSealedFields(['hash']))).toMatch(/option "sealedFields"/);
    expect([...resolveSealedFields(['name'])]).toEqual(['name', 'sealed']);
  });

  it('master keys from the environment or a file; off when neither is set', () => {
    const hex = 'ab'.repeat(32);
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(parseMasterKeys(`new:${hex},old:${b64}`).map((k) => k.id)).toEqual(['new', 'old']);
    expect(encryptionFromEnv({})).toBeUndefined();
    expect(encryptionFromEnv({ KEYWARD_ENCRYPTION_KEYS: `new:${hex}\nold:${b64}` })!.currentKeyId).toBe('new');
    const dir = mkdtempSync(join(tmpdir(), 'kw-mk-'));
    writeFileSync(join(dir, 'keys'), `# current first\nfile1:${b64}\n`);
    expect(encryptionFromEnv({ KEYWARD_ENCRYPTION_KEYS_FILE: join(dir, 'keys') })!.currentKeyId).toBe('file1');
    const msg = failure(() => parseMasterKeys('bad:c2hvcnQ='));
    expect(msg).toBe('TypeError: keyward: KEYWARD_ENCRYPTION_KEYS entry 1 (id "bad") must hold a 32-byte key in hex or base64');
    // The two halves swapped ("key:id"): the "id" is the key, and is not shown.
    const swapped = failure(() => parseMasterKeys(`${hex}:2026-01`));
    expect(swapped).toBe('TypeError: keyward: KEYWARD_ENCRYPTION_KEYS entry 1 (id (a name of 64 characters, not shown: it could be a credential)) must hold a 32-byte key in hex or base64');
    expect(swapped).not.toContain(hex.slice(0, 16));
    // An id createEncryption() refuses is refused here, naming the variable (not an option nobody set) and not the id.
    expect(failure(() => encryptionFromEnv({ KEYWARD_ENCRYPTION_KEYS: `2026/06:${b64}` }))).toBe('TypeError: keyward: KEYWARD_ENCRYPTION_KEYS entry 1 must be "id:key" with an id of 1–64 characters from A-Z a-z 0-9 . _ -');
    expect(failure(() => encryptionFromEnv({ KEYWARD_ENCRYPTION_KEYS: `new:${hex}\n${b64}:2026-01` }))).toBe('TypeError: keyward: KEYWARD_ENCRYPTION_KEYS entry 2 must be "id:key" with an id of 1–64 characters from A-Z a-z 0-9 . _ -');
    expect(failure(() => encryptionFromEnv({ KEYWARD_ENCRYPTION_KEYS_FILE: join(dir, 'missing') }))).toBe('TypeError: keyward: cannot read the file named by KEYWARD_ENCRYPTION_KEYS_FILE');
  });
});
