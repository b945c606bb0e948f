/**
 * `npm run start:nest`: runs the NestJS example on the in-memory store (Redis when REDIS_URL is set, PostgreSQL when
 * DATABASE_URL is set, as the other examples: see examples/distributed.js), creates a demo key with `docs:read`,
 * and prints it with a curl line. PORT (default 3000) and HOST (default 127.0.0.1) are read from the environment;
 * NEST_PLATFORM=fastify runs it on Nest's Fastify platform instead of Express (the same module, guard and decorators).
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { KEYWARD, type Keyward } from '@keyward/nest';
import { appModule } from './app.module';

interface Distributed {
  options: Record<string, unknown>;
  attach(kw: Keyward): void;
  close(): Promise<void>;
  describe: string;
}
const { distributedOptions } = require('../../distributed') as { distributedOptions(): Promise<Distributed> };

async function main(): Promise<void> {
  const distributed = await distributedOptions();
  const platform = process.env.NEST_PLATFORM || 'express';
  if (platform !== 'express' && platform !== 'fastify') throw new Error(`NEST_PLATFORM must be "express" or "fastify", not "${platform}"`);
  const module = appModule({ ...distributed.options });
  const options = { logger: ['error', 'warn'] as ('error' | 'warn')[] };
  const app = platform === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), options) : await NestFactory.create(module, options);
  app.enableShutdownHooks();
  const keyward = app.get<Keyward>(KEYWARD);
  distributed.attach(keyward);
  process.once('beforeExit', () => void distributed.close());
  const { key, record } = await keyward.keys.create({ owner: 'demo', name: 'demo key', scopes: ['docs:read'], env: 'test' });
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  await app.listen(port, host);
  const base = (await app.getUrl()).replace('[::1]', 'localhost');
  console.log(`keyward example (NestJS on ${platform === 'fastify' ? 'Fastify' : 'Express'}) listening on ${base} (${distributed.describe})`);
  console.log(`demo key (${record.id}, scopes: docs:read), shown once:\n  ${key}`);
  console.log(`try:\n  curl -i -H "X-API-Key: ${key}" ${base}/v1/docs`);
  console.log(`  curl -i ${base}/v1/docs                      # 401, no key`);
  console.log(`  curl -i -X POST -H "X-API-Key: ${key}" ${base}/v1/docs   # 403, needs docs:write`);
}

main().catch((err: unknown) => {
  console.error(`keyward example failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
