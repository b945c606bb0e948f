/**
 * The request path builds an event, and tracks a response for `request.completed`, only when someone wants that event
 * type. The suite's leak guard subscribes to the `keyward:events` channel, which makes every type wanted, so these
 * tests run with it off the channel and hand it what their listeners receive.
 */
import { withoutChannel } from '../../../../test/setup/leak-guard';
import { createKeyward } from '../keyward';
import type { AllowDecision, Decision } from '../model';
import type { KeywardEvent, KeywardEventType } from '../events/schema';

async function scenario(types: ReadonlyArray<KeywardEventType | '*'>, capture: (e: unknown) => void) {
  const kw = createKeyward();
  const seen: KeywardEvent[] = [];
  for (const t of types) kw.on(t, (e) => { seen.push(e); capture(e); });
  const { key } = await kw.keys.create({ owner: 'o', scopes: ['docs:read'] });
  const allowed = (await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } })) as AllowDecision;
  expect(allowed.ok).toBe(true);
  allowed.done({ status: 200, bytes: 5 });
  const refused: Decision = await kw.check({ method: 'GET', path: '/docs', headers: {} });
  expect(refused.ok).toBe(false);
  await kw.flushEvents();
  await kw.close();
  return { tracked: allowed.tracked, types: seen.map((e) => e.type).filter((t) => t.startsWith('auth.') || t === 'request.completed') };
}

describe('events only for whoever wants them', () => {
  it('tracks no response and builds no request event without a listener', async () => {
    await withoutChannel(async (capture) => {
      expect(await scenario([], capture)).toEqual({ tracked: false, types: [] });
    });
  });

  it('with only an auth.failed listener (alerting), a request that succeeds costs no event and no tracking', async () => {
    await withoutChannel(async (capture) => {
      expect(await scenario(['auth.failed'], capture)).toEqual({ tracked: false, types: ['auth.failed'] });
    });
  });

  it('tracks the response for a request.completed listener, and reports it', async () => {
    await withoutChannel(async (capture) => {
      expect(await scenario(['request.completed'], capture)).toEqual({ tracked: true, types: ['request.completed'] });
    });
  });

  it('publishes auth.succeeded to its listener without tracking the response', async () => {
    await withoutChannel(async (capture) => {
      expect(await scenario(['auth.succeeded'], capture)).toEqual({ tracked: false, types: ['auth.succeeded'] });
    });
  });

  it("gives a '*' listener every request event", async () => {
    await withoutChannel(async (capture) => {
      expect(await scenario(['*'], capture)).toEqual({ tracked: true, types: ['auth.succeeded', 'request.completed', 'auth.failed'] });
    });
  });

  it('treats a channel subscriber as wanting every event', async () => {
    // The leak guard is on the channel here.
    expect(await scenario([], () => {})).toEqual({ tracked: true, types: [] });
  });

  it('still tracks a response for a completion hook (a byte quota) when no one listens', async () => {
    await withoutChannel(async () => {
      const kw = createKeyward({ limits: { quotas: { egress: { bytes: 1000, period: 'day' } } } });
      const { key } = await kw.keys.create({ owner: 'o' });
      const d = (await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } })) as AllowDecision;
      expect(d.ok).toBe(true);
      expect(d.tracked).toBe(true);
      await kw.close();
    });
  });
});
