'use strict';
/**
 * Issue 7: revocation delay between two processes sharing one Redis (goal p99 ≤ 50 ms). Process A revokes a key that
 * process B has cached (cache TTL 1 h, so only the pub/sub invalidation can refuse it); the parent polls B without
 * pause and records the time from A's revoke() call to B's first 401. Prints the distribution; asserts nothing.
 *
 *   node bench/revocation-delay.js [--count 200]
 *
 * The app processes are test/distributed/app-process.js (loaded from the TypeScript sources; set KEYWARD_FROM_DIST=1
 * to use the built packages).
 */
const http = require('node:http');
const Redis = require('ioredis');
const { startApp } = require('../test/distributed/app-processes');

const i = process.argv.indexOf('--count');
const COUNT = i === -1 ? 200 : Number(process.argv[i + 1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function status(url, key) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/docs`, { agent, headers: { 'x-api-key': key } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

(async () => {
  const prefix = `kwbench_revoke_${process.pid}`;
  const env = { KW_PREFIX: prefix, KW_CHANNEL: `${prefix}:invalidate`, KW_RL_PREFIX: `${prefix}:rl` };
  const [a, b] = await Promise.all([startApp(env), startApp(env)]);
  const delays = [];
  try {
    for (let n = 0; n < COUNT; n++) {
      const { id, key } = await a.call({ cmd: 'create' });
      if ((await status(b.url, key)) !== 200) throw new Error('the key should work on B');
      const revoked = a.call({ cmd: 'revoke', id });
      let refusedAt = 0;
      while (!refusedAt) if ((await status(b.url, key)) === 401) refusedAt = Date.now();
      const { startedAt } = await revoked;
      delays.push(Math.max(0, refusedAt - startedAt));
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
    const client = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await client.unlink(...keys);
    } while (cursor !== '0');
    client.disconnect();
  }
  delays.sort((x, y) => x - y);
  console.log(`revocation delay between two processes, ${delays.length} revocations (ms from revoke() on A to the first 401 on B):`);
  console.log(`  p50 ${pct(delays, 50)}  p90 ${pct(delays, 90)}  p99 ${pct(delays, 99)}  max ${delays[delays.length - 1]}   goal: p99 ≤ 50`);
  agent.destroy();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
