import { readFileSync } from 'node:fs';
import { createEncryption, type Encryption, type MasterKey } from './encryption';
import { shownName } from '../config/fields';

/**
 * Parses master keys from text: entries `id:key` separated by commas or new lines, the key as 64 hex characters or
 * base64/base64url of 32 bytes. The first entry is the current key; the others stay readable (rotation).
 *
 * @example `2026-06:q8Jf…=,2026-01:Zx0…=`
 * @throws TypeError naming `source` (never the key) when an entry is malformed
 */
export function parseMasterKeys(text: string, source = 'KEYWARD_ENCRYPTION_KEYS'): MasterKey[] {
  const entries = text.split(/[,\n\r]+/).map((s) => s.trim()).filter((s) => s.length > 0 && !s.startsWith('#'));
  if (entries.length === 0) throw new TypeError(`keyward: ${source} holds no master key`);
  return entries.map((entry, i) => {
    const at = entry.indexOf(':');
    if (at <= 0) throw new TypeError(`keyward: ${source} entry ${i + 1} must be "id:key"`);
    const id = entry.slice(0, at);
    // Named here by the variable: createEncryption() would name an option ("encryption.keys[0].id") nobody set.
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new TypeError(`keyward: ${source} entry ${i + 1} must be "id:key" with an id of 1–64 characters from A-Z a-z 0-9 . _ -`);
    const raw = entry.slice(at + 1);
    const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
    if (key.length !== 32) throw new TypeError(`keyward: ${source} entry ${i + 1} (id ${shownName(id)}) must hold a 32-byte key in hex or base64`);
    return { id, key };
  });
}

/**
 * Builds the {@link Encryption} from the environment: `KEYWARD_ENCRYPTION_KEYS`, or the file named by
 * `KEYWARD_ENCRYPTION_KEYS_FILE` (see {@link parseMasterKeys} for the format). Returns `undefined` when neither is
 * set: encryption at rest is off by default.
 *
 * @throws TypeError naming the variable when it is set but unusable
 */
export function encryptionFromEnv(env: NodeJS.ProcessEnv = process.env): Encryption | undefined {
  const direct = env['KEYWARD_ENCRYPTION_KEYS'];
  if (direct !== undefined && direct !== '') return createEncryption({ keys: parseMasterKeys(direct, 'KEYWARD_ENCRYPTION_KEYS') });
  const file = env['KEYWARD_ENCRYPTION_KEYS_FILE'];
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new TypeError('keyward: cannot read the file named by KEYWARD_ENCRYPTION_KEYS_FILE');
  }
  return createEncryption({ keys: parseMasterKeys(text, 'KEYWARD_ENCRYPTION_KEYS_FILE') });
}
