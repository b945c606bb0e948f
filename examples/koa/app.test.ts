import request from 'supertest';
import { createKeyward } from '@keyward/core';
const { createApp } = require('./app');

describe('examples/koa', () => {
  it('serves the example routes with the scopes they need', async () => {
    const keyward = createKeyward({ publicPaths: ['/health'] });
    const { app } = createApp({ keyward });
    const server = app.callback();
    const { key, record } = await keyward.keys.create({ owner: 'demo', scopes: ['docs:read'] });
    expect((await request(server).get('/health')).body).toEqual({ ok: true });
    const docs = await request(server).get('/v1/docs').set('X-API-Key', key);
    expect(docs.body.caller).toBe(record.id);
    expect((await request(server).get('/v1/docs')).status).toBe(401);
    expect((await request(server).post('/v1/docs').set('X-API-Key', key)).status).toBe(403);
    expect((await request(server).get('/v1/users').set('X-API-Key', key)).status).toBe(403);
    await keyward.close();
  });
});
