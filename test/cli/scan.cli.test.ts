/**
 * `keyward scan` and `keyward hook install` driven as a subprocess: a generated corpus (every supported kind planted
 * among 100,000 random high-entropy strings), skipped files, `--staged`, and a real git pre-commit hook.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyward, generateKey } from '@keyward/core';
import { cli, cliCommand, jsonOf } from './helpers/cli';
import { githubToken, writeCorpus } from './helpers/corpus';

jest.setTimeout(120_000);

interface JsonFinding {
  file: string;
  line: number;
  column: number;
  kind: string;
  masked: string;
  detail?: string;
}

const tmp = mkdtempSync(join(tmpdir(), 'kwscan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1', HOME: tmp, PATH: process.env['PATH'] ?? '' };
function git(cwd: string, ...args: string[]) {
  const r = spawnSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
function repo(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  expect(git(dir, 'init', '-q', '-b', 'main').code).toBe(0);
  return dir;
}

describe('keyward scan: generated corpus', () => {
  it('finds every planted credential and reports none of 100,000 random strings', async () => {
    const dir = join(tmp, 'corpus');
    const { planted } = writeCorpus(dir, 100_000, 10);
    const r = await cli(['scan', '.', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const { findings, scanned } = jsonOf<{ findings: JsonFinding[]; scanned: number }>(r);
    expect(scanned).toBe(10);
    const key = (f: { file: string; line: number; kind: string }) => `${f.file}:${f.line}:${f.kind}`;
    expect(findings.map(key).sort()).toEqual(planted.map(key).sort());
    const kinds = new Set(findings.map((f) => f.kind));
    expect([...kinds].sort()).toEqual(['aws-access-key-id', 'aws-secret-access-key', 'github-fine-grained-token', 'github-token', 'google-api-key', 'jwt', 'keyward-key', 'private-key', 'slack-token', 'stripe-key']);
    // masked: no planted secret appears whole in the output
    for (const p of planted) expect(r.stdout).not.toContain(p.value);
    expect(findings.filter((f) => f.kind === 'jwt').map((f) => f.detail).sort()).toEqual(['alg EdDSA', 'alg HS256', 'alg RS256']);
  });
});

describe('keyward scan: files and output', () => {
  const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
  const gh = githubToken('ghp');

  it('prints file:line:column, kind and the masked secret; exits 1; a clean tree exits 0', async () => {
    const dir = join(tmp, 'plain');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.env'), `# settings\nAPI_KEY=${key}\n  token: ${gh}\n`);
    const r = await cli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`config.env:2:9  keyward-key  kw_live_…${key.slice(-4)}\nconfig.env:3:10  github-token  ghp_…${gh.slice(-4)}\n`);
    expect(r.stderr).toMatch(/^keyward scan: 2 credential\(s\) found in 1 file\(s\) \(1 scanned\)\./);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1); // not a TTY: no progress line

    const clean = join(tmp, 'clean');
    mkdirSync(clean, { recursive: true });
    writeFileSync(join(clean, 'a.txt'), `kw_live_${'A'.repeat(38)}\nghp_${'a'.repeat(36)}\n`);
    const ok = await cli(['scan', clean]);
    expect(ok).toMatchObject({ code: 0, stdout: '' });
    expect(ok.stderr).toBe('keyward scan: no credentials found (1 file(s) scanned).\n');
  });

  it('skips binaries, node_modules, .git, git-ignored files, big files and lines marked keyward:allow', async () => {
    const dir = repo('skips');
    writeFileSync(join(dir, '.gitignore'), 'secrets.env\n');
    writeFileSync(join(dir, 'secrets.env'), `KEY=${key}\n`);
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), `module.exports = '${key}';\n`);
    writeFileSync(join(dir, '.git', 'leak'), key);
    writeFileSync(join(dir, 'blob.bin'), Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(key)]));
    writeFileSync(join(dir, 'image.png'), key);
    writeFileSync(join(dir, 'big.txt'), `${key}\n${'x'.repeat(2048)}\n`);
    writeFileSync(join(dir, 'fixture.ts'), `const example = '${key}'; // keyward:allow\n`);
    writeFileSync(join(dir, 'found.ts'), `const k = '${key}';\n`);
    const r = await cli(['scan', '--json', '--max-size', '1k'], { cwd: dir });
    expect(r.code).toBe(1);
    const report = jsonOf<{ findings: JsonFinding[]; skipped: number }>(r);
    expect(report.findings.map((f) => f.file)).toEqual(['found.ts']);
    expect(report.skipped).toBe(3); // blob.bin, image.png, big.txt
    expect(report).toMatchObject({ tooLarge: 1 }); // big.txt: text, unscanned
    const human = await cli(['scan', '--max-size', '1k'], { cwd: dir });
    expect(human.stderr).toMatch(/\(\d+ scanned; 1 file\(s\) larger than --max-size 1k not scanned\)\. Revoke/);
    rmSync(join(dir, 'found.ts'));
    const clean = await cli(['scan', '--max-size', '1k'], { cwd: dir });
    expect(clean).toMatchObject({ code: 0, stderr: expect.stringMatching(/^keyward scan: no credentials found \(\d+ file\(s\) scanned; 1 file\(s\) larger than --max-size 1k not scanned\)\.\n$/) });

    // outside git: a plain walk, still skipping node_modules and .git
    const plain = join(tmp, 'walk');
    mkdirSync(join(plain, 'node_modules'), { recursive: true });
    writeFileSync(join(plain, 'node_modules', 'a.js'), key);
    writeFileSync(join(plain, 'b.js'), key);
    const w = jsonOf<{ findings: JsonFinding[] }>(await cli(['scan', plain, '--json']));
    expect(w.findings.map((f) => f.file)).toEqual([join(plain, 'b.js')]);

    const missing = await cli(['scan', join(tmp, 'nope')]);
    expect(missing).toMatchObject({ code: 2, stderr: `keyward: no such file or directory: ${join(tmp, 'nope')}\n` });
  });

  it('--staged scans the index, not the work tree', async () => {
    const dir = repo('staged');
    writeFileSync(join(dir, 'a.txt'), 'hello\n');
    git(dir, 'add', 'a.txt');
    expect((await cli(['scan', '--staged'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'a.txt'), `hello\n${key}\n`); // changed but not staged
    writeFileSync(join(dir, 'b.txt'), `token=${gh}\n`); // untracked
    expect((await cli(['scan', '--staged'], { cwd: dir })).code).toBe(0);
    git(dir, 'add', 'b.txt');
    const r = await cli(['scan', '--staged'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`b.txt:1:7  github-token  ghp_…${gh.slice(-4)}\n`);
    const notRepo = await cli(['scan', '--staged'], { cwd: tmp });
    expect(notRepo).toMatchObject({ code: 2, stderr: 'keyward: --staged needs a git repository\n' });
  });
});

describe('keyward hook install', () => {
  const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');

  it('installs a pre-commit hook that refuses commits containing credentials', async () => {
    const dir = repo('hooked');
    const command = cliCommand().map((a) => `'${a}'`).join(' ');
    const r = await cli(['hook', 'install', '--command', command], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const hookFile = join(dir, '.git', 'hooks', 'pre-commit');
    expect(r.stdout).toBe(`Installed ${hookFile}: commits that contain credentials are refused.\n`);
    expect(readFileSync(hookFile, 'utf8')).toContain(`exec ${command} scan --staged`);

    writeFileSync(join(dir, 'ok.txt'), 'nothing to see\n');
    git(dir, 'add', 'ok.txt');
    expect(git(dir, 'commit', '-q', '-m', 'clean').code).toBe(0);

    writeFileSync(join(dir, 'leak.ts'), `export const KEY = '${key}';\n`);
    git(dir, 'add', 'leak.ts');
    const refused = git(dir, 'commit', '-q', '-m', 'leak');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain(`leak.ts:1:21  keyward-key  kw_live_…${key.slice(-4)}`);
    expect(refused.out).not.toContain(key);
    expect(git(dir, 'log', '--oneline').out.trim().split('\n')).toHaveLength(1);

    // reinstalling over our own hook is fine; a foreign hook is kept unless --force
    expect((await cli(['hook', 'install'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(hookFile, 'utf8')).toContain('exec keyward scan --staged');
    writeFileSync(hookFile, '#!/bin/sh\nexit 0\n');
    chmodSync(hookFile, 0o755);
    const foreign = await cli(['hook', 'install'], { cwd: dir });
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/^keyward: .*pre-commit exists and was not written by keyward; .*--force/);
    expect((await cli(['hook', 'install', '--force'], { cwd: dir })).code).toBe(0);

    const outside = await cli(['hook', 'install'], { cwd: tmp });
    expect(outside).toMatchObject({ code: 2, stderr: 'keyward: not inside a git repository\n' });
  });
});

describe('keyward secret', () => {
  it('generates secrets of the right size and says where they go', async () => {
    const pepper = await cli(['secret']);
    expect(pepper.code).toBe(0);
    expect(Buffer.from(pepper.stdout.trim(), 'base64url')).toHaveLength(32);
    expect(pepper.stderr).toMatch(/KEYWARD_PEPPER/);
    const enc = await cli(['secret', '--kind', 'encryption', '--id', '2026-03']);
    expect(enc.stdout).toMatch(/^2026-03:[A-Za-z0-9_-]{43}\n$/);
    const es = JSON.parse((await cli(['secret', '--kind', 'es256', '--id', 'k1'])).stdout) as Record<string, string>;
    expect(es).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: 'k1' });
    expect(es['d']).toBeDefined();
    const pem = await cli(['secret', '--kind', 'ed25519', '--format', 'pem']);
    expect(pem.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect((await cli(['secret', '--kind', 'rsa'])).code).toBe(2);
  });

  it('--json prints { kind, value, target } and nothing on stderr', async () => {
    const r = await cli(['secret', '--kind', 'encryption', '--id', '2026-03', '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const out = jsonOf<{ kind: string; value: string; target: string }>(r);
    expect(out).toEqual({ kind: 'encryption', value: expect.stringMatching(/^2026-03:[A-Za-z0-9_-]{43}$/), target: expect.stringMatching(/KEYWARD_ENCRYPTION_KEYS/) });
    const jwk = jsonOf<{ value: string }>(await cli(['secret', '--kind', 'ed25519', '--json']));
    expect(JSON.parse(jwk.value)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  });

  it('an hmac secret is long enough for HS256, HS384 and HS512: keyward accepts it and signs with HS512', async () => {
    const r = await cli(['secret', '--kind', 'hmac']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/HS512/);
    const secret = r.stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{86}$/); // 64 random bytes; keyward uses the 86 characters as an 86-byte secret
    expect(Buffer.from(secret, 'base64url')).toHaveLength(64);
    const kw = createKeyward({
      tokens: {
        signing: { issuer: 'https://api.example', audience: 'api', keys: [{ secret, alg: 'HS512', kid: 'hs' }] },
        issuers: [{ issuer: 'https://other.example', audience: 'api', secret, algorithms: ['HS256', 'HS384', 'HS512'] }],
      },
    });
    try {
      const issued = await kw.tokens.issue({ subject: 'svc' });
      expect(JSON.parse(Buffer.from(issued.token.split('.')[0]!, 'base64url').toString('utf8'))).toMatchObject({ alg: 'HS512', kid: 'hs' });
      const d = await kw.check({ method: 'GET', path: '/', headers: { authorization: `Bearer ${issued.token}` } });
      expect(d.ok && d.principal).toMatchObject({ type: 'token', id: 'svc' });
    } finally {
      await kw.close();
    }
    // what it replaces: 32 random bytes (43 characters) are refused for HS512
    expect(() => createKeyward({ tokens: { signing: { issuer: 'https://api.example', keys: [{ secret: secret.slice(0, 43), alg: 'HS512' }] } } })).toThrow(/HS512 needs a secret of at least 64 bytes/);
  });
});
