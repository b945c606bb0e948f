#!/usr/bin/env node
/**
 * Makes sure the services the tests need are reachable before Jest starts:
 * - Redis at REDIS_URL (default redis://127.0.0.1:6379): when nothing listens and `redis-server` exists, starts a
 *   throwaway one (no persistence) on that port; otherwise fails with a message naming REDIS_URL.
 * - PostgreSQL at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test): checked (started by .ci/run); the
 *   database is created when the server is up but the database is missing.
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
  await ensureDatabase(pgUrl);
}

/** Creates the test database when the server is up but the database is missing (a fresh cluster). */
async function ensureDatabase(pgUrl) {
  const { Client } = require('pg');
  const probe = new Client({ connectionString: pgUrl.href });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (e) {
    await probe.end().catch(() => {});
    if (!e || e.code !== '3D000') {
      console.error(`keyward tests: cannot connect to PostgreSQL at DATABASE_URL=${pgUrl.host}${pgUrl.pathname}: ${e && e.message}`);
      process.exit(1);
    }
  }
  const name = decodeURIComponent(pgUrl.pathname.slice(1));
  const admin = new Client({ connectionString: Object.assign(new URL(pgUrl.href), { pathname: '/postgres' }).href });
  await admin.connect();
  console.log(`keyward tests: creating database "${name}"`);
  await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((e) => { if (e.code !== '42P04') throw e; });
  await admin.end();
}

main().catch((e) => {
  console.error(`keyward tests: service check failed: ${e && e.message}`);
  process.exit(1);
});
