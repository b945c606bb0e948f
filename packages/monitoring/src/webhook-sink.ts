import { randomUUID } from 'node:crypto';
import { fieldsOf, parseDuration, refuseUnknownInput, warnOnce, type Clock, type Keyward, type KeywardEvent, type KeywardEventType } from '@keyward/core';
import { createSanitizer } from './sanitize';
import { parseTypes, subscribeTo } from './subscribe';
import { retryAfterMs } from './retry-after';
import { SIGNATURE_HEADER, signWebhook } from './signature';

/** The webhook's sanitiser: default redaction, its name sets built once. */
const clean = createSanitizer();

/** Options of {@link webhookSink}. */
export interface WebhookSinkOptions {
  /** The instance to subscribe to; omit to call `send` yourself. */
  keyward?: Pick<Keyward, 'on'>;
  /** Where to POST (http or https). */
  url: string;
  /** HMAC secret shared with the receiver (32+ characters; shorter warns once). */
  secret: string;
  /** Event types sent (default: anomalies, suspensions, revocations of keys and tokens, failed-auth blocks). */
  types?: readonly KeywardEventType[];
  /** Deliveries waiting or being retried, at most (default 1000); beyond, events are dropped and counted. */
  maxQueue?: number;
  /** Retries after the first attempt, on network errors, 408, 429 and 5xx (default 5). */
  retries?: number;
  /** First retry delay (default `'1s'`), more than 0 and at most `maxBackoff`; doubles each time, with jitter. */
  minBackoff?: number | string;
  /** Longest retry delay (default `'1m'`), also the longest wait a 429 or 503 `Retry-After` is granted. */
  maxBackoff?: number | string;
  /** Time allowed for one attempt (default `'10s'`). */
  timeout?: number | string;
  /** Attempts in flight at once (default 4). */
  concurrency?: number;
  /** Extra request headers (valid HTTP names and values; not one the sink sets itself, in any case). */
  headers?: Record<string, string>;
  /** Clock for the signature timestamp (default `Date.now`). */
  clock?: Clock;
  /** The fetch implementation (default the global one). */
  fetch?: typeof fetch;
}

/** Every field of {@link WebhookSinkOptions}. `headers` is the caller's own map and is not checked. */
const OPTIONS = fieldsOf<WebhookSinkOptions>({
  keyward: true, url: true, secret: true, types: true, maxQueue: true, retries: true, minBackoff: true, maxBackoff: true, timeout: true,
  concurrency: true, headers: true, clock: true, fetch: true,
});

/** Headers the sink sets on every delivery: an extra header of the same name (in any case) would be sent beside it. */
const OWN_HEADERS: ReadonlySet<string> = new Set(['content-type', 'user-agent', 'x-keyward-event', 'x-keyward-delivery', SIGNATURE_HEADER.toLowerCase()]);

/**
 * Headers that are valid HTTP but fetch sets itself or refuses (undici: the body's length, framing, `Expect`,
 * connection upgrades): given, every delivery would fail.
 */
const FETCH_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'keep-alive']);

/**
 * Checks the `headers` option once: a header `fetch` refuses would fail every delivery (counted as failed, never
 * said why), and one the sink sets itself would be merged with it (`Content-Type: text/plain, application/json`).
 */
function parseHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw new TypeError('keyward: option "headers" must be an object of header names and string values');
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new TypeError(`keyward: option "headers" must have a string value for ${JSON.stringify(name)}`);
    if (OWN_HEADERS.has(name.toLowerCase())) throw new TypeError(`keyward: option "headers" cannot set ${JSON.stringify(name)}: the webhook sink sets it`);
    if (FETCH_HEADERS.has(name.toLowerCase())) throw new TypeError(`keyward: option "headers" cannot set ${JSON.stringify(name)}: fetch sets or refuses it (every alert would fail)`);
    if (name.toLowerCase() === 'connection' && !/^(close|keep-alive)$/i.test(value.trim())) throw new TypeError(`keyward: option "headers" has a ${JSON.stringify(name)} fetch refuses (close or keep-alive only; every alert would fail)`);
    try {
      new Headers([[name, value]]);
    } catch {
      // the value is not shown: it may be a credential for the receiver
      throw new TypeError(`keyward: option "headers" has an invalid header name or value for ${JSON.stringify(name)}`);
    }
  }
  return { ...(headers as Record<string, string>) };
}

/** The longest delay a Node timer keeps (2^31-1 ms): a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a duration the sink hands to a timer: a longer one than Node keeps would fire at once (a `'30d'` timeout
 * would cut off every attempt, a `'30d'` back-off retry at once), so it is refused by name.
 */
function timerDuration(value: unknown, name: string): number {
  const ms = parseDuration(value, name);
  if (ms > MAX_TIMER_MS) throw new TypeError(`keyward: option "${name}" must be at most 24 days (${MAX_TIMER_MS} ms, the longest timer Node keeps)`);
  return ms;
}

/** Delivery counters. */
export interface WebhookStats {
  /** Accepted and not yet delivered or given up. */
  readonly pending: number;
  readonly delivered: number;
  /** Given up: a non-retryable answer or retries exhausted. */
  readonly failed: number;
  /** Not accepted because the queue was full or the sink closed, or cancelled at close. */
  readonly dropped: number;
  readonly retries: number;
}

/** A running webhook sink. */
export interface WebhookSink {
  /** Queues an event for delivery (if its type is selected; after `close()` it is dropped and counted). Never blocks, never throws. */
  send(event: KeywardEvent): void;
  /** Resolves when nothing is pending (retries included). */
  flush(): Promise<void>;
  stats(): WebhookStats;
  /** Stops listening, waits for attempts in flight, and drops scheduled retries. */
  close(): Promise<void>;
}

/** The event types a webhook sends by default. */
export const DEFAULT_WEBHOOK_EVENTS: readonly KeywardEventType[] = ['anomaly.detected', 'key.suspended', 'key.revoked', 'token.revoked', 'auth.blocked'];

interface Delivery {
  readonly id: string;
  readonly type: string;
  readonly body: string;
  attempt: number;
}

/**
 * POSTs selected events as JSON to a URL, signed with `X-Keyward-Signature: t=<unix s>,v1=<hex HMAC-SHA-256 of
 * "<t>.<body>">` (check it with {@link verifyWebhookSignature}). Also sends `X-Keyward-Event` and a
 * `X-Keyward-Delivery` id that stays the same across retries. Off the request path: a bounded queue, a few
 * attempts in flight, exponential back-off with jitter.
 *
 * @example
 * ```ts
 * webhookSink({ keyward: kw, url: 'https://ops.example/hooks/keyward', secret: process.env.KEYWARD_WEBHOOK_SECRET! });
 * ```
 */
export function webhookSink(options: WebhookSinkOptions): WebhookSink {
  refuseUnknownInput(options, OPTIONS, 'webhookSink()');
  if (typeof options.url !== 'string') throw new TypeError('keyward: option "url" must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError('keyward: option "url" must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('keyward: option "url" must be an http(s) URL');
  // fetch refuses a URL holding credentials, so every delivery failed (counted, retried, never sent) without a word.
  // The URL is not shown: what it holds is a credential.
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('keyward: option "url" must not hold a user name or password (fetch refuses it, every alert would fail): send them in option "headers", e.g. { Authorization: \'Basic …\' }');
  }
  if (typeof options.secret !== 'string' || options.secret.length === 0) throw new TypeError('keyward: option "secret" must be a non-empty string');
  if (options.secret.length < 32) warnOnce('KEYWARD_SHORT_WEBHOOK_SECRET', 'keyward: the webhook secret is shorter than 32 characters; use a long random secret.');
  const int = (v: number | undefined, name: string, min: number, fallback: number) => {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < min) throw new TypeError(`keyward: option "${name}" must be an integer of at least ${min}`);
    return v;
  };
  const maxQueue = int(options.maxQueue, 'maxQueue', 1, 1000);
  const retries = int(options.retries, 'retries', 0, 5);
  const concurrency = int(options.concurrency, 'concurrency', 1, 4);
  const minBackoff = parseDuration(options.minBackoff ?? '1s', 'minBackoff');
  const maxBackoff = timerDuration(options.maxBackoff ?? '1m', 'maxBackoff');
  if (minBackoff === 0) throw new TypeError('keyward: option "minBackoff" must be longer than 0 (every retry would be sent at once)');
  if (minBackoff > maxBackoff) throw new TypeError('keyward: option "minBackoff" must not be longer than option "maxBackoff"');
  const timeout = timerDuration(options.timeout ?? '10s', 'timeout');
  if (timeout === 0) throw new TypeError('keyward: option "timeout" must be longer than 0 (every attempt would be cut off at once)');
  const extraHeaders = parseHeaders(options.headers);
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('keyward: option "fetch" must be a function (no global fetch)');
  const clock = options.clock ?? Date.now;
  // It is read in each attempt: one that is not a function would reject there, unhandled.
  if (typeof clock !== 'function') throw new TypeError('keyward: option "clock" must be a function returning ms since the epoch');
  const types = parseTypes(options.types ?? DEFAULT_WEBHOOK_EVENTS)!;
  const target = url.toString();

  const ready: Delivery[] = [];
  const timers = new Map<Delivery, NodeJS.Timeout>();
  let inFlight = 0;
  let delivered = 0, failed = 0, dropped = 0, retried = 0;
  let idleWaiters: Array<() => void> = [];
  let closed = false;
  const pending = () => ready.length + timers.size + inFlight;
  const checkIdle = () => {
    if (pending() > 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const r of w) r();
  };

  const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

  async function attempt(d: Delivery): Promise<void> {
    let status = 0;
    let asked: number | undefined;
    try {
      // Inside the try: a clock that throws fails this attempt as a network error would (retried, then counted), where
      // outside it rejected the attempt's promise, which nobody handles (an unhandled rejection ends the process).
      const t = Math.floor(clock() / 1000);
      const res = await doFetch(target, {
        method: 'POST',
        headers: { ...extraHeaders, 'Content-Type': 'application/json', 'User-Agent': 'keyward-webhook/1', 'X-Keyward-Event': d.type, 'X-Keyward-Delivery': d.id, [SIGNATURE_HEADER]: signWebhook(options.secret, d.body, t) },
        body: d.body,
        signal: AbortSignal.timeout(timeout),
        redirect: 'manual',
      });
      status = res.status;
      // A receiver that sheds load says when to come back: retrying sooner only spends the retries while it refuses.
      if (status === 429 || status === 503) asked = retryAfterMs(res.headers.get('retry-after'), clock());
      // The status is all a delivery needs. The body is cancelled, not read: a receiver (or whatever answers at its
      // address) that streams a large answer would otherwise be buffered, gigabytes within the timeout.
      await res.body?.cancel().catch(() => undefined);
    } catch {
      status = 0;
    }
    if (status >= 200 && status < 300) {
      delivered++;
      return;
    }
    if ((status === 0 || retryable(status)) && d.attempt < retries && !closed) {
      d.attempt++;
      retried++;
      const backoff = Math.min(maxBackoff, minBackoff * 2 ** (d.attempt - 1)) * (0.5 + Math.random() / 2);
      const delay = asked === undefined ? backoff : Math.max(backoff, Math.min(asked, maxBackoff));
      const timer = setTimeout(() => {
        timers.delete(d);
        ready.push(d);
        pump();
      }, delay);
      timer.unref();
      timers.set(d, timer);
      return;
    }
    failed++;
  }

  function pump(): void {
    while (inFlight < concurrency && ready.length > 0) {
      const d = ready.shift()!;
      inFlight++;
      void attempt(d).finally(() => {
        inFlight--;
        pump();
        checkIdle();
      });
    }
  }

  const sink: WebhookSink = {
    send(event) {
      if (!types.has(event.type)) return;
      // After close() nothing is delivered: the event is lost, and counted as such.
      if (closed || pending() >= maxQueue) {
        dropped++;
        return;
      }
      ready.push({ id: randomUUID(), type: event.type, body: JSON.stringify(clean(event)), attempt: 0 });
      pump();
    },
    flush() {
      return pending() === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r));
    },
    stats: () => ({ pending: pending(), delivered, failed, dropped, retries: retried }),
    async close() {
      if (closed) return sink.flush(); // a second call waits, as the first does, for the attempts in flight
      closed = true;
      off?.();
      dropped += ready.length;
      ready.length = 0;
      for (const t of timers.values()) clearTimeout(t);
      dropped += timers.size;
      timers.clear();
      checkIdle();
      await sink.flush();
    },
  };
  const off = subscribeTo(options.keyward, types, (e) => sink.send(e));
  return sink;
}
