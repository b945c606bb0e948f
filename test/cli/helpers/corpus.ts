/**
 * A generated scanner corpus: credentials of every supported kind planted among random high-entropy strings
 * (including near misses: keyward keys and GitHub tokens with wrong checksums, JWT-shaped garbage, bare PEM headers
 * in code), spread over several files. The expected findings are returned with it.
 */
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BASE62, encodeBase62, generateKey, randomBase62 } from '@keyward/core';

/** A credential planted in the corpus. */
export interface Planted {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  readonly value: string;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A classic GitHub token with a valid checksum. */
export function githubToken(prefix: 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr'): string {
  const random = randomBase62(30);
  return `${prefix}_${random}${encodeBase62(crc32(random), 6)}`;
}

/** A JWT-shaped token (the signature is random: the scanner does not verify it). */
export function jwt(alg: string): string {
  return `${b64url({ alg, typ: 'JWT' })}.${b64url({ sub: `user-${randomInt(1e6)}`, iat: 1767225600 })}.${randomBytes(32).toString('base64url')}`;
}

/** One random high-entropy string of a random flavour, sometimes wrapped in an assignment. */
export function randomString(): string {
  const len = 16 + randomInt(65);
  let s: string;
  switch (randomInt(8)) {
    case 0:
      s = randomBytes(len).toString('base64').slice(0, len);
      break;
    case 1:
      s = randomBytes(len).toString('base64url').slice(0, len);
      break;
    case 2:
      s = randomBytes(len).toString('hex').slice(0, len);
      break;
    case 3:
      s = randomBase62(len);
      break;
    case 4: // keyward-shaped, wrong checksum
      s = `kw_live_${randomBase62(39)}`;
      break;
    case 5: // GitHub-shaped, wrong checksum
      s = `gh${'pousr'[randomInt(5)]}_${randomBase62(36)}`;
      break;
    case 6: // JWT-shaped garbage
      s = `eyJ${randomBase62(20)}.eyJ${randomBase62(30)}.${randomBytes(20).toString('base64url')}`;
      break;
    default:
      s = `${pick('abcdefghijklmnopqrstuvwxyz', 3)}_${pick('abcdefghijklmnopqrstuvwxyz0123456789', 4)}_${randomBase62(len)}`;
  }
  switch (randomInt(4)) {
    case 0:
      return `token = "${s}"`;
    case 1:
      return `  "value": "${s}",`;
    default:
      return s;
  }
}

/** Every supported kind, as the lines to plant and the kinds expected on each of those lines. */
function plants(): Array<{ lines: string[]; kinds: string[]; value: string }> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const awsId = () => `AKIA${pick(B32, 16)}`;
  const awsSecret = () => `${randomBase62(27)}a7Q/${randomBase62(4)}+${randomBase62(4)}`;
  const out: Array<{ lines: string[]; kinds: string[]; value: string }> = [];
  const one = (line: string, kind: string, value: string) => out.push({ lines: [line], kinds: [kind], value });
  for (const prefix of ['kw', 'acme', 'sk2']) {
    for (const env of ['live', 'test']) {
      const k = generateKey({ prefix, randomBits: 192 }, env);
      one(`const key = '${k}';`, 'keyward-key', k);
    }
  }
  const long = generateKey({ prefix: 'kw', randomBits: 256 }, 'live');
  one(`KEYWARD_KEY=${long}`, 'keyward-key', long);
  for (const p of ['ghp', 'gho', 'ghu', 'ghs', 'ghr'] as const) {
    const t = githubToken(p);
    one(`GITHUB_TOKEN=${t}`, 'github-token', t);
  }
  const pat = `github_pat_${randomBase62(22)}_${randomBase62(59)}`;
  one(`token: ${pat}`, 'github-fine-grained-token', pat);
  const id1 = awsId();
  one(`aws_access_key_id = ${id1}`, 'aws-access-key-id', id1);
  const s1 = awsSecret();
  one(`aws_secret_access_key = ${s1}`, 'aws-secret-access-key', s1);
  const id2 = `ASIA${pick(B32, 16)}`;
  const s2 = awsSecret();
  out.push({ lines: [`${id2},${s2}`], kinds: ['aws-access-key-id', 'aws-secret-access-key'], value: s2 });
  const s3 = awsSecret();
  one(`  "SecretAccessKey": "${s3}",`, 'aws-secret-access-key', s3);
  const sk = `sk_live_${randomBase62(24)}`;
  one(`stripe.secret=${sk}`, 'stripe-key', sk);
  const rk = `rk_live_${randomBase62(34)}`;
  one(`STRIPE_RESTRICTED="${rk}"`, 'stripe-key', rk);
  const xoxb = `xoxb-${pick('0123456789', 12)}-${pick('0123456789', 13)}-${randomBase62(24)}`;
  one(`slack: ${xoxb}`, 'slack-token', xoxb);
  const xoxp = `xoxp-${pick('0123456789', 11)}-${pick('0123456789', 11)}-${pick('0123456789', 12)}-${randomBytes(16).toString('hex')}`;
  one(`SLACK_USER_TOKEN=${xoxp}`, 'slack-token', xoxp);
  const google = `AIza${pick(BASE62 + '-_', 35)}`;
  one(`maps_key: "${google}"`, 'google-api-key', google);
  for (const pem of [rsa, ec, ed]) out.push({ lines: pem.trimEnd().split('\n'), kinds: ['private-key'], value: pem.split('\n')[1]! });
  const jsonPem = JSON.stringify(ed.trimEnd());
  out.push({ lines: [`{ "private_key": ${jsonPem} }`], kinds: ['private-key'], value: ed.split('\n')[1]! });
  for (const alg of ['HS256', 'RS256', 'EdDSA']) {
    const t = jwt(alg);
    one(`Authorization: Bearer ${t}`, 'jwt', t);
  }
  return out;
}

/**
 * Writes `randomCount` random strings over `files` files under `dir`, with every planted credential at a random line.
 * Returns what a scan must report (file relative to `dir`, line, kind) and the random-string count written.
 */
export function writeCorpus(dir: string, randomCount = 100_000, files = 10): { planted: Planted[]; randoms: number } {
  mkdirSync(dir, { recursive: true });
  const bodies: string[][] = Array.from({ length: files }, () => []);
  for (let i = 0; i < randomCount; i++) bodies[i % files]!.push(randomString());
  // near misses that must not be reported either
  bodies[0]!.push("if (text.startsWith('-----BEGIN PRIVATE KEY-----')) parse(text);");
  bodies[0]!.push('AKIAIOSFODNN7EXAMPLE is the documentation example');
  const planted: Planted[] = [];
  const plan = plants().map((p) => ({ ...p, file: randomInt(files), at: 0 }));
  for (const p of plan) p.at = randomInt(bodies[p.file]!.length + 1);
  // insert from the end of each file backwards so earlier positions stay valid
  plan.sort((a, b) => b.at - a.at);
  for (const p of plan) bodies[p.file]!.splice(p.at, 0, ...p.lines);
  for (let f = 0; f < files; f++) {
    const name = `corpus-${f}.txt`;
    const lines = bodies[f]!;
    writeFileSync(join(dir, name), lines.join('\n') + '\n');
    for (const p of plan.filter((x) => x.file === f)) {
      const first = lines.indexOf(p.lines[0]!);
      for (const kind of p.kinds) planted.push({ file: name, line: first + 1, kind, value: p.value });
    }
  }
  return { planted, randoms: randomCount };
}
