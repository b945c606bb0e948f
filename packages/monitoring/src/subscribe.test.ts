/**
 * A sink that takes only some event types subscribes to those alone, so keyward builds no other event and tracks no
 * response for them. The suite's leak guard subscribes to the `keyward:events` channel, which makes every type wanted,
 * so these tests run with it off the channel; what the sinks write is handed to it.
 */
import { Writable } from 'node:stream';
import { withoutChannel } from '../../../test/setup/leak-guard';
import { createKeyward, type AllowDecision, type Keyward } from '@keyward/core';
import { jsonLinesSink, pinoSink, webhookSink, type EventSink, type WebhookSink } from './index';

/** Whether keyward tracks the response of an allowed request while `attach` has subscribed its sink. */
async function tracked(attach: (kw: Keyward) => EventSink | WebhookSink): Promise<boolean> {
  const kw = createKeyward();
  const sink = attach(kw);
  const { key } = await kw.keys.create({ owner: 'o' });
  const d = (await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key } })) as AllowDecision;
  expect(d.ok).toBe(true);
  await sink.close();
  await kw.close();
  return d.tracked;
}

const logger = (lines: unknown[]) => {
  const write = (o: unknown) => void lines.push(o);
  return { debug: write, info: write, warn: write, error: write };
};
const nowhere = () => new Writable({ write(_c, _e, cb) { cb(); } });

describe('sinks subscribe to the types they take', () => {
  it('a webhook with its default types (anomalies, suspensions, revocations, blocks) costs a successful request nothing', async () => {
    await withoutChannel(async () => {
      expect(await tracked((kw) => webhookSink({ keyward: kw, url: 'http://127.0.0.1:9/hook', secret: 'x'.repeat(32) }))).toBe(false);
      expect(await tracked((kw) => webhookSink({ keyward: kw, url: 'http://127.0.0.1:9/hook', secret: 'x'.repeat(32), types: ['request.completed'] }))).toBe(true);
    });
  });

  it('a pino or JSON-lines sink tracks responses only when it takes request.completed', async () => {
    await withoutChannel(async (capture) => {
      const lines: unknown[] = [];
      expect(await tracked((kw) => pinoSink({ keyward: kw, logger: logger(lines), types: ['auth.failed', 'anomaly.detected'] }))).toBe(false);
      expect(await tracked((kw) => pinoSink({ keyward: kw, logger: logger(lines) }))).toBe(true);
      expect(await tracked((kw) => jsonLinesSink({ keyward: kw, stream: nowhere(), types: ['key.revoked'] }))).toBe(false);
      expect(await tracked((kw) => jsonLinesSink({ keyward: kw, stream: nowhere() }))).toBe(true);
      lines.forEach(capture);
    });
  });

  it('still receives the types it takes, and stops at close', async () => {
    await withoutChannel(async (capture) => {
      const kw = createKeyward();
      const lines: Array<{ event: { type: string } }> = [];
      const sink = pinoSink({ keyward: kw, logger: logger(lines as unknown[]), types: ['auth.failed'] });
      await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': 'nope' } });
      await kw.flushEvents();
      expect(lines.map((l) => l.event.type)).toEqual(['auth.failed']);
      await sink.close();
      await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': 'nope' } });
      await kw.flushEvents();
      expect(lines).toHaveLength(1);
      lines.forEach(capture);
      await kw.close();
    });
  });

  it.each([
    ['an empty list', []],
    ['an unknown type', ['auth.failed', 'auth.fail']],
    ['not a list', 'auth.failed'],
  ])('refuses %s in "types" at start-up, naming the option', (_what, types) => {
    const kw = createKeyward();
    expect(() => pinoSink({ keyward: kw, logger: logger([]), types: types as never })).toThrow(/option "types"/);
    expect(() => jsonLinesSink({ keyward: kw, stream: nowhere(), types: types as never })).toThrow(/option "types"/);
    expect(() => webhookSink({ keyward: kw, url: 'http://127.0.0.1:9/hook', secret: 'x'.repeat(32), types: types as never })).toThrow(/option "types"/);
    return kw.close();
  });

  it('names the type an unknown one was likely meant to be, and the known ones without "*"', () => {
    const kw = createKeyward();
    expect(() => pinoSink({ keyward: kw, logger: logger([]), types: ['anomaly.detect'] as never })).toThrow(
      /^keyward: option "types" has an unknown event type "anomaly\.detect" \(did you mean "anomaly\.detected"\? one of auth\.succeeded, .*audit\.dropped\)$/,
    );
    return kw.close();
  });
});
