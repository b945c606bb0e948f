import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import type { CliIO } from '../io';
import { json } from '../output';

/** What `keyward secret` can generate. */
export type SecretKind = 'pepper' | 'hmac' | 'encryption' | 'ed25519' | 'es256';

/** Where each kind of secret goes. */
export const SECRET_TARGET: Readonly<Record<SecretKind, string>> = {
  pepper: 'KEYWARD_PEPPER (or a file named by KEYWARD_PEPPER_FILE): the key-hashing pepper',
  hmac: 'a token HMAC secret (HS256, HS384 or HS512): tokens.signing.keys[].secret or secretEnv',
  encryption: 'KEYWARD_ENCRYPTION_KEYS (or KEYWARD_ENCRYPTION_KEYS_FILE): put the new entry first, keep the old ones after it',
  ed25519: 'KEYWARD_SIGNING_KEY (or KEYWARD_SIGNING_KEY_FILE): the token signing key (EdDSA)',
  es256: 'KEYWARD_SIGNING_KEY (or KEYWARD_SIGNING_KEY_FILE): the token signing key (ES256)',
};

/**
 * Generates a secret of the right size: 32 random bytes in base64url for the pepper, 64 random bytes in base64url
 * (86 characters, used as 86 bytes) for an HMAC secret, so it is long enough for HS256, HS384 and HS512 alike,
 * `id:key` for the encryption master key, a private JWK (or PKCS#8 PEM) for signing keys.
 */
export function generateSecret(kind: SecretKind, format: 'jwk' | 'pem' = 'jwk', id?: string): string {
  switch (kind) {
    case 'pepper':
      return randomBytes(32).toString('base64url');
    case 'hmac':
      // keyward uses the text as the secret (its UTF-8 bytes): 86 bytes, over HS512's minimum of 64.
      return randomBytes(64).toString('base64url');
    case 'encryption':
      return `${id ?? new Date().toISOString().slice(0, 7)}:${randomBytes(32).toString('base64url')}`;
    case 'ed25519':
    case 'es256': {
      const { privateKey } = kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      if (format === 'pem') return (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).trimEnd();
      const jwk = privateKey.export({ format: 'jwk' });
      return JSON.stringify({ ...jwk, alg: kind === 'ed25519' ? 'EdDSA' : 'ES256', use: 'sig', ...(id ? { kid: id } : {}) });
    }
  }
}

/** `keyward secret`: prints a new secret on stdout and where it goes on stderr. */
export function secretCommand(io: CliIO): Command {
  return new Command('secret')
    .description("generate one of keyward's own secrets: the pepper, an HMAC or encryption key, or a signing key")
    .addOption(new Option('--kind <kind>', 'what to generate').choices(['pepper', 'hmac', 'encryption', 'ed25519', 'es256']).default('pepper'))
    .addOption(new Option('--format <format>', 'signing keys: JWK or PEM').choices(['jwk', 'pem']).default('jwk'))
    .option('--id <id>', 'key id (kid of a signing key, id of an encryption key)')
    .option('--json', 'print JSON: { kind, value, target } (nothing on stderr)')
    .action((o: { kind: SecretKind; format: 'jwk' | 'pem'; id?: string; json?: boolean }) => {
      if (o.id !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(o.id)) throw new Error('--id must be 1–64 characters from A-Z a-z 0-9 . _ -');
      const value = generateSecret(o.kind, o.format, o.id);
      if (o.json) return void io.stdout.write(json({ kind: o.kind, value, target: SECRET_TARGET[o.kind] }));
      io.stdout.write(value + '\n');
      io.stderr.write(`# for ${SECRET_TARGET[o.kind]}\n`);
    });
}
