/**
 * A reader that stops early (`keyward scan | head`, `keyward keys list | head -1`) closes the CLI's stdout. The CLI
 * then stops writing, as Unix tools do, and keeps its exit status: no stack trace on stderr, and never status 1,
 * which means "credentials found".
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cliCommand } from './helpers/cli';

jest.setTimeout(60_000);

function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const [cmd, ...pre] = cliCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    child.stdout.destroy(); // the reader went away before the first line
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed stdout', () => {
  it('ends the output quietly and keeps the exit status', async () => {
    const secret = await runWithClosedStdout(['secret', '--kind', 'pepper']);
    expect(secret).toEqual({ code: 0, stderr: expect.not.stringContaining('\n    at ') });
    expect(secret.stderr).not.toContain('EPIPE');
    const help = await runWithClosedStdout(['--help']);
    expect(help).toEqual({ code: 0, stderr: '' });
  });
});
