import { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { AuthRequest, DenyDecision, Requirements, ResponseHeaders } from '../model';
import type { KeywardOptions } from '../config/options';
import type { Endpoint, EndpointResponse } from '../endpoints/endpoint';
import { MAX_ENDPOINT_BODY } from '../endpoints/endpoint';
import { createKeyward, isKeyward, type Keyward } from '../keyward';
import { compileScopes, type CompiledScopes } from '../scopes/match';
import { prepareResponseTracking } from './response-done';
import { DECODED_CODINGS, decodeContent } from './content-coding';
import { OPTIONS } from '../config/config';
import { fieldsOf, refuseUnknownFields } from '../config/fields';

/**
 * What every adapter's middleware takes (`apiKeyAuth(options)` in Express and Koa): keyward's own options, or an
 * existing instance in `keyward`, plus the requirements of this mount.
 */
export interface MountOptions extends KeywardOptions {
  /** Use this instance instead of creating one (then no other keyward option may be given). */
  keyward?: Keyward;
  /** Scopes every request through this mount needs (array: all of them; string: one scope or an expression). */
  scopes?: string | readonly string[];
  /** Weighted cost of each request for rate limits (default 1). */
  cost?: number;
}

/** Every option an adapter's middleware takes: keyward's own, and the mount's. */
const MOUNT_OPTIONS: readonly string[] = Object.freeze([...OPTIONS, ...fieldsOf<Omit<MountOptions, keyof KeywardOptions>>({ keyward: true, scopes: true, cost: true })]);

/** A mount resolved once, at start-up: the instance, and the requirements to pass to `check()` on every request. */
export interface Mount {
  readonly keyward: Keyward;
  readonly requirements: CompiledRequirements;
}

/** {@link Requirements} checked at start-up: the scopes compiled. */
export interface CompiledRequirements extends Requirements {
  readonly scopes?: CompiledScopes;
}

/**
 * Checks a route's requirements once, at start-up: scopes compiled, cost a non-negative finite number.
 *
 * @throws TypeError naming the option (`scopes` or `cost`)
 */
export function compileRequirements(input: { scopes?: string | readonly string[] | CompiledScopes; cost?: number }): CompiledRequirements {
  const { scopes, cost } = input;
  if (cost !== undefined && (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0)) throw new TypeError('keyward: option "cost" must be a non-negative number');
  let compiled: CompiledScopes | undefined;
  try {
    compiled = scopes === undefined ? undefined : compileScopes(scopes);
  } catch (error) {
    // The scope parser's message points at the mistake; the option it came from is named too, as for every option.
    throw error instanceof TypeError ? new TypeError(`keyward: option "scopes": ${error.message.replace(/^keyward: /, '')}`) : error;
  }
  return { ...(compiled !== undefined ? { scopes: compiled } : {}), ...(cost !== undefined ? { cost } : {}) };
}

/**
 * Compiles the arguments of a `requireScopes(...)` / `@Scopes(...)` call: scope names (all required), one
 * expression, or compiled requirements.
 *
 * @throws TypeError for an invalid scope or expression
 */
export function compileScopeArgs(args: readonly (string | CompiledScopes)[]): CompiledScopes {
  if (args.length === 1 && typeof args[0] !== 'string') return compileScopes(args[0]!);
  return compileScopes(args.map((s) => (typeof s === 'string' ? s : s.source)));
}

/**
 * Resolves an adapter's argument: an instance, or {@link MountOptions}. Options are never mutated.
 *
 * @throws TypeError naming the option for every misconfiguration
 */
export function resolveMount(arg?: MountOptions | Keyward): Mount {
  prepareResponseTracking(); // before any request, so a middleware that keeps res.write/res.end keeps the counting ones
  if (isKeyward(arg)) return { keyward: arg, requirements: {} };
  if (arg !== undefined && (typeof arg !== 'object' || arg === null)) throw new TypeError('keyward: options must be an object or an instance from createKeyward()');
  // Checked here with the mount's own options, so `scope` is named as a slip for `scopes`, not for `store`.
  if (arg !== undefined) refuseUnknownFields(arg, MOUNT_OPTIONS);
  const { keyward, scopes, cost, ...options } = arg ?? {};
  if (keyward !== undefined && !isKeyward(keyward)) throw new TypeError('keyward: option "keyward" must be an instance from createKeyward()');
  if (keyward && Object.keys(options).length > 0) throw new TypeError(`keyward: option "keyward" cannot be combined with other keyward options (${Object.keys(options).join(', ')})`);
  const requirements = compileRequirements({ ...(scopes !== undefined ? { scopes } : {}), ...(cost !== undefined ? { cost } : {}) });
  return { keyward: keyward ?? createKeyward(options), requirements };
}

/**
 * The headers of an HTTP/2 request (Node's compatibility API): every value of a repeated header kept, the cookie
 * crumbs a client may send one per field joined with "; " (RFC 9113 §8.2.3), and the pseudo-headers (`:path`,
 * `:authority`, …) left out, since method and URL are read on their own and `:path` may carry a credential.
 */
function http2Headers(rawHeaders: readonly string[]): Record<string, string | readonly string[] | undefined> {
  const headers: Record<string, string | string[]> = Object.create(null); // a field named `__proto__` is a field
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name.startsWith(':')) continue;
    const value = rawHeaders[i + 1]!;
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else if (name === 'cookie') headers[name] = `${seen as string}; ${value}`;
    else if (typeof seen === 'string') headers[name] = [seen, value];
    else seen.push(value);
  }
  return headers;
}

/**
 * `req.headers` as the app sees it (HTTP/2 pseudo-headers left out), with every value of a field the client repeated
 * (`distinct`, read from the raw headers), where Node joined or dropped them. The fields come from `req.headers`, not from the raw headers: a field a
 * middleware before keyward added there is read, one it deleted stays gone, and one it replaced keeps the new value.
 */
function withRepeats(seen: Record<string, string | readonly string[] | undefined>, distinct: Record<string, string | readonly string[] | undefined>): Record<string, string | readonly string[] | undefined> {
  const headers: Record<string, string | readonly string[] | undefined> = Object.create(null); // a field named `__proto__` is a field
  for (const name in seen) {
    if (name.charCodeAt(0) === 58 /* : */) continue; // an HTTP/2 pseudo-header
    const value = seen[name];
    const all = distinct[name];
    // Node's own value for a repeated field: the first (Authorization, Host, …), or all joined.
    headers[name] = all !== undefined && typeof all !== 'string' && all.length > 1 && typeof value === 'string' && (value === all[0] || value === all.join(', ') || value === all.join('; ')) ? all : value;
  }
  return headers;
}

/**
 * Reads a Node request into an {@link AuthRequest}: an HTTP/1 `IncomingMessage`, or an HTTP/2 `Http2ServerRequest`
 * (Koa or Fastify on `node:http2`). Express and Koa both use it, so neither translates requests on its own. Repeated
 * headers stay arrays (`headersDistinct`) so repeated credentials can be refused.
 *
 * @param req - the Node request
 * @param url - the original URL when the framework rewrote `req.url` (Express `originalUrl`, Koa `originalUrl`)
 */
export function toAuthRequest(req: IncomingMessage | Http2ServerRequest, url: string = req.url ?? '/'): AuthRequest {
  const q = url.indexOf('?');
  // Express gives each request a hidden class of its own (it swaps in its app's prototype), so a plain `req.method`
  // misses every V8 cache there and costs a runtime call (~2,000 instructions); `Reflect.get` looks the property up
  // directly (~250). A request with Node's own prototype (Koa, plain Node) keeps plain reads, which are one load.
  const plain = Object.getPrototypeOf(req) === IncomingMessage.prototype;
  let headers: Record<string, string | readonly string[] | undefined>;
  // An HTTP/2 request of Node's compatibility API (an HTTP/1 request line may claim "HTTP/2.0": it stays HTTP/1 here).
  // `instanceof` first, so an HTTP/1 request is recognised without reading one of its properties.
  if (!(req instanceof IncomingMessage) && req.httpVersionMajor === 2) headers = withRepeats(req.headers, http2Headers(req.rawHeaders));
  else {
    // Fast path: when no header name repeats, Node's own (lazily built, cached) `req.headers` is exact and is used as
    // is. Otherwise every value of a repeated header is kept (Node would join or drop them) so the core can refuse
    // repeated credentials.
    headers = plain ? req.headers : (Reflect.get(req, 'headers') as IncomingMessage['headers']);
    let names = 0;
    for (const _ in headers) names++; // counted without Object.keys' array
    if ((plain ? req.rawHeaders : (Reflect.get(req, 'rawHeaders') as string[])).length !== 2 * names) headers = withRepeats(headers, (req as IncomingMessage).headersDistinct);
  }
  const method = plain ? req.method : (Reflect.get(req, 'method') as string | undefined);
  const socket = plain ? req.socket : (Reflect.get(req, 'socket') as IncomingMessage['socket'] | undefined);
  const remoteAddress = socket?.remoteAddress;
  // A socket closed before anyone asked for its peer has forgotten it: the client closed its connection while an async
  // middleware ran, and its address is unknown. Said so, for the core to refuse it (see AuthRequest.closed).
  if (remoteAddress === undefined && socket?.destroyed === true) {
    return { method: (method ?? 'GET').toUpperCase(), path: q === -1 ? url : url.slice(0, q), query: q === -1 ? '' : url.slice(q + 1), headers, remoteAddress, closed: true };
  }
  return {
    method: (method ?? 'GET').toUpperCase(),
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    remoteAddress, // no spread: this object is built on every request
  };
}

type SetHeader = (this: ServerResponse | Http2ServerResponse, name: string, value: string | number | readonly string[]) => unknown;

/**
 * Sets each header on a Node response (HTTP/1 or HTTP/2). On a response answered already (by a timeout middleware,
 * say, while the decision was pending) there is nothing left to set: it is left alone, as Koa's `ctx.set` leaves it.
 */
export function setHeaders(res: ServerResponse | Http2ServerResponse, headers: ResponseHeaders): void {
  let set: SetHeader | undefined;
  for (const name in headers) {
    // Read as toAuthRequest reads a request: through Reflect.get unless the response has Node's own prototype.
    set ??= Object.getPrototypeOf(res) === ServerResponse.prototype ? (res.setHeader as SetHeader) : (Reflect.get(res, 'setHeader') as SetHeader);
    try {
      set.call(res, name, headers[name]!);
    } catch (error) {
      // Caught rather than checked first: reading `headersSent` on every request costs (see toAuthRequest), a try nothing.
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_HTTP_HEADERS_SENT' || code === 'ERR_HTTP2_HEADERS_SENT') return;
      throw error;
    }
  }
}

/** The JSON body of a denial, as sent. */
export function denialBody(denial: DenyDecision): string {
  return JSON.stringify(denial.problem);
}

/**
 * Writes a denial to a Node response: status, headers and the `application/problem+json` body. Used by adapters
 * that write responses themselves; Koa and Nest set the same three things through their own APIs. A response whose
 * headers were sent already is only ended.
 */
export function writeDenial(res: ServerResponse, denial: DenyDecision): void {
  // Answered already (by a timeout middleware, say, while the decision was pending): that answer stands, as Koa and
  // Nest's filter leave it; setting a status or a header now would throw.
  if (res.headersSent) return void (res.writableEnded ? undefined : res.end());
  const body = denialBody(denial);
  res.statusCode = denial.status;
  setHeaders(res, denial.headers);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Reads a Node request body up to `limit` bytes. Resolves `undefined` as soon as the body is known to be larger (by
 * `Content-Length` or while reading; answer 413, Node discards the rest) and an empty buffer when there is none.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      resolve(undefined);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** Writes an endpoint's response to a Node response (one answered already, meanwhile, is only ended). */
export function writeEndpointResponse(res: ServerResponse, response: EndpointResponse): void {
  if (res.headersSent) return void (res.writableEnded ? undefined : res.end()); // answered meanwhile: see writeDenial
  res.statusCode = response.status;
  setHeaders(res, response.headers);
  res.setHeader('Content-Length', Buffer.byteLength(response.body));
  res.end(response.body);
}

const TOO_LARGE: EndpointResponse = { status: 413, headers: { 'Content-Type': 'application/problem+json' }, body: JSON.stringify({ type: 'about:blank', title: 'Payload Too Large', status: 413 }) };
const UNSUPPORTED_CODING: EndpointResponse = { status: 415, headers: { 'Content-Type': 'application/problem+json', 'Accept-Encoding': DECODED_CODINGS }, body: JSON.stringify({ type: 'about:blank', title: 'Unsupported Media Type', status: 415 }) };
const UNDECODABLE: EndpointResponse = { status: 400, headers: { 'Content-Type': 'application/problem+json' }, body: JSON.stringify({ type: 'about:blank', title: 'Bad Request', status: 400 }) };

/**
 * Appends a parsed form field under the name it was sent with. A repeated name (`a=1&a=2`) parses to an array; an
 * extended parser (qs: Express 4's default, Nest's, Koa's) also parses brackets, `a[]=1` to an array (of one, which a
 * repeat never gives) and `a[b]=1` to an object: they go back into brackets, so the endpoint sees `a[]` or `a[b]` as
 * it would in the raw body, not a parameter `a` the client never sent.
 */
function appendParsed(form: URLSearchParams, name: string, value: unknown): void {
  if (Array.isArray(value)) {
    if (value.length === 1) appendParsed(form, `${name}[]`, value[0]);
    else for (const item of value) appendParsed(form, name, item);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) appendParsed(form, `${name}[${k}]`, v);
  } else form.append(name, String(value));
}

/** Re-encodes a body the framework already parsed: JSON for a JSON request, a form otherwise. */
function encodeParsed(req: IncomingMessage, parsed: unknown): string | undefined {
  if (!parsed || typeof parsed !== 'object') return undefined;
  if (/\bjson\b/i.test(req.headers['content-type'] ?? '')) return JSON.stringify(parsed);
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(parsed)) appendParsed(form, k, v);
  return form.toString();
}

/**
 * Whether a body a parser read before the endpoint is over {@link MAX_ENDPOINT_BODY}, measured as the endpoint
 * measures one it reads: by the request's `Content-Length`, else (a chunked request) by the body's own size; a
 * compressed body (which the parser inflated) by its decoded size too.
 */
function parsedTooLarge(req: IncomingMessage, body: Buffer | string): boolean {
  const declared = req.headers['content-length'];
  if (declared !== undefined && declared !== '' && Number(declared) > MAX_ENDPOINT_BODY) return true;
  const coded = req.headers['content-encoding'] !== undefined && req.headers['content-encoding'].trim().toLowerCase() !== 'identity';
  return (coded || declared === undefined || declared === '') && Buffer.byteLength(body) > MAX_ENDPOINT_BODY;
}

/**
 * Runs a core endpoint for a Node request and returns its answer without writing it (Koa sets it through `ctx`).
 * The body is read from the request when nobody has read it yet (at most {@link MAX_ENDPOINT_BODY} bytes, else 413).
 * When a body parser already consumed it, `parsedBody` is used: a raw body (string or Buffer, e.g. Nest's
 * `rawBody`) as it is, a parsed object re-encoded as JSON for a JSON request and as a form otherwise; it is held to
 * the same bound (413), so a parser's larger limit (Express's and Nest's are 100 KB) does not widen the endpoint's.
 */
export async function endpointResponse(endpoint: Endpoint, req: IncomingMessage, url: string = req.url ?? '/', parsedBody?: unknown): Promise<EndpointResponse> {
  let body: Buffer | string | undefined;
  if (typeof parsedBody === 'string' || Buffer.isBuffer(parsedBody)) body = parsedBody;
  else if (req.readable && !req.readableEnded) {
    const sent = await readBody(req, MAX_ENDPOINT_BODY);
    if (sent === undefined) return TOO_LARGE;
    // Decoded as a body parser decodes it (gzip, deflate, br), so the endpoint reads a form, not its compressed bytes.
    const decoded = await decodeContent(sent, req.headers['content-encoding'], MAX_ENDPOINT_BODY);
    if (decoded === 'too-large') return TOO_LARGE;
    if (decoded === 'unsupported') return UNSUPPORTED_CODING;
    if (decoded === 'invalid') return UNDECODABLE;
    body = decoded;
  } else body = encodeParsed(req, parsedBody);
  if (body !== undefined && parsedBody !== undefined && parsedTooLarge(req, body)) return TOO_LARGE;
  return endpoint({ ...toAuthRequest(req, url), ...(body !== undefined ? { body } : {}) });
}

/** Runs a core endpoint for a Node request and writes its answer (Express, Nest): see {@link endpointResponse}. */
export async function serveEndpoint(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, url: string = req.url ?? '/', parsedBody?: unknown): Promise<void> {
  writeEndpointResponse(res, await endpointResponse(endpoint, req, url, parsedBody));
}
