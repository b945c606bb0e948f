/**
 * Runs the `keyward` CLI in this process (its `run()` with in-memory streams), for tests that need no subprocess.
 */
import { PassThrough } from 'node:stream';
import { run } from '../../../packages/cli/src/program';

/** What one in-process run produced: the exit status and everything written to stdout and stderr. */
export interface InProcessResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `keyward ...args` with `cwd` as its working directory and an empty environment. */
export async function runInProcess(args: readonly string[], cwd: string = process.cwd()): Promise<InProcessResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await run([...args], { stdout, stderr, stdin: new PassThrough(), env: {}, cwd });
  return { code, out, err };
}
