import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeText, git, hasBinaryExtension, listFiles, sizeOf, SKIPPED_DIRS } from './files';
import { scanText, type Finding } from './scan-text';
import { createProgress } from './progress';

/** What a scan looks at and how. */
export interface ScanOptions {
  /** Files and directories (default the working directory). Ignored with `staged`. */
  readonly paths?: readonly string[];
  /** Scan what is staged for the next commit (the index), not the work tree. */
  readonly staged?: boolean;
  readonly cwd: string;
  /** Files larger than this are skipped (bytes, default 10 MiB). */
  readonly maxBytes?: number;
  /** Where progress goes (only drawn when it is a TTY). */
  readonly progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** What a scan found. */
export interface ScanReport {
  readonly findings: Finding[];
  /** Files read and scanned. */
  readonly scanned: number;
  /** Files skipped as binary or too large. */
  readonly skipped: number;
  /** Of those, the files skipped only for being larger than the limit: text that may hold a credential, unscanned. */
  readonly tooLarge: number;
}

interface Source {
  readonly name: string;
  read(): Buffer | undefined;
  readonly size: number;
}

function stagedSources(cwd: string): Source[] {
  const root = git(['rev-parse', '--show-toplevel'], cwd)?.toString('utf8').trim();
  if (!root) throw new Error('--staged needs a git repository');
  // T too: a symbolic link (or submodule) replaced by a file is a type change, and the file's content is new.
  const names = git(['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMRT'], root);
  if (names === undefined) throw new Error('cannot list the staged files (git diff --cached failed)');
  return names
    .toString('utf8')
    .split('\0')
    .filter((n) => n && !n.split('/').some((p) => SKIPPED_DIRS.has(p)))
    // Stage 0 named explicitly: `:0:x.txt` would be read as stage 0 of "x.txt", so a file named "0:x.txt" went unscanned.
    .map((name) => ({ name, size: 0, read: () => git(['show', `:0:${name}`], root) }));
}

function workTreeSources(paths: readonly string[], cwd: string): Source[] {
  return listFiles(paths, cwd).map((name) => ({
    name,
    size: sizeOf(resolve(cwd, name)),
    read: () => {
      try {
        return readFileSync(resolve(cwd, name));
      } catch {
        return undefined;
      }
    },
  }));
}

/**
 * Scans files (or the staged changes) for credentials. Binary files (by extension or a NUL byte), files over the size
 * limit, `node_modules`, `.git` and git-ignored files are skipped.
 */
export function runScan(options: ScanOptions): ScanReport {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const sources = options.staged ? stagedSources(options.cwd) : workTreeSources(options.paths ?? [], options.cwd);
  const progress = createProgress(options.progress, sources.length);
  const findings: Finding[] = [];
  let scanned = 0;
  let skipped = 0;
  let tooLarge = 0;
  try {
    for (const [i, s] of sources.entries()) {
      progress.tick(i);
      if (hasBinaryExtension(s.name)) {
        skipped++;
        continue;
      }
      if (s.size > maxBytes) {
        skipped++;
        tooLarge++;
        continue;
      }
      const content = s.read();
      if (content === undefined) continue;
      const text = decodeText(content);
      if (text === undefined) {
        skipped++;
        continue;
      }
      if (content.length > maxBytes) {
        skipped++;
        tooLarge++;
        continue;
      }
      scanned++;
      findings.push(...scanText(text, s.name));
    }
  } finally {
    progress.done();
  }
  return { findings, scanned, skipped, tooLarge };
}
