#!/usr/bin/env node
/**
 * Makes sure the services the tests need are reachable before Jest starts:
 * - Redis at REDIS_URL (default redis://127.0.0.1:6379): when nothing listens and `redis-server` exists, starts a
 *   throwaway one (no persistence) on that port; otherwise fails with a message naming REDIS_URL.
 * - PostgreSQL at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test): only checked (started by .ci/run).
 * Set KEYWARD_SKIP_SERVICES=1 to skip (unit tests only).
 */
const net = require('node:net');
const { spawnSync, execFileSync } = require('node:child_process');

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, timeoutMs);
    s.once('connect', () => { clearTimeout(t); s.end(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

function hasBinary(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

async function main() {
  if (process.env.KEYWARD_SKIP_SERVICES === '1') return;
  const redisUrl = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
  const rHost = redisUrl.hostname || '127.0.0.1';
  const rPort = Number(redisUrl.port || 6379);
  if (!(await reachable(rHost, rPort))) {
    if (!hasBinary('redis-server')) {
      console.error(`keyward tests: no Redis at REDIS_URL=${redisUrl.origin} and no redis-server binary to start one. Install Redis or set REDIS_URL.`);
      process.exit(1);
    }
    console.log(`keyward tests: starting a throwaway redis-server on ${rHost}:${rPort}`);
    execFileSync('redis-server', ['--daemonize', 'yes', '--bind', rHost, '--port', String(rPort), '--save', '', '--appendonly', 'no']);
    for (let i = 0; i < 50 && !(await reachable(rHost, rPort)); i++) await new Promise((r) => setTimeout(r, 100));
    if (!(await reachable(rHost, rPort))) {
      console.error(`keyward tests: redis-server did not come up at ${redisUrl.origin} (REDIS_URL)`);
      process.exit(1);
    }
  }
  const pgUrl = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test');
  if (!(await reachable(pgUrl.hostname || '127.0.0.1', Number(pgUrl.port || 5432)))) {
    console.error(`keyward tests: no PostgreSQL at DATABASE_URL=${pgUrl.host}; start it (see .ci/run) or set DATABASE_URL.`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(`keyward tests: service check failed: ${e && e.message}`);
  process.exit(1);
});
