import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthRequest, CompletionInfo, DenyDecision, ResponseHeaders } from '../model';

/**
 * Reads a Node `IncomingMessage` into an {@link AuthRequest}. Express and Koa both use it, so neither translates
 * requests on its own. Repeated headers stay arrays (`headersDistinct`) so repeated credentials can be refused.
 *
 * @param req - the Node request
 * @param url - the original URL when the framework rewrote `req.url` (Express `originalUrl`, Koa `originalUrl`)
 */
export function toAuthRequest(req: IncomingMessage, url: string = req.url ?? '/'): AuthRequest {
  const q = url.indexOf('?');
  const headers: Record<string, string | readonly string[] | undefined> = {};
  const distinct = req.headersDistinct;
  for (const name in distinct) {
    const v = distinct[name]!;
    headers[name] = v.length === 1 ? v[0] : v;
  }
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    ...(req.socket?.remoteAddress !== undefined ? { remoteAddress: req.socket.remoteAddress } : {}),
  };
}

/** Sets each header on a Node response. */
export function setHeaders(res: ServerResponse, headers: ResponseHeaders): void {
  for (const name in headers) res.setHeader(name, headers[name]!);
}

/** The JSON body of a denial, as sent. */
export function denialBody(denial: DenyDecision): string {
  return JSON.stringify(denial.problem);
}

/**
 * Writes a denial to a Node response: status, headers and the `application/problem+json` body. Used by adapters
 * that write responses themselves; Koa and Nest set the same three things through their own APIs.
 */
export function writeDenial(res: ServerResponse, denial: DenyDecision): void {
  const body = denialBody(denial);
  res.statusCode = denial.status;
  setHeaders(res, denial.headers);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * Calls `done` once, when the response has finished or the connection closed, with the status and the number of
 * body bytes written.
 */
export function onResponseDone(res: ServerResponse, done: (info: CompletionInfo) => void): void {
  let bytes = 0;
  const count = (chunk: unknown, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    count(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    res.removeListener('finish', finish);
    res.removeListener('close', finish);
    done({ status: res.statusCode, bytes: res.req?.method === 'HEAD' ? 0 : bytes });
  };
  res.on('finish', finish);
  res.on('close', finish);
}

/**
 * Reads a Node request body up to `limit` bytes. Resolves `undefined` when the body is larger (answer 413) and an
 * empty buffer when there is none.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else if (!over) chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Writes an endpoint's response to a Node response. */
export function writeEndpointResponse(res: ServerResponse, response: { status: number; headers: ResponseHeaders; body: string | Buffer }): void {
  res.statusCode = response.status;
  setHeaders(res, response.headers);
  res.setHeader('Content-Length', Buffer.byteLength(response.body));
  res.end(response.body);
}

/**
 * Runs a core endpoint for a Node request: reads the body (unless the framework already parsed it, in which case
 * `parsedBody` is re-encoded: strings and Buffers as they are, objects as a form), calls it, writes the answer.
 */
export async function serveEndpoint(
  endpoint: (r: import('../endpoints/endpoint').EndpointRequest) => Promise<import('../endpoints/endpoint').EndpointResponse>,
  req: IncomingMessage,
  res: ServerResponse,
  url: string = req.url ?? '/',
  parsedBody?: unknown,
): Promise<void> {
  let body: Buffer | string | undefined;
  if (typeof parsedBody === 'string' || Buffer.isBuffer(parsedBody)) body = parsedBody;
  else if (parsedBody && typeof parsedBody === 'object' && Object.keys(parsedBody).length > 0) body = new URLSearchParams(parsedBody as Record<string, string>).toString();
  else if (req.readable && !req.readableEnded) {
    body = await readBody(req, 64 * 1024);
    if (body === undefined) {
      writeEndpointResponse(res, { status: 413, headers: { 'Content-Type': 'application/problem+json' }, body: JSON.stringify({ type: 'about:blank', title: 'Payload Too Large', status: 413 }) });
      return;
    }
  }
  const response = await endpoint({ ...toAuthRequest(req, url), ...(body !== undefined ? { body } : {}) });
  writeEndpointResponse(res, response);
}
