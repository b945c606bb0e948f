import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createKeyward } from '@keyward/core';
import { appModule } from './app.module';

describe.each(['express', 'fastify'] as const)('examples/nest on %s', (platform) => {
  it('serves the example routes with the scopes they need', async () => {
    const keyward = createKeyward();
    const app = platform === 'fastify' ? await NestFactory.create<NestFastifyApplication>(appModule(keyward), new FastifyAdapter(), { logger: false }) : await NestFactory.create(appModule(keyward), { logger: false });
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    const server = app.getHttpServer();
    const { key, record } = await keyward.keys.create({ owner: 'demo', scopes: ['docs:read'] });
    expect((await request(server).get('/health')).body).toEqual({ ok: true });
    expect((await request(server).get('/v1/docs').set('X-API-Key', key)).body.caller).toBe(record.id);
    const missing = await request(server).get('/v1/docs');
    expect(missing.status).toBe(401);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect((await request(server).post('/v1/docs').set('X-API-Key', key)).status).toBe(403);
    expect((await request(server).get('/v1/users').set('X-API-Key', key)).status).toBe(403);
    await app.close();
    await keyward.close();
  });
});
