'use strict';
/**
 * `node bench/micro-check.js`: the cost of one `check()` in-process (no HTTP), for the example's configuration
 * (memory store, one scope, an audit listener). A quick way to see what the core itself costs per request.
 */
const { createKeyward } = require('@keyward/core');

(async () => {
  const kw = createKeyward();
  let events = 0;
  kw.on('*', () => { events++; });
  const { key } = await kw.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  const request = { method: 'GET', path: '/v1/docs', query: '', headers: { 'x-api-key': key, 'user-agent': 'bench', host: 'h' }, remoteAddress: '127.0.0.1' };
  const requirements = { scopes: ['docs:read'] };
  for (const label of ['warm-up', 'measured']) {
    const n = 100_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const d = await kw.check(request, requirements);
      d.done({ status: 200, bytes: 10 });
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    console.log(`${label}: ${(Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2)} µs per check (events delivered: ${events})`);
  }
  await kw.close();
})();
