import { createKeyward, type KeywardEvent } from '../index';
import { MemoryKeyStore } from '../stores/memory-key-store';

/** What node-fetch and many clients write when a request fails: the URL, password and all. */
const MESSAGE = 'request to https://ops:plain-password-1@bus.example/publish failed, reason: connect ECONNREFUSED, password=plain-password-2';

describe('failure messages passed on by keyward', () => {
  it('store.error events carry a client\'s message with a URL\'s password and password=… redacted', async () => {
    const channel = { publish: async () => { throw new Error(MESSAGE); }, subscribe: async () => () => {} };
    const kw = createKeyward({ invalidation: channel });
    const events: KeywardEvent[] = [];
    kw.on('store.error', (e) => void events.push(e));
    const { record } = await kw.keys.create({ owner: 'acme' });
    await kw.keys.revoke(record.id);
    await kw.flushEvents();
    expect(events.map((e) => e.reason)).toContain('INVALIDATION_PUBLISH_FAILED');
    expect(JSON.stringify(events)).not.toMatch(/plain-password/);
    expect(events[0]!.data!['message']).toBe('request to https://[REDACTED]@bus.example/publish failed, reason: connect ECONNREFUSED, password=[REDACTED]');
    await kw.close();
  });

  it('a key store\'s failure (STORE_FAILURE) has the same message redacted, in its message and its cause', async () => {
    class FailingStore extends MemoryKeyStore {
      override async get(): Promise<never> {
        throw new Error(MESSAGE);
      }
    }
    const kw = createKeyward({ store: new FailingStore() });
    const error = await kw.keys.get('key_1').then(() => undefined, (e: unknown) => e as Error & { code?: string; cause?: Error });
    expect(error?.code).toBe('STORE_FAILURE');
    expect(`${error!.message} ${error!.cause!.message}`).not.toMatch(/plain-password/);
    expect(error!.message).toContain('https://[REDACTED]@bus.example/publish');
    await kw.close();
  });

  it('the warning for a failing event listener (a log shipper quoting its URL) has it redacted too', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const kw = createKeyward();
      kw.on('key.created', () => { throw new Error(MESSAGE); });
      await kw.keys.create({ owner: 'acme' });
      await kw.flushEvents();
      const warnings = warn.mock.calls.map((c) => String(c[0]));
      expect(warnings.some((w) => w.startsWith('keyward: an event listener failed: request to https://[REDACTED]@bus.example/'))).toBe(true);
      expect(warnings.join('\n')).not.toMatch(/plain-password/);
      await kw.close();
    } finally {
      warn.mockRestore();
    }
  });
});
