import { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { CompletionInfo } from '../model';

/** A response {@link onResponseDone} can track: Node's HTTP/1 response, or its HTTP/2 compatibility response. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** Per-response state of {@link onResponseDone}: the byte count and the callbacks (usually one). */
interface Tracker {
  bytes: number;
  /** 0 bytes are reported for a `HEAD` request; `undefined` when the caller did not say (read from `res.req`). */
  readonly head: boolean | undefined;
  /**
   * Whether the response had Node's own HTTP/1 prototype when tracking started: its status is then read plainly,
   * otherwise through `Reflect.get` (see {@link report}). Both reads answer the same, whatever the prototype is by then
   * (an Express sub-app swaps it and back); the flag only picks the one V8 serves from its caches.
   */
  readonly plain: boolean;
  readonly done: (info: CompletionInfo) => void;
  more: Array<(info: CompletionInfo) => void> | undefined;
  /**
   * True once `end` was called: what is written after it sends nothing, and HTTP/2's `end`, which hands its chunk to
   * `write`, is not counted twice (the flag is set before the response's own `end` runs). Kept here rather than read
   * from the response's `writableEnded`, because on Express every property read on a response misses V8's caches
   * (~1,800 instructions).
   */
  ended: boolean;
}

/** Responses being counted. A WeakMap, so tracking never changes a response object's shape (V8 keeps it fast). */
const trackers = new WeakMap<object, Tracker>();

function count(t: Tracker, chunk: unknown, encoding: unknown): void {
  if (typeof chunk === 'string') t.bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  else if (chunk instanceof Uint8Array) t.bytes += chunk.byteLength;
}

/** Calls a tracked response's callbacks, once. */
function report(res: NodeResponse, t: Tracker): void {
  trackers.delete(res);
  const head = t.head ?? (res as { req?: { method?: string } }).req?.method === 'HEAD';
  // Read as toAuthRequest reads a request: on Express, whose responses each have a hidden class of their own, a plain
  // `res.statusCode` misses V8's caches (~2,000 instructions) and `Reflect.get` does not (~250).
  const status = t.plain ? res.statusCode : (Reflect.get(res, 'statusCode') as number);
  // Node sends no body with a 204 or a 304 (nor a HEAD answer) and drops what was written: nothing to count.
  const info = { status, bytes: head || status === 204 || status === 304 ? 0 : t.bytes };
  t.done(info);
  if (t.more) for (const done of t.more) done(info);
}

type Method = (this: NodeResponse, ...args: unknown[]) => unknown;
type Wrappable = { write: Method; end: Method; emit: Method };

/** Prototypes (or, for a response of another kind, the objects themselves) whose methods are wrapped. */
const wrapped = new WeakSet<object>();

/**
 * Wraps three methods of `target` once: `write` and `end`, so the body bytes of tracked responses are counted as they
 * reach Node (after any compression middleware), and `emit`, to see the `close` event Node emits on every response,
 * when it has finished and when its connection (or HTTP/2 stream) went away first. For a response that is not
 * tracked the cost is one WeakMap look-up per `write`/`end` and one comparison per event; nothing else changes.
 *
 * Measured alternatives: per-response own properties cost ≈ 9 µs per request on Express (they change the shape of
 * every response object), and a `close` listener on each response about 3 % of an Express request (on Express 5 every
 * property read on a request or response misses V8's inline caches, and adding a listener makes several).
 */
function wrap(target: Wrappable): void {
  if (wrapped.has(target)) return;
  wrapped.add(target);
  const { write, end, emit } = target;
  target.write = function (this: NodeResponse, chunk: unknown, encoding?: unknown) {
    const t = trackers.get(this);
    if (t && !t.ended) count(t, chunk, encoding); // a write after end() sends nothing; end()'s own write is counted there
    // eslint-disable-next-line prefer-rest-params
    return write.apply(this, arguments as unknown as unknown[]);
  };
  target.end = function (this: NodeResponse, chunk?: unknown, encoding?: unknown) {
    const t = trackers.get(this);
    if (t !== undefined && !t.ended) { // a second end() sends nothing
      t.ended = true;
      if (typeof chunk !== 'function') count(t, chunk, encoding);
    }
    // eslint-disable-next-line prefer-rest-params
    return end.apply(this, arguments as unknown as unknown[]);
  };
  target.emit = function (this: NodeResponse, event: unknown, arg?: unknown) {
    if (event === 'close') {
      const t = trackers.get(this);
      if (t) report(this, t);
    }
    // Node's own events carry at most one argument: a plain call is cheaper than `apply` (this runs on every event).
    const n = arguments.length;
    // eslint-disable-next-line prefer-rest-params
    return n === 1 ? emit.call(this, event) : n === 2 ? emit.call(this, event, arg) : emit.apply(this, arguments as unknown as unknown[]);
  };
}

/**
 * `res.closed` of a response whose hidden class is its own (Express's): read from Node's own `_closed` field, which the
 * `closed` getter returns, when the response has it. `Reflect.get(res, 'closed')` finds the getter on the prototype
 * and calls it from V8's runtime (~2,200 instructions a request, most of them entering JavaScript again from C++);
 * the field is an own data property (~250). Any other response is asked through the getter.
 */
function closedOf(res: ServerResponse): unknown {
  const field: unknown = Reflect.get(res, '_closed');
  return typeof field === 'boolean' ? field : Reflect.get(res, 'closed');
}

/** The prototype of the last response seen: a response of the same kind needs no further check. */
let known: object | null = null;
/** Whether responses of the `known` prototype are HTTP/2 responses. */
let knownHttp2 = false;

/**
 * Wraps the methods of Node's HTTP/1 `ServerResponse` now rather than at the first tracked response. Adapters call it
 * when a mount is created, so a middleware that keeps `res.write`/`res.end` for itself (compression does) already
 * keeps the counting ones on the very first request. Idempotent. HTTP/2 responses are wrapped at the first one
 * tracked, so `node:http2` is loaded only by apps that use it.
 */
export function prepareResponseTracking(): void {
  wrap(ServerResponse.prototype as unknown as Wrappable);
}

/**
 * Makes sure the methods of `res`'s kind are wrapped: `ServerResponse.prototype` for HTTP/1 (Express, Koa, Nest,
 * Fastify), `Http2ServerResponse.prototype` for HTTP/2 (Koa or Fastify on `node:http2`; the module is loaded only
 * then), and for any other response-like object that object itself. `proto` is `res`'s prototype, which the caller
 * has read already. Returns whether `res` is an HTTP/2 response.
 */
function prepare(res: NodeResponse, proto: object | null): boolean {
  if (proto === known) return knownHttp2;
  let http2 = false;
  if (res instanceof ServerResponse) prepareResponseTracking();
  else {
    const { Http2ServerResponse } = process.getBuiltinModule('node:http2');
    if (!(res instanceof Http2ServerResponse)) {
      wrap(res as unknown as Wrappable); // each object of an unknown kind
      return false;
    }
    wrap(Http2ServerResponse.prototype as unknown as Wrappable);
    http2 = true;
  }
  known = proto;
  knownHttp2 = http2;
  return http2;
}

/**
 * Calls `done` once, when the response has finished or its connection closed (Node emits `close` in both cases), with
 * the status and the number of body bytes written (as handed to Node, so after any compression middleware; 0 for
 * `HEAD`, 204 and 304, whose bodies Node drops). Several calls for one response share one counter. A response closed already when
 * tracking starts (its client left while the decision was pending) is reported on the next turn of the event loop,
 * with what it sent. A pipelined response whose connection closed before its turn came is never reported: it sent
 * nothing, and Node emits nothing for it.
 *
 * @param res - the Node response
 * @param done - called once with the status and body bytes
 * @param method - the request's method, when the caller has it at hand (otherwise read from `res.req` at the end)
 */
export function onResponseDone(res: NodeResponse, done: (info: CompletionInfo) => void, method?: string): void {
  // Read once here: on Koa, Object.getPrototypeOf of a response is a runtime call (~100 instructions), and report()
  // needs the answer again.
  const proto = Object.getPrototypeOf(res) as object | null;
  const http2 = prepare(res, proto);
  const existing = trackers.get(res);
  if (existing) return void (existing.more ??= []).push(done); // a second keyward mount on the same request
  const plain = proto === ServerResponse.prototype;
  // A response whose connection is gone already (the client left while an asynchronous decision was pending, or
  // something else answered meanwhile) gets no further `close`: it is reported on the next turn of the event loop, so
  // the middleware that runs right after the mount still finds the decision. What is written to it from now on is
  // sent nowhere, so it is not counted.
  const closed = http2 ? (res as Http2ServerResponse).stream.closed : (plain ? res.closed : closedOf(res as ServerResponse)) === true;
  trackers.set(res, { bytes: 0, head: method === undefined ? undefined : method === 'HEAD', plain, done, more: undefined, ended: closed });
  if (closed) {
    setImmediate(() => {
      const t = trackers.get(res);
      if (t) report(res, t);
    });
    return;
  }
  // Node emits no `close` on an HTTP/2 response whose HEAD request was cancelled before `end()`; its stream still
  // closes. One listener per tracked HTTP/2 response reports it then (a no-op when the response already reported).
  if (http2) {
    (res as Http2ServerResponse).stream.once('close', () => {
      const t = trackers.get(res);
      if (t) report(res, t);
    });
  }
}
