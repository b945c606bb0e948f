import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { redactCredentials } from '@keyward/core';
import { CliError, processIO, type CliIO } from './io';
import { keysCommand } from './commands/keys';
import { migrateCommand } from './commands/migrate';
import { secretCommand } from './commands/secret';
import { scanCommand } from './commands/scan';
import { hookCommand } from './commands/hook';

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Builds the `keyward` command tree writing to `io`. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('keyward')
    .description('keyward: manage API keys, scan for leaked credentials, guard commits')
    .version(version(), '-V, --version')
    .option('--redis <url>', 'Redis holding the keys (default REDIS_URL)')
    .option('--database <url>', 'PostgreSQL holding the keys (default DATABASE_URL)')
    .option('--store <kind>', 'redis or postgres, when both URLs are set (default KEYWARD_STORE, else postgres)')
    .option('--redis-prefix <prefix>', 'Redis key prefix of the store (default KEYWARD_REDIS_PREFIX, else keyward)')
    .option('--channel <name>', 'Redis invalidation channel (default KEYWARD_REDIS_CHANNEL, else keyward:invalidate)')
    .option('--schema <name>', 'PostgreSQL schema (default KEYWARD_PG_SCHEMA, else public)')
    .option('--key-prefix <prefix>', 'key prefix of this deployment (default KEYWARD_PREFIX, else kw)')
    .addHelpText('after', '\nSecrets come from the environment: KEYWARD_PEPPER (or KEYWARD_PEPPER_FILE) must match your apps.\nExit status: 0 success, 1 credentials found (scan), 2 error.');
  program.addCommand(keysCommand(io));
  program.addCommand(migrateCommand(io));
  program.addCommand(scanCommand(io));
  program.addCommand(hookCommand(io));
  program.addCommand(secretCommand(io));
  const configure = (cmd: Command) => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`keyward: ${redactCredentials(s.replace(/^error: /, '').trim())}\n`),
    });
    cmd.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/**
 * A one-line message for an error: never a stack, never a secret. Error lines echo what was typed (an unknown command,
 * a refused choice, a missing file), so a key or a JWT in them is redacted.
 */
export function describeError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  // PostgreSQL's "undefined table", as pg throws it or inside keyward's STORE_FAILURE
  if (e && (e.code === '42P01' || e.cause?.code === '42P01')) return 'the keyward tables do not exist in this database schema; run `keyward migrate` first';
  const message = typeof e?.message === 'string' && e.message ? e.message : 'unexpected failure';
  return redactCredentials(message.replace(/^keyward: /, '').replace(/\s*\n\s*/g, ' '));
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and returns the exit status: 0 success,
 * 1 credentials found by `scan`, 2 any error (one line on stderr).
 */
export async function run(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      if (error.message) io.stderr.write(`keyward: ${redactCredentials(error.message)}\n`);
      return error.exitCode;
    }
    io.stderr.write(`keyward: ${describeError(error)}\n`);
    return 2;
  }
}
