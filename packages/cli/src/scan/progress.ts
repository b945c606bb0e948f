/** A progress line on a terminal. */
export interface Progress {
  /** Reports that file `i` (0-based) is being scanned. */
  tick(i: number): void;
  /** Clears the line. */
  done(): void;
}

const NONE: Progress = { tick() {}, done() {} };

/** Below this many files no progress is drawn. */
export const PROGRESS_THRESHOLD = 200;

/**
 * A progress indicator `scanning 1200/5000 files (24%)`, redrawn at most every 100 ms, only when `stream` is a TTY
 * and the tree is large; otherwise a no-op (so logs and pipes stay clean).
 */
export function createProgress(stream: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined, total: number, now: () => number = Date.now): Progress {
  if (!stream || stream.isTTY !== true || total < PROGRESS_THRESHOLD) return NONE;
  let last = 0;
  let drawn = false;
  return {
    tick(i) {
      const t = now();
      if (t - last < 100) return;
      last = t;
      drawn = true;
      stream.write(`\r\x1b[2Kscanning ${i + 1}/${total} files (${Math.floor(((i + 1) * 100) / total)}%)`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
