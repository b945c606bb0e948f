import { createKeyward, manualClock, type AnomalyOptions, type Keyward, type KeywardEvent } from '../index';
import type { AnomalyFeature } from './feature';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const COUNTRIES: Record<string, string> = { '10.0.0.1': 'FR', '10.0.0.9': 'RU' };

describe('anomaly detection', () => {
  let kw: Keyward;
  let key: string;
  let keyId: string;
  let events: KeywardEvent[];
  let clock: ReturnType<typeof manualClock>;

  async function setup(options: AnomalyOptions) {
    clock = manualClock(T0);
    events = [];
    kw = createKeyward({ clock, anomalies: { warmup: '10m', warmupRequests: 20, minRate: 10, rateFactor: 5, minBytes: 10_000, countryLookup: (a) => COUNTRIES[a], ...options } });
    kw.on('*', (e) => { events.push(e); });
    const created = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'] });
    key = created.key;
    keyId = created.record.id;
  }
  afterEach(() => kw.close());

  async function call(ip = '10.0.0.1', done: { status?: number; bytes?: number } = {}) {
    const d = await kw.check({ method: 'GET', path: '/docs', headers: { 'x-api-key': key }, remoteAddress: ip });
    if (d.ok) d.done({ status: done.status ?? 200, bytes: done.bytes ?? 100 });
    return d;
  }

  /** 11 minutes of 2 requests a minute from 10.0.0.1 (France). */
  async function warmUp() {
    for (let minute = 0; minute <= 10; minute++) {
      await call();
      await call();
      clock.advance(60_000);
    }
  }

  const anomalies = async () => {
    await (kw.features.get('anomalies') as AnomalyFeature).detector.settled();
    return events.filter((e) => e.type === 'anomaly.detected');
  };

  it('stays quiet during warm-up and for normal use', async () => {
    await setup({});
    await call('10.0.0.9');
    await warmUp();
    await call();
    expect(await anomalies()).toEqual([]);
  });

  it('reports a stolen key: new address and country, rate spike, bytes spike — with evidence, no secrets', async () => {
    await setup({});
    await warmUp();
    await call('10.0.0.9');
    for (let i = 0; i < 12; i++) await call('10.0.0.9');
    await call('10.0.0.9', { bytes: 20_000 });
    const found = await anomalies();
    expect(found.map((e) => e.reason)).toEqual(['NEW_ADDRESS', 'NEW_COUNTRY', 'RATE_SPIKE', 'BYTES_SPIKE']);
    expect(found[0]).toMatchObject({ schema: 'keyward.event/v1', keyId, owner: 'acme', clientAddress: '10.0.0.9', country: 'RU', data: { kind: 'NEW_ADDRESS', severity: 'low', suspend: false, evidence: { address: '10.0.0.9', knownAddresses: 1 } } });
    expect(found[1]!.data).toMatchObject({ evidence: { country: 'RU', knownCountries: ['FR'] } });
    expect(found[2]!.data).toMatchObject({ kind: 'RATE_SPIKE', evidence: { requestsThisMinute: 10, baselinePerMinute: 2, threshold: 10 } });
    expect(found[3]!.data).toMatchObject({ kind: 'BYTES_SPIKE', evidence: { bytesThisMinute: 21_300, baselineBytesPerMinute: 200, threshold: 10_000 } });
    expect(JSON.stringify(events)).not.toContain(key);
    // same kind again within the cooldown: not reported twice
    await call('10.0.0.9', { bytes: 20_000 });
    expect((await anomalies()).length).toBe(4);
  });

  it('reports error and auth-failure bursts, and many addresses at once', async () => {
    await setup({ errorBurst: 5, authFailureBurst: 3, maxAddresses: 4, detect: ['ERROR_BURST', 'AUTH_FAILURE_BURST', 'MANY_ADDRESSES'] });
    await warmUp();
    for (let i = 0; i < 5; i++) await call('10.0.0.1', { status: 500 });
    clock.advance(60_000);
    for (let i = 1; i <= 5; i++) await call(`10.0.1.${i}`);
    clock.advance(60_000);
    await kw.keys.disable(keyId);
    for (let i = 0; i < 3; i++) expect((await call()).ok).toBe(false);
    const found = await anomalies();
    expect(found.map((e) => e.reason)).toEqual(['ERROR_BURST', 'MANY_ADDRESSES', 'AUTH_FAILURE_BURST']);
    expect(found[0]!.data).toMatchObject({ evidence: { errorsThisMinute: 5, requestsThisMinute: 5 } });
    expect(found[1]!.data).toMatchObject({ evidence: { addressesThisMinute: 5, threshold: 5 } });
    expect(found[2]!.data).toMatchObject({ evidence: { authFailuresThisMinute: 3, lastReason: 'KEY_DISABLED' } });
  });

  it('suspends the key automatically: key.suspended, then 401 KEY_DISABLED', async () => {
    await setup({ suspend: ['RATE_SPIKE'] });
    await warmUp();
    for (let i = 0; i < 10; i++) await call();
    const found = await anomalies();
    expect(found.map((e) => e.reason)).toEqual(['RATE_SPIKE']);
    expect(found[0]!.data).toMatchObject({ suspend: true });
    expect(events.find((e) => e.type === 'key.suspended')).toMatchObject({ keyId, owner: 'acme', reason: 'RATE_SPIKE', data: { anomaly: 'RATE_SPIKE' } });
    expect((await kw.keys.get(keyId))!.status).toBe('disabled');
    const d = await call();
    expect(d.ok).toBe(false);
    expect(!d.ok && d.code).toBe('KEY_DISABLED');
    expect(!d.ok && d.status).toBe(401);
  });

  it('validates its options', () => {
    expect(() => createKeyward({ anomalies: { rateFactor: 0 } })).toThrow('keyward: option "anomalies.rateFactor" must be a number of at least 1');
    expect(() => createKeyward({ anomalies: { suspend: ['NOPE' as never] } })).toThrow(/anomalies\.suspend/);
    expect(() => createKeyward({ anomalies: { warmup: 'soon' } })).toThrow(/anomalies\.warmup/);
    expect(() => createKeyward({ anomalies: { countryLookup: 'geo' as never } })).toThrow(/anomalies\.countryLookup/);
  });
});
