import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/** Directories never scanned. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git']);

const BINARY_EXTENSIONS = new Set(
  'png jpg jpeg gif bmp ico webp avif tif tiff psd pdf zip gz tgz bz2 xz 7z rar jar war class so dylib dll exe bin o a lib woff woff2 ttf otf eot mp3 mp4 m4a mov avi mkv webm wav flac ogg sqlite db pyc wasm node dat mmdb'.split(' '),
);

/** True for file names whose extension marks them as binary (they are not even read). */
export function hasBinaryExtension(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && BINARY_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

/** True when the content looks binary: a NUL byte in its first 8000 bytes (git's test). */
export function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8000).includes(0);
}

/**
 * A file's text: UTF-16 (little or big endian) when it starts with that byte order mark, as PowerShell and Windows
 * editors write files, otherwise UTF-8. `undefined` for binary content ({@link isBinary}); UTF-16 text is full of NUL
 * bytes, so it is recognised by its mark first, or a credential in it would go unscanned as "binary".
 */
export function decodeText(content: Buffer): string | undefined {
  if (content.length >= 2 && content[0] === 0xff && content[1] === 0xfe) return content.subarray(2).toString('utf16le');
  if (content.length >= 2 && content[0] === 0xfe && content[1] === 0xff) return Buffer.from(content.subarray(2, content.length - (content.length % 2))).swap16().toString('utf16le');
  return isBinary(content) ? undefined : content.toString('utf8');
}

const inSkippedDir = (path: string) => path.split(/[\\/]/).some((part) => SKIPPED_DIRS.has(part));

/** Runs git; returns stdout or `undefined` when git fails or is missing. */
export function git(args: readonly string[], cwd: string, maxBuffer = 256 * 1024 * 1024): Buffer | undefined {
  const r = spawnSync('git', args, { cwd, maxBuffer, stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 && r.stdout ? r.stdout : undefined;
}

function walk(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIPPED_DIRS.has(e.name)) walk(join(dir, e.name), out);
    } else if (e.isFile()) out.push(join(dir, e.name));
  }
}

/**
 * The files to scan under `paths` (default the working directory). Inside a git work tree, the files git would track
 * (tracked plus untracked, minus git-ignored ones); elsewhere a walk that never follows symbolic links. A path in
 * `paths` that is a symbolic link is followed. `node_modules` and `.git` are always skipped. Paths come back relative
 * to `cwd` when under it.
 */
export function listFiles(paths: readonly string[], cwd: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (abs: string) => {
    if (seen.has(abs) || inSkippedDir(relative(cwd, abs))) return;
    seen.add(abs);
    out.push(abs);
  };
  for (const p of paths.length ? paths : ['.']) {
    const abs = resolve(cwd, p);
    let st;
    try {
      // A path named on the command line is followed when it is a symbolic link (it was silently not scanned, and the
      // scan said "no credentials found"); the walk below still never follows one, so no link loop is entered.
      st = statSync(abs);
    } catch {
      throw new Error(`no such file or directory: ${p}`);
    }
    if (st.isFile()) {
      add(abs);
      continue;
    }
    if (!st.isDirectory()) continue;
    const listed = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], abs);
    if (listed !== undefined) {
      for (const rel of listed.toString('utf8').split('\0')) {
        if (!rel) continue;
        const file = join(abs, rel);
        try {
          if (lstatSync(file).isFile()) add(file);
        } catch {
          // deleted in the work tree
        }
      }
    } else {
      const found: string[] = [];
      walk(abs, found);
      for (const f of found) add(f);
    }
  }
  return out.map((abs) => {
    const rel = relative(cwd, abs);
    return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : abs;
  });
}

/** Size of a file in bytes, or -1 when it cannot be read. */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}
