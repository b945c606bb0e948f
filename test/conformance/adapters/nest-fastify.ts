import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import { listenHttp2, type AdapterUnderTest } from '../harness';
import { nestAdapterOn } from './nest';

/**
 * The conformance app on NestJS 11's Fastify platform (`@nestjs/platform-fastify`), built like the Express one
 * (`nestAdapterOn`): the same module, controller, guard and `endpoint()` middleware (run by @fastify/middie).
 * `adapter` makes the platform (HTTP/1 by default, HTTP/2 with its options); `http2` listens with `listenHttp2`.
 */
function nestOnFastify(name: string, adapter: () => FastifyAdapter, http2 = false): AdapterUnderTest {
  return nestAdapterOn<FastifyReply>({
    name,
    async create(module) {
      const app = await NestFactory.create<NestFastifyApplication>(module, adapter(), { logger: false, rawBody: true });
      await app.init();
      await app.getHttpAdapter().getInstance().ready(); // Fastify answers requests once ready (`listen()` would wait for it)
      return app;
    },
    // The Content-Type Express's `res.type()` gives (Fastify's `type()` keeps what it is given).
    reply: (r, answer) => void (answer ? r.type(`${answer.type}; charset=utf-8`).send(answer.body) : r.code(204).send()),
    fail: (r, status, body) => void r.code(status).send(body),
    ...(http2 ? { listen: (server: Http2Server | Http2SecureServer) => listenHttp2(server) } : {}),
  });
}

/** On Fastify's HTTP/1 server. */
export const nestFastifyAdapter = nestOnFastify('nest-fastify', () => new FastifyAdapter());

/** On Fastify's HTTP/2 server without TLS (`new FastifyAdapter({ http2: true })`, h2c). */
export const nestFastifyHttp2Adapter = nestOnFastify('nest-fastify on HTTP/2', () => new FastifyAdapter({ http2: true }), true);

/**
 * On Fastify's HTTP/2 server with TLS and `allowHTTP1` (`new FastifyAdapter({ http2: true, https })`), answering
 * HTTP/2 and HTTP/1.1 clients alike (`tls`: a certificate and its key in PEM).
 */
export function nestFastifyHttp2TlsAdapter(tls: { key: string; cert: string }): AdapterUnderTest {
  return nestOnFastify('nest-fastify on HTTP/2 with TLS', () => new FastifyAdapter({ http2: true, https: { ...tls, allowHTTP1: true } }), true);
}
