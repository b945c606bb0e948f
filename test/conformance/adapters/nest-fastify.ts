import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import type { Http2Server } from 'node:http2';
import { listenHttp2 } from '../harness';
import { nestAdapterOn } from './nest';

/** The Content-Type Express's `res.type()` gives (Fastify's `type()` keeps what it is given). */
const reply = (r: FastifyReply, answer?: { type: string; body: string }) => void (answer ? r.type(`${answer.type}; charset=utf-8`).send(answer.body) : r.code(204).send());

/**
 * The conformance app on NestJS 11's Fastify platform (`@nestjs/platform-fastify`), built like the Express one
 * (`nestAdapterOn`): the same module, controller, guard and `endpoint()` middleware (run by @fastify/middie).
 */
export const nestFastifyAdapter = nestAdapterOn<FastifyReply>({
  name: 'nest-fastify',
  async create(module) {
    const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger: false, rawBody: true });
    await app.init();
    await app.getHttpAdapter().getInstance().ready(); // Fastify answers requests once ready (`listen()` would wait for it)
    return app;
  },
  reply,
});

/** The same app on Fastify's HTTP/2 server without TLS (`new FastifyAdapter({ http2: true })`, h2c). */
export const nestFastifyHttp2Adapter = nestAdapterOn<FastifyReply>({
  name: 'nest-fastify on HTTP/2',
  async create(module) {
    const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter({ http2: true }), { logger: false, rawBody: true });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  },
  reply,
  listen: (server: Http2Server) => listenHttp2(server),
});
