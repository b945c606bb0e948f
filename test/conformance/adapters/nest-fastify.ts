import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { nestAdapterOn } from './nest';

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
  // The Content-Type Express's `res.type()` gives (Fastify's `type()` keeps what it is given).
  reply: (reply, answer) => void (answer ? reply.type(`${answer.type}; charset=utf-8`).send(answer.body) : reply.code(204).send()),
});
