/**
 * Requests when no one wants the request events: no listener but one on `auth.failed` (an alert), so the core
 * builds no `auth.succeeded`, and no response is tracked to its end. Every adapter must still admit, refuse and
 * check route scopes exactly as when everything is tracked (the path every other scenario takes, because the suite's
 * leak guard subscribes to the events channel, which makes every event wanted). Each test runs with the guard off the
 * channel; what the listener receives is handed to it.
 */
import request from 'supertest';
import { createKeyward, type Keyward, type KeywardEvent } from '@keyward/core';
import { withoutChannel } from '../setup/leak-guard';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from './harness';
import { onStores } from './stores';

describe.each(ADAPTERS)('conformance: untracked requests on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let key: string;
  let keyId: string;
  const failed: KeywardEvent[] = [];
  let capture: (e: unknown) => void = () => {};

  beforeAll(async () => {
    kw = createKeyward(onStores({ publicPaths: ['/health'] }));
    kw.on('auth.failed', (e) => { failed.push(e); capture(e); });
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read', 'users:view'] });
    key = created.key;
    keyId = created.record.id;
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  const untracked = (fn: () => Promise<void>) => () => withoutChannel(async (c) => {
    capture = c;
    await fn();
  });

  it('admits a valid key, with route scopes and expressions checked, several times on one connection', untracked(async () => {
    const agent = request.agent(app.url);
    for (let i = 0; i < 3; i++) {
      const res = await agent.get('/docs').set('X-API-Key', key);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, principal: { id: keyId, owner: 'acme', type: 'key', scopes: ['docs:read', 'users:view'] } });
    }
    expect((await agent.get('/both').set('X-API-Key', key)).status).toBe(200);
    const wrong = await agent.post('/docs').set('X-API-Key', key);
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
  }));

  it('refuses a missing key and tells the auth.failed listener', untracked(async () => {
    failed.length = 0;
    const res = await request(app.url).get('/docs');
    expect(res.status).toBe(401);
    await kw.flushEvents();
    expect(failed.map((e) => [e.type, e.reason, e.status])).toEqual([['auth.failed', 'CREDENTIALS_MISSING', 401]]);
  }));
});
