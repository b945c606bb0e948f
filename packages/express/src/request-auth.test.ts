import express from 'express';
import express4 from 'express4';
import { IncomingMessage } from 'node:http';
import request from 'supertest';
import { createKeyward, type Principal } from '@keyward/core';
import { apiKeyAuth } from './index';

/**
 * `req.auth` is an accessor on Express's request prototype (see `setRequestAuth`), not a new own property of each
 * request: it must behave as the property did wherever an app reads or writes it.
 */
const MAJORS: ReadonlyArray<readonly [string, typeof express]> = [['express 5', express], ['express 4', express4]];

describe.each(MAJORS)('req.auth on %s', (_major, createApp) => {
  async function setup() {
    const kw = createKeyward({ publicPaths: ['/health'] });
    const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    return { kw, key, record };
  }

  it('reads the principal in handlers, after the response, and is no own property of the request', async () => {
    const { kw, key, record } = await setup();
    const app = createApp();
    app.use(apiKeyAuth(kw));
    let afterFinish: Promise<string | undefined> | undefined;
    app.get('/docs', (req, res) => {
      afterFinish = new Promise((resolve) => res.on('finish', () => resolve(req.auth?.id)));
      res.json({ id: req.auth?.id, own: Object.prototype.hasOwnProperty.call(req, 'auth'), inReq: 'auth' in req });
    });
    const res = await request(app).get('/docs').set('X-API-Key', key);
    expect(res.body).toEqual({ id: record.id, own: false, inReq: true });
    expect(await afterFinish).toBe(record.id);
    await kw.close();
  });

  it('leaves req.auth undefined on a public path, and lets the app assign it like a property', async () => {
    const { kw } = await setup();
    const app = createApp();
    app.use(apiKeyAuth(kw));
    const stand: Principal = { id: 'stand-in', type: 'key', owner: 'o', scopes: [], metadata: {} } as unknown as Principal;
    app.get('/health', (req, res) => {
      const before = req.auth;
      req.auth = stand;
      res.json({ before: before ?? null, after: req.auth?.id });
    });
    const res = await request(app).get('/health');
    expect(res.body).toEqual({ before: null, after: 'stand-in' });
    await kw.close();
  });

  it('keeps each request its own principal, with concurrent requests of two keys', async () => {
    const { kw, key, record } = await setup();
    const other = await kw.keys.create({ owner: 'globex', scopes: ['docs:read'] });
    const app = createApp();
    app.use(apiKeyAuth(kw));
    app.get('/docs', (req, res) => void setTimeout(() => res.json({ owner: req.auth?.owner, id: req.auth?.id }), 5));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(app).get('/docs').set('X-API-Key', i % 2 ? other.key : key)));
    answers.forEach((r, i) => expect(r.body).toEqual(i % 2 ? { owner: 'globex', id: other.record.id } : { owner: 'acme', id: record.id }));
    await kw.close();
  });

  it('is seen by the parent app after a sub-app that authenticated calls next()', async () => {
    const { kw, key, record } = await setup();
    const parent = createApp();
    const sub = createApp();
    sub.use(apiKeyAuth(kw));
    sub.get('/docs', (_req, _res, next) => next());
    parent.use('/v1', sub);
    parent.get('/v1/docs', (req, res) => { res.json({ id: req.auth?.id }); });
    const res = await request(parent).get('/v1/docs').set('X-API-Key', key);
    expect(res.body).toEqual({ id: record.id });
    await kw.close();
  });

  it('never touches Node\'s own IncomingMessage.prototype', async () => {
    const { kw, key } = await setup();
    const app = createApp();
    app.use(apiKeyAuth(kw));
    app.get('/docs', (_req, res) => { res.send('ok'); });
    await request(app).get('/docs').set('X-API-Key', key);
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'auth')).toBeUndefined();
    await kw.close();
  });
});

describe('req.auth before any request', () => {
  it('is an accessor on the adapter\'s Express once apiKeyAuth() is created, before the first request', () => {
    jest.isolateModules(() => {
      // Fresh copies of Express, keyward and the adapter: nothing has run on this Express's request prototype yet.
      /* eslint-disable @typescript-eslint/no-require-imports */
      const fresh = require('express') as typeof express;
      const adapter = require('./index') as typeof import('./index');
      const core = require('@keyward/core') as typeof import('@keyward/core');
      /* eslint-enable @typescript-eslint/no-require-imports */
      expect(Object.getOwnPropertyDescriptor(fresh.request, 'auth')).toBeUndefined();
      const kw = core.createKeyward();
      adapter.apiKeyAuth(kw);
      expect(typeof Object.getOwnPropertyDescriptor(fresh.request, 'auth')?.get).toBe('function');
      void kw.close();
    });
  });
});
