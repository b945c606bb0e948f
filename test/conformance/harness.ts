/**
 * The conformance harness: one description of an app (routes with their requirements), started on every adapter
 * as a real HTTP server. Scenario files run `describe.each(ADAPTERS)` and assert the same status, headers and body
 * for each framework. A new adapter is done when every scenario passes for it.
 */
import type { Server } from 'node:http';
import type { Http2SecureServer, Http2Server, Http2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Endpoint, Keyward } from '@keyward/core';

/** One route of the test app. Its handler answers `{ ok: true, principal }` or `size` bytes when `?size=N`. */
export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';
  readonly path: string;
  /** Scopes (array: all; string: one scope or an expression). */
  readonly scopes?: string | readonly string[];
  /** Weighted cost for rate limits. */
  readonly cost?: number;
  /** The handler throws (`new Error('boom')`) instead of answering, for the framework's error handling. */
  readonly fails?: boolean;
}

/**
 * A core endpoint mounted at a path (token endpoint, JWKS, metrics), for one method or, with `ALL`, for every method
 * (`app.all`, `router.all`, `RequestMethod.ALL`), so the endpoint answers the others itself (405 with `Allow`).
 */
export interface EndpointSpec {
  readonly method: 'GET' | 'POST' | 'ALL';
  readonly path: string;
  readonly handler: Endpoint;
}

/** What an app under test is built from. */
export interface AppSpec {
  readonly keyward: Keyward;
  readonly routes: readonly RouteSpec[];
  readonly endpoints?: readonly EndpointSpec[];
  /**
   * Install the application's own catch-all error handling, as users do: Express error middleware, a Koa
   * middleware catching what `next()` throws, a Nest `@Catch()` filter provided as `APP_FILTER`. Each answers 500
   * `{"error":"mine"}`.
   */
  readonly userErrorHandler?: boolean;
}

/** A running app. */
export interface RunningApp {
  readonly server: Server | Http2Server | Http2SecureServer;
  readonly url: string;
  close(): Promise<void>;
}

/** One framework adapter under test. */
export interface AdapterUnderTest {
  readonly name: string;
  start(spec: AppSpec): Promise<RunningApp>;
}

/** The routes most scenarios use. Public paths and preflight handling come from the keyward options. */
export const DEFAULT_ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/open' },
  { method: 'GET', path: '/docs', scopes: ['docs:read'] },
  { method: 'POST', path: '/docs', scopes: ['docs:write'] },
  { method: 'GET', path: '/both', scopes: '(docs:read OR docs:write) AND users:view' },
  { method: 'GET', path: '/heavy', cost: 5 },
  { method: 'OPTIONS', path: '/docs' },
];

/** The body every route answers: the principal's visible fields, or `size` filler bytes. */
export function routeBody(principal: { id?: string; owner?: string; scopes?: readonly string[]; type?: string } | undefined, query: URLSearchParams): string {
  const size = Number(query.get('size') ?? '');
  if (Number.isInteger(size) && size > 0) return 'x'.repeat(Math.min(size, 10_000_000));
  return JSON.stringify({ ok: true, principal: principal ? { id: principal.id, owner: principal.owner, type: principal.type, scopes: principal.scopes } : null });
}

/**
 * Asserts the answer to a request without a credential, the same on every adapter and protocol: 401
 * `application/problem+json`, a bare challenge, `no-store`, and the problem body.
 */
export function expectMissingCredential(res: { status: number; headers: Record<string, unknown>; body: unknown }): void {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.headers['www-authenticate']).toBe('Bearer realm="keyward"');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body).toEqual({ type: 'urn:keyward:problem:credentials-missing', title: 'Credentials missing', status: 401, detail: 'No credentials were sent.', code: 'CREDENTIALS_MISSING' });
}

/**
 * The response headers keyward sets, or must leave out, on an answer: its own on a denial and on the token and JWKS
 * endpoints, and those it adds to an allowed request's response. {@link answerOf} picks these, so an assertion on its
 * result compares every one of them, a header an adapter adds or drops included.
 */
export const ANSWER_HEADERS: readonly string[] = [
  'content-type', 'cache-control', 'pragma', 'www-authenticate', 'retry-after', 'ratelimit-policy', 'ratelimit',
  'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'deprecation', 'sunset', 'link', 'allow',
];

/** An answer as scenarios compare it across adapters: its status, the {@link ANSWER_HEADERS} it has, and its body. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed when the answer is JSON (`application/json`, `application/problem+json`, …), else the text. */
  readonly body: unknown;
}

/**
 * The {@link Answer} of a supertest response, for `expect(answerOf(res)).toEqual({ status, headers, body })`: status,
 * headers and body asserted in one go, the same expectation on every adapter.
 */
export function answerOf(res: { status: number; headers: Record<string, unknown>; text?: string }): Answer {
  const headers: Record<string, string> = {};
  for (const h of ANSWER_HEADERS) if (res.headers[h] !== undefined) headers[h] = String(res.headers[h]);
  const json = /[/+]json\b/.test(headers['content-type'] ?? '');
  const text = res.text ?? '';
  return { status: res.status, headers, body: json && text !== '' ? JSON.parse(text) : text };
}

/** Listens on an ephemeral loopback port; `dropConnections` ends what is still open when the app is closed. */
function listenOn(server: Server | Http2Server | Http2SecureServer, dropConnections: () => void, scheme = 'http'): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `${scheme}://127.0.0.1:${port}`,
        close: () => new Promise<void>((r) => { dropConnections(); server.close(() => r()); }),
      });
    });
  });
}

/** Listens on an ephemeral loopback port with an HTTP/1 server. */
export function listen(server: Server): Promise<RunningApp> {
  return listenOn(server, () => server.closeAllConnections?.());
}

/**
 * Listens on an ephemeral loopback port with an HTTP/2 server: without TLS (h2c, prior knowledge; `http://` URL) or
 * with it (`https://`; with `allowHTTP1` it also answers HTTP/1.1). Closing it ends every connection still open.
 */
export function listenHttp2(server: Http2Server | Http2SecureServer): Promise<RunningApp> {
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const secure = server instanceof TlsServer;
  server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket); // HTTP/1.1 connections of `allowHTTP1` have no session
    socket.once('close', () => sockets.delete(socket));
  });
  return listenOn(server, () => {
    for (const s of sessions) s.destroy();
    for (const s of sockets) s.destroy();
  }, secure ? 'https' : 'http');
}

import { express4Adapter, expressAdapter } from './adapters/express';
import { koaAdapter } from './adapters/koa';
import { nestAdapter } from './adapters/nest';
import { nestFastifyAdapter } from './adapters/nest-fastify';

/** Every adapter the scenarios run against. */
export const ADAPTERS: readonly AdapterUnderTest[] = [expressAdapter, express4Adapter, koaAdapter, nestAdapter, nestFastifyAdapter];
