import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Command } from 'commander';
import { CliError, type CliIO } from '../io';
import { git } from '../scan/files';

/** The line that marks a hook as written by keyward (so it may be replaced). */
export const HOOK_MARKER = '# keyward pre-commit hook';

/** The hook script running `<command> scan --staged`. */
export function hookScript(command: string | undefined): string {
  const run = command
    ? `exec ${command} scan --staged`
    : ['if [ -x ./node_modules/.bin/keyward ]; then', '  exec ./node_modules/.bin/keyward scan --staged', 'fi', 'exec keyward scan --staged'].join('\n');
  return `#!/bin/sh\n${HOOK_MARKER}: refuses commits that contain credentials.\n# Installed by \`keyward hook install\`; skip it once with \`git commit --no-verify\`.\n${run}\n`;
}

/** `keyward hook install`: writes a git pre-commit hook running `keyward scan --staged`. */
export function hookCommand(io: CliIO): Command {
  const hook = new Command('hook').description('manage the git pre-commit hook');
  hook
    .command('install')
    .description('install a git pre-commit hook that runs `keyward scan --staged`')
    .option('--force', 'replace an existing pre-commit hook that keyward did not write')
    .option('--command <command>', 'how the hook calls keyward (default: node_modules/.bin/keyward, else keyward on PATH)')
    .action((o: { force?: boolean; command?: string }) => {
      if (o.command !== undefined && (o.command.trim() === '' || /[\r\n]/.test(o.command))) throw new CliError('--command must be one line');
      const hooksDir = git(['rev-parse', '--git-path', 'hooks'], io.cwd)?.toString('utf8').trim();
      if (!hooksDir) throw new CliError('not inside a git repository');
      const dir = isAbsolute(hooksDir) ? hooksDir : join(io.cwd, hooksDir);
      const file = join(dir, 'pre-commit');
      if (existsSync(file) && !o.force && !readFileSync(file, 'utf8').includes(HOOK_MARKER)) {
        throw new CliError(`${file} exists and was not written by keyward; add \`keyward scan --staged\` to it, or pass --force to replace it`);
      }
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, hookScript(o.command), { mode: 0o755 });
      chmodSync(file, 0o755);
      io.stdout.write(`Installed ${file}: commits that contain credentials are refused.\n`);
    });
  return hook;
}
