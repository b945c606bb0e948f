import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { createKeyward } from '@keyward/core';
import { appModule } from './app.module';

describe('examples/nest', () => {
  it('serves the example routes with the scopes they need', async () => {
    const keyward = createKeyward();
    const app = await NestFactory.create(appModule(keyward), { logger: false });
    await app.init();
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
