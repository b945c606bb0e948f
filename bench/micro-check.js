'use strict';
/**
 * `node bench/micro-check.js [--touch KiB]`: the cost of one `check()` in-process (no HTTP), for the example's
 * configuration (memory store, one scope, an audit listener). A quick way to see what the core itself costs per
 * request.
 *
 * In a loop the core's code and data stay in the CPU's caches; in a server the framework's own work evicts them between
 * two requests. `--touch KiB` writes to that much memory (one write per 64-byte line) between two checks, outside the
 * timed part, to show the core's cost with cold caches: with `--touch 4096` it comes close to what the same work costs
 * inside a running Express server.
 */
const { createKeyward } = require('@keyward/core');
const { arg } = require('./lib/direct');

const touchKiB = arg('touch', 0);
if (!Number.isInteger(touchKiB) || touchKiB < 0) throw new Error('usage: node bench/micro-check.js [--touch KiB]');

(async () => {
  const kw = createKeyward();
  let events = 0;
  kw.on('*', () => { events++; });
  const { key } = await kw.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  const request = { method: 'GET', path: '/v1/docs', query: '', headers: { 'x-api-key': key, 'user-agent': 'bench', host: 'h' }, remoteAddress: '127.0.0.1' };
  const requirements = { scopes: ['docs:read'] };
  const memory = new Float64Array((touchKiB * 1024) / 8);
  for (const label of ['warm-up', 'measured']) {
    const n = 100_000;
    let elapsed = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < memory.length; j += 8) memory[j]++;
      const t = performance.now();
      const d = await kw.check(request, requirements);
      d.done({ status: 200, bytes: 10 });
      elapsed += performance.now() - t;
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    const cold = touchKiB > 0 ? `, ${touchKiB} KiB touched between checks` : '';
    console.log(`${label}: ${((elapsed * 1000) / n).toFixed(2)} µs per check${cold} (events delivered: ${events})`);
  }
  await kw.close();
})();
