import { EVENT_SCHEMA, fieldsOf, refuseUnknownInput, warnOnce, type Keyward, type KeywardEvent } from '@keyward/core';
import { checkClient, type RedisClient } from './client';

/** Options of {@link createAuditStream}. */
export interface AuditStreamOptions {
  /** An ioredis client. Never closed by the sink. */
  client: RedisClient;
  /** Stream key (default `keyward:audit`). */
  stream?: string;
  /** Approximate bound on the stream length (`XADD … MAXLEN ~`), default 100,000. */
  maxLen?: number;
  /** Events held in memory while Redis is away (default 10,000). Beyond it the oldest are dropped and counted. */
  bufferSize?: number;
  /** Events per pipelined write (default 200). */
  batchSize?: number;
  /** How often to retry while Redis is away, in ms (default 500). */
  retryMs?: number;
  /**
   * Called when buffered events had to be dropped, with the number dropped this time and in total. Default: a process
   * warning once. An `audit.dropped` event with the count is also written to the stream as soon as Redis is back.
   */
  onDropped?: (info: { dropped: number; total: number }) => void;
}

/** Every field of {@link AuditStreamOptions}. */
const OPTIONS = fieldsOf<AuditStreamOptions>({ client: true, stream: true, maxLen: true, bufferSize: true, batchSize: true, retryMs: true, onDropped: true });

/** A sink writing keyward events to a Redis Stream. */
export interface AuditStreamSink {
  /** The listener to subscribe: `kw.on('*', sink.listener)`. */
  readonly listener: (event: KeywardEvent) => void;
  /** Events waiting in memory. */
  readonly buffered: number;
  /** Events dropped because the buffer was full, or left unwritten by `close()` (Redis away), since start. */
  readonly dropped: number;
  /** Events written to the stream, since start. */
  readonly written: number;
  /** Writes what is buffered now (resolves when done or when Redis is away). */
  flush(): Promise<void>;
  /** Stops retrying after a last flush attempt; what that attempt could not write is counted in `dropped` and reported to `onDropped`. */
  close(): Promise<void>;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1) throw new TypeError(`keyward: option "${name}" must be a positive integer`);
  return value as number;
}

/**
 * Creates a sink that appends every event to a Redis Stream, bounded with `MAXLEN ~`. While Redis is away events wait
 * in a bounded buffer and are written, in order, when it returns; overflow is counted, reported to `onDropped`, and
 * recorded in the stream as an `audit.dropped` event — never silent. Each entry has the fields `type` and `event`
 * (the event as JSON; events never carry secrets).
 *
 * @example
 * ```ts
 * const sink = createAuditStream({ client, stream: 'keyward:audit', maxLen: 1_000_000 });
 * kw.on('*', sink.listener);
 * ```
 */
export function createAuditStream(options: AuditStreamOptions): AuditStreamSink {
  refuseUnknownInput(options, OPTIONS, 'createAuditStream()');
  const client = checkClient(options.client, 'client');
  const stream = options.stream ?? 'keyward:audit';
  if (typeof stream !== 'string' || stream.length === 0 || stream.length > 256) throw new TypeError('keyward: option "stream" must be a non-empty string');
  const maxLen = positiveInt(options.maxLen, 'maxLen', 100_000);
  const bufferSize = positiveInt(options.bufferSize, 'bufferSize', 10_000);
  const batchSize = positiveInt(options.batchSize, 'batchSize', 200);
  const retryMs = positiveInt(options.retryMs, 'retryMs', 500);
  if (options.onDropped !== undefined && typeof options.onDropped !== 'function') throw new TypeError('keyward: option "onDropped" must be a function');
  const onDropped = options.onDropped ?? (() => warnOnce('KEYWARD_AUDIT_DROPPED', 'keyward: the Redis audit buffer overflowed while Redis was away; events were dropped (counted in an audit.dropped event).'));

  let buffer: KeywardEvent[] = [];
  let dropped = 0;
  let unreported = 0;
  let written = 0;
  let flushing: Promise<void> | undefined;
  let scheduled = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  function push(event: KeywardEvent): void {
    buffer.push(event);
    if (buffer.length > bufferSize) {
      const over = buffer.length - bufferSize;
      buffer = buffer.slice(over);
      drop(over);
    }
  }

  /** Counts and reports `count` events lost (the oldest, on overflow; whatever is left, on close). */
  function drop(count: number): void {
    dropped += count;
    unreported += count;
    try {
      onDropped({ dropped: count, total: dropped });
    } catch {
      // a reporting callback never breaks the sink
    }
  }

  function xadd(pipeline: ReturnType<RedisClient['pipeline']>, event: KeywardEvent): void {
    pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', 'type', event.type, 'event', JSON.stringify(event));
  }

  async function writeOnce(): Promise<void> {
    while (buffer.length > 0 || unreported > 0) {
      if (client.status !== 'ready') return armRetry();
      const batch = buffer.slice(0, batchSize);
      const report = unreported;
      const pipeline = client.pipeline();
      if (report > 0) xadd(pipeline, { schema: EVENT_SCHEMA, type: 'audit.dropped', time: new Date().toISOString(), reason: 'AUDIT_BUFFER_FULL', data: { count: report, total: dropped } });
      for (const e of batch) xadd(pipeline, e);
      let replies: [Error | null, unknown][] | null;
      try {
        replies = await pipeline.exec();
      } catch {
        return armRetry();
      }
      if (!replies) return armRetry();
      // Keep whatever failed (in order) at the front; count what landed.
      const results = replies.slice(report > 0 ? 1 : 0);
      const reportFailed = report > 0 && replies[0]?.[0] != null;
      if (report > 0 && !reportFailed) unreported -= report;
      const firstFailure = results.findIndex(([error]) => error !== null);
      const landed = firstFailure === -1 ? batch.length : firstFailure;
      written += landed;
      buffer = buffer.slice(landed);
      // Any refused write waits for the retry timer (none after close()): never rewrite at once, which would spin.
      if (firstFailure !== -1 || reportFailed) return armRetry();
    }
  }

  function armRetry(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void flush();
    }, retryMs);
    retry.unref();
  }

  function flush(): Promise<void> {
    if (!flushing) {
      flushing = writeOnce().finally(() => {
        flushing = undefined;
        if (buffer.length > 0 && client.status === 'ready' && !closed) schedule();
      });
    }
    return flushing;
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  const onReady = () => {
    if (!closed) schedule();
  };
  client.on('ready', onReady);

  return {
    listener(event) {
      if (closed) return;
      push(event);
      schedule();
    },
    get buffered() {
      return buffer.length;
    },
    get dropped() {
      return dropped;
    },
    get written() {
      return written;
    },
    flush,
    async close() {
      await flush();
      closed = true;
      if (retry) clearTimeout(retry);
      client.off('ready', onReady);
      // What the last flush could not write (Redis away) is lost: counted and reported, never dropped silently.
      if (buffer.length > 0) {
        const left = buffer.length;
        buffer = [];
        drop(left);
      }
    },
  };
}

/**
 * Subscribes an audit stream sink to every event of a keyward instance. `close()` unsubscribes and stops the sink.
 *
 * @example
 * ```ts
 * const audit = attachAuditStream(kw, { client, stream: 'keyward:audit', maxLen: 100_000 });
 * ```
 */
export function attachAuditStream(kw: Keyward, options: AuditStreamOptions): AuditStreamSink {
  if (typeof options === 'object' && options !== null) refuseUnknownInput(options, OPTIONS, 'attachAuditStream()');
  const sink = createAuditStream(options);
  const off = kw.on('*', sink.listener);
  return {
    listener: sink.listener,
    get buffered() {
      return sink.buffered;
    },
    get dropped() {
      return sink.dropped;
    },
    get written() {
      return sink.written;
    },
    flush: () => sink.flush(),
    async close() {
      off();
      await sink.close();
    },
  };
}
