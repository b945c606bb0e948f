import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '@keyward/core';
import { runScan } from './run-scan';
import { decodeText } from './files';

describe('runScan: text encodings', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'kwscan-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('scans UTF-16 files with a byte order mark (little and big endian), as PowerShell writes them, instead of skipping them as binary', () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`line one\r\ntoken = ${key}\r\n`, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(`token = ${key}\n`, 'utf16le').swap16()]);
    writeFileSync(join(dir, 'le.txt'), le);
    writeFileSync(join(dir, 'be.txt'), be);
    writeFileSync(join(dir, 'real.bin.txt'), Buffer.from([0x00, 0x01, 0x02, 0x03]));
    const report = runScan({ cwd: dir });
    expect(report.findings.map((f) => [f.file, f.line, f.column, f.kind]).sort()).toEqual([['be.txt', 1, 9, 'keyward-key'], ['le.txt', 2, 9, 'keyward-key']]);
    expect(report).toMatchObject({ scanned: 2, skipped: 1 });
  });

  it('decodeText: UTF-8 as before, binary stays undefined, an odd trailing byte of UTF-16 BE is dropped', () => {
    expect(decodeText(Buffer.from('héllo'))).toBe('héllo');
    expect(decodeText(Buffer.from([0x61, 0x00, 0x62]))).toBeUndefined();
    expect(decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x61, 0x00]))).toBe('a');
    expect(decodeText(Buffer.from([0xff, 0xfe]))).toBe('');
  });
});

describe('runScan: symbolic links', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'kwscan-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('follows a link named on the command line, and never one met in a walk (a loop is not entered)', () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'secret.env'), `K=${key}\n`);
    symlinkSync(join(dir, 'real', 'secret.env'), join(dir, 'file-link'));
    symlinkSync(join(dir, 'real'), join(dir, 'dir-link'));
    symlinkSync(dir, join(dir, 'real', 'loop'));
    expect(runScan({ cwd: dir, paths: ['file-link'] }).findings.map((f) => f.file)).toEqual(['file-link']);
    expect(runScan({ cwd: dir, paths: ['dir-link'] }).findings.map((f) => f.file)).toEqual([join('dir-link', 'secret.env')]);
    expect(runScan({ cwd: dir }).findings.map((f) => f.file)).toEqual([join('real', 'secret.env')]);
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(() => runScan({ cwd: dir, paths: ['dangling'] })).toThrow('no such file or directory: dangling');
  });
});

describe('runScan: staged files', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'kwscan-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every staged file by its own name, also one that looks like a stage number ("0:x.txt", "2:y")', () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    expect(spawnSync('git', ['init', '-q'], { cwd: dir }).status).toBe(0);
    for (const name of ['0:x.txt', '2:y', 'x.txt', 'plain.txt']) writeFileSync(join(dir, name), name === 'x.txt' ? 'nothing here\n' : `k=${key}\n`);
    expect(spawnSync('git', ['add', '.'], { cwd: dir }).status).toBe(0);
    const report = runScan({ cwd: dir, staged: true });
    expect(report.findings.map((f) => f.file).sort()).toEqual(['0:x.txt', '2:y', 'plain.txt']);
    expect(report.scanned).toBe(4);
  });

  it('scans a file staged in place of a symbolic link (a type change)', () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    const git = (...args: string[]) => expect(spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir }).status).toBe(0);
    git('init', '-q');
    writeFileSync(join(dir, 'target'), 'nothing\n');
    symlinkSync('target', join(dir, 'conf'));
    git('add', '.');
    git('commit', '-qm', 'init');
    rmSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf'), `k=${key}\n`);
    git('add', 'conf');
    expect(runScan({ cwd: dir, staged: true }).findings.map((f) => f.file)).toEqual(['conf']);
  });
});
