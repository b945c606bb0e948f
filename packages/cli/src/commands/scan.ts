import { Command } from 'commander';
import { CliError, type CliIO } from '../io';
import { runScan } from '../scan/run-scan';
import { json, printable } from '../output';

/** The smallest `--max-size` accepted, in bytes. */
const MIN_MAX_SIZE = 1024;

function parseSize(value: string): number {
  const m = /^(\d+)\s*(b|k|kb|m|mb)?$/i.exec(value.trim());
  if (!m) throw new CliError('--max-size must be a size such as 500k or 10m');
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const bytes = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  // Smaller would skip nearly every file (0 skips them all) and exit 0: a hook set up that way would never block.
  if (bytes < MIN_MAX_SIZE) throw new CliError('--max-size must be at least 1k: a smaller limit leaves files with credentials unscanned');
  return bytes;
}

/**
 * `keyward scan [paths…]` / `keyward scan --staged`: finds keyward keys and common provider credentials, prints
 * `file:line:column  kind  masked`, exits 1 when anything is found.
 */
export function scanCommand(io: CliIO): Command {
  return new Command('scan')
    .description('find leaked credentials (keyward keys, AWS, GitHub, Stripe, Slack, Google, private keys, JWTs); exit 1 when any is found')
    .argument('[paths...]', 'files and directories (default: the current directory)')
    .option('--staged', 'scan what is staged for the next commit (for the pre-commit hook)')
    .option('--json', 'print JSON')
    .option('--max-size <size>', 'skip files larger than this', '10m')
    .option('--no-progress', 'never draw the progress line')
    .action((paths: string[], o: { staged?: boolean; json?: boolean; maxSize: string; progress: boolean }) => {
      if (o.staged && paths.length) throw new CliError('--staged takes no paths');
      let report;
      try {
        report = runScan({ paths, cwd: io.cwd, maxBytes: parseSize(o.maxSize), ...(o.staged ? { staged: true } : {}), ...(o.progress ? { progress: io.stderr } : {}) });
      } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError(error instanceof Error ? error.message : 'scan failed');
      }
      const { findings } = report;
      if (o.json) io.stdout.write(json({ findings, scanned: report.scanned, skipped: report.skipped, tooLarge: report.tooLarge }));
      else {
        // A file name may hold a newline or an escape sequence (a repository's files are anyone's): shown escaped.
        for (const f of findings) io.stdout.write(`${printable(f.file)}:${f.line}:${f.column}  ${f.kind}  ${f.masked}${f.detail ? `  (${f.detail})` : ''}\n`);
        // A text file over --max-size was not read: say so, or "no credentials found" would claim more than was checked.
        const unscanned = report.tooLarge > 0 ? `; ${report.tooLarge} file(s) larger than --max-size ${o.maxSize} not scanned` : '';
        io.stderr.write(findings.length ? `keyward scan: ${findings.length} credential(s) found in ${new Set(findings.map((f) => f.file)).size} file(s) (${report.scanned} scanned${unscanned}). Revoke and rotate them; mark test fixtures with "keyward:allow".\n` : `keyward scan: no credentials found (${report.scanned} file(s) scanned${unscanned}).\n`);
      }
      if (findings.length) throw new CliError('', 1);
    });
}
