import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { fieldsOf, parseDuration, refuseUnknownInput, type KeywardEventType } from '@keyward/core';
import { checkRedact, createSanitizer, redactWithSource, type RedactOptions, type SinkSource } from './sanitize';
import { parseTypes, subscribeTo } from './subscribe';
import type { EventSink } from './pino-sink';

/** Options of {@link jsonLinesSink}: give `stream` or `path`. */
export interface JsonLinesSinkOptions {
  /**
   * The instance to subscribe to; omit to call `write` yourself. The header and query parameter it reads credentials
   * from (its `header` and `queryParam` options) are redacted in `write`'s extra data as `redact` names are.
   */
  keyward?: SinkSource;
  /** Where to write. */
  stream?: Writable;
  /** A file to append to (opened by the sink, closed by `close()`). */
  path?: string;
  /** Event types to write (default all). */
  types?: readonly KeywardEventType[];
  /** Lines held while the stream applies back-pressure; beyond, lines are dropped and counted (default 10,000). */
  maxBuffer?: number;
  /** More names to redact. */
  redact?: RedactOptions;
  /**
   * The longest `close()` waits for the stream to take the lines held back (default `'10s'`): beyond, they are dropped
   * and counted, and a file the sink opened is closed, so a stream that never drains cannot hold shutdown for ever.
   */
  closeTimeout?: number | string;
}

/** Every field of {@link JsonLinesSinkOptions}: a misspelt `redact` must not let a secret reach the log. */
const OPTIONS = fieldsOf<JsonLinesSinkOptions>({ keyward: true, stream: true, path: true, types: true, maxBuffer: true, redact: true, closeTimeout: true });

/** A JSON-lines sink with its counters. */
export interface JsonLinesSink extends EventSink {
  stats(): { written: number; dropped: number; buffered: number };
}

/**
 * Writes each event as one JSON line (sanitised, see {@link sanitize}) to a stream or an append-only file. Never
 * blocks: while the stream is full, lines wait in a bounded buffer, and lines beyond it are dropped and counted.
 *
 * @example
 * ```ts
 * const sink = jsonLinesSink({ keyward: kw, path: '/var/log/keyward/audit.jsonl' });
 * ```
 */
export function jsonLinesSink(options: JsonLinesSinkOptions): JsonLinesSink {
  refuseUnknownInput(options, OPTIONS, 'jsonLinesSink()');
  if ((options.stream === undefined) === (options.path === undefined)) throw new TypeError('keyward: give option "stream" or option "path" (one of them)');
  // on() too: the sink hears the stream's failures through it, and a stream without one would throw at the first.
  const given = options.stream as Partial<Writable> | null | undefined;
  if (given !== undefined && (typeof given !== 'object' || given === null || typeof given.write !== 'function' || typeof given.on !== 'function')) throw new TypeError('keyward: option "stream" must be a writable stream');
  // An empty name fails only when the file is opened, after start-up: every line would be dropped unseen.
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) throw new TypeError('keyward: option "path" must be a non-empty file name');
  const maxBuffer = options.maxBuffer ?? 10_000;
  if (!Number.isInteger(maxBuffer) || maxBuffer < 0) throw new TypeError('keyward: option "maxBuffer" must be a non-negative integer');
  const closeTimeout = parseDuration(options.closeTimeout ?? '10s', 'closeTimeout');
  // A longer delay than Node's timers keep (2^31-1 ms) would fire at once: close() would drop what it holds.
  if (closeTimeout > 2 ** 31 - 1) throw new TypeError(`keyward: option "closeTimeout" must be at most 24 days (${2 ** 31 - 1} ms, the longest timer Node keeps)`);
  checkRedact(options.redact);
  const clean = createSanitizer(redactWithSource(options.redact, options.keyward)); // its name sets built once, not per line
  const owned = options.path !== undefined;
  const stream: Writable = options.stream ?? createWriteStream(options.path!, { flags: 'a' });
  const types = parseTypes(options.types);
  let written = 0;
  let dropped = 0;
  let waiting = false;
  const buffer: string[] = [];
  /**
   * A line the stream took counts as written at once; when the stream then fails to write it (a full disk, a file
   * that cannot be opened, destroyed with the line in its queue), it is counted as dropped instead.
   */
  const settled = (err: Error | null | undefined) => {
    if (!err) return;
    written--;
    dropped++;
  };
  const pump = () => {
    waiting = false;
    if (stream.writableEnded) return lose(); // ended by its owner meanwhile
    while (buffer.length > 0) {
      const line = buffer.shift()!;
      written++;
      if (!stream.write(line, settled)) {
        waiting = true;
        stream.once('drain', pump);
        return;
      }
    }
  };
  /** The stream failed: what it held back, and every later line, is dropped and counted. */
  let failed = false;
  let closing: (() => void) | undefined;
  /** No 'drain' will come: the lines waiting for one are dropped (and counted) now, and a close() waiting returns. */
  const lose = () => {
    dropped += buffer.length;
    buffer.length = 0;
    waiting = false;
    closing?.();
  };
  stream.on('error', () => {
    // A failing log destination never breaks requests.
    failed = true;
    lose();
  });
  stream.on('close', lose);
  const sink: JsonLinesSink = {
    write(event, extra) {
      if (types && !types.has(event.type)) return;
      const line = `${JSON.stringify(clean(extra ? { ...event, request: extra } : event))}\n`;
      if (failed || stream.destroyed || stream.writableEnded) {
        dropped++;
        return;
      }
      if (waiting) {
        if (buffer.length >= maxBuffer) dropped++;
        else buffer.push(line);
        return;
      }
      written++;
      if (!stream.write(line, settled)) {
        waiting = true;
        stream.once('drain', pump);
      }
    },
    stats: () => ({ written, dropped, buffered: buffer.length }),
    close() {
      // Once: a second call shares the first's wait (the failure that ends it resolves one waiter).
      return (closed ??= closeOnce());
    },
  };
  let closed: Promise<void> | undefined;
  async function closeOnce(): Promise<void> {
    off?.();
    // A stream of the caller's is not ended, but what the sink holds is handed to it first: the caller may end it next.
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((done) => {
      const resolve = () => {
        clearTimeout(timer);
        done();
      };
      closing = resolve;
      // Bounded, as the webhook's attempts are: a stream that never drains nor fails would otherwise hold close() for
      // ever. What is still held is dropped and counted; a file of the sink's own is closed (its queued lines fail,
      // counted as dropped too); a stream of the caller's is left to the caller.
      timer = setTimeout(() => {
        if (owned) stream.destroy();
        lose();
        resolve();
      }, closeTimeout);
      timer.unref();
      const check = () => {
        if (failed || stream.destroyed || stream.writableEnded) {
          lose();
          resolve();
        } else if (!owned && buffer.length === 0) resolve();
        else if (buffer.length === 0 && !waiting) stream.end(() => resolve());
        else stream.once('drain', () => setImmediate(check));
      };
      check();
    });
  }
  const off = subscribeTo(options.keyward, types, (e) => sink.write(e));
  return sink;
}
