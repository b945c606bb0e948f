/**
 * Drives the `keyward` CLI as a real subprocess: from source through run-ts.js (default), or the built
 * `packages/cli/dist/bin.js` when KEYWARD_CLI_DIST=1.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** What one CLI run produced. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The argv prefix that starts the CLI. */
export function cliCommand(): string[] {
  return process.env['KEYWARD_CLI_DIST'] === '1'
    ? [process.execPath, join(ROOT, 'packages', 'cli', 'dist', 'bin.js')]
    : [process.execPath, join(ROOT, 'test', 'cli', 'helpers', 'run-ts.js'), 'packages/cli/src/bin.ts'];
}

/** Runs `keyward ...args` with `env` added to a clean environment (no REDIS_URL / DATABASE_URL leaking in). */
export function cli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; input?: string } = {}): Promise<CliResult> {
  const [cmd, ...pre] = cliCommand();
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', TMPDIR: process.env['TMPDIR'] ?? '/tmp', ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], { env, cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Parses a run's stdout as JSON, failing with the run's stderr when it is not. */
export function jsonOf<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}
