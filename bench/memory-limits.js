'use strict';
/**
 * Memory bound of rate limits and failed-auth blocking under a flood of distinct bogus keys from distinct
 * addresses (issue 5). Prints heap figures and counter-store sizes; asserts nothing.
 *
 *   node --expose-gc bench/memory-limits.js [--count 1000000] [--max-entries 100000]
 *
 * The keyward under test has a per-key burst limit and a daily quota (run after authentication, so a bogus credential
 * never gets a bucket), an address limit counted before authentication, and failed-auth blocking. Counter stores
 * are the bounded in-memory ones; their sizes must stay at or below `maxEntries` whatever the count.
 * Set KEYWARD_CORE to load the core from another path (e.g. a build in /tmp).
 */
const core = require(process.env.KEYWARD_CORE || '@keyward/core');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const COUNT = arg('count', 1_000_000);
const MAX = arg('max-entries', 100_000);
const gc = () => { if (globalThis.gc) { globalThis.gc(); globalThis.gc(); } };
const mb = (n) => (n / 1048576).toFixed(1);

(async () => {
  const limitsStore = core.memoryLimiterStore({ maxEntries: MAX });
  const failureStore = core.memoryLimiterStore({ maxEntries: MAX });
  const kw = core.createKeyward({
    limits: {
      store: limitsStore,
      rules: { burst: { points: 100, window: '10s' }, perAddress: { points: 1000, window: '1m', by: 'address', beforeAuth: true } },
      quotas: { daily: { requests: 10_000, period: 'day' } },
    },
    authFailures: { max: 10, window: '15m', block: '15m', store: failureStore },
  });
  const { key } = await kw.keys.create({ owner: 'bench' });
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  let refused = 0;
  for (let i = 0; i < COUNT; i++) {
    // distinct IPv4 addresses for the first half, distinct IPv6 /56 subnets for the second
    const address = i < COUNT / 2
      ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
      : `2001:db8:${((i >> 8) & 0xffff).toString(16)}:${((i & 255) << 8).toString(16)}::1`;
    const d = await kw.check({ method: 'GET', path: '/v1/docs', headers: { 'x-api-key': `kw_live_bogus${i.toString(36)}` }, remoteAddress: address });
    if (!d.ok) refused++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // a real key still works and its counters are the only key-keyed ones
  const ok = await kw.check({ method: 'GET', path: '/v1/docs', headers: { 'x-api-key': key }, remoteAddress: '192.0.2.1' });
  gc();
  const after = process.memoryUsage().heapUsed;
  const figures = {
    requests: COUNT,
    refused,
    seconds: Number(seconds.toFixed(1)),
    maxEntries: MAX,
    limitsStoreEntries: limitsStore.size,
    authFailureStoreEntries: failureStore.size,
    heapBeforeMB: Number(mb(before)),
    heapAfterMB: Number(mb(after)),
    heapGrowthMB: Number(mb(after - before)),
    bytesPerEntry: Math.round((after - before) / Math.max(1, limitsStore.size + failureStore.size)),
    realKeyAllowed: ok.ok,
    gcExposed: Boolean(globalThis.gc),
  };
  process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
  await kw.close();
})().catch((e) => {
  process.stderr.write(`${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
