import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '@keyward/core';
import { runInProcess } from '../../../../test/cli/helpers/in-process';

describe('keyward scan: text output', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'kwscan-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shows a file name holding a newline or an escape sequence escaped: one finding, one line, nothing sent to the terminal', async () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    writeFileSync(join(dir, 'a\nfake.txt:1:1  keyward-key  x'), `k=${key}\n`);
    writeFileSync(join(dir, 'b\u001b[2J.txt'), `k=${key}\n`);
    const t = await runInProcess(['scan', '--no-progress'], dir);
    expect(t.code).toBe(1);
    expect(t.out.split('\n')).toEqual(['a\\nfake.txt:1:1  keyward-key  x:1:3  keyward-key  ' + `kw_live_…${key.slice(-4)}`, `b\\u001b[2J.txt:1:3  keyward-key  kw_live_…${key.slice(-4)}`, '']);
    const j = await runInProcess(['scan', '--json', '--no-progress'], dir);
    expect(j.code).toBe(1);
    expect((JSON.parse(j.out) as { findings: Array<{ file: string }> }).findings.map((f) => f.file).sort()).toEqual(['a\nfake.txt:1:1  keyward-key  x', 'b\u001b[2J.txt']);
  });

  it('refuses a --max-size under 1k, naming the flag: 0 would scan nothing and exit 0', async () => {
    const key = generateKey({ prefix: 'kw', randomBits: 192 }, 'live');
    writeFileSync(join(dir, 'a.txt'), `k=${key}\n`);
    for (const size of ['0', '0k', '1023', '100b']) {
      const t = await runInProcess(['scan', '--no-progress', '--max-size', size, 'a.txt'], dir);
      expect(t.code).not.toBe(0);
      expect(t.err).toContain('--max-size must be at least 1k');
      expect(t.err + t.out).not.toContain(key);
    }
    expect((await runInProcess(['scan', '--no-progress', '--max-size', '1k', 'a.txt'], dir)).code).toBe(1);
  });
});
