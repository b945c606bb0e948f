#!/usr/bin/env node
'use strict';
/**
 * `node bench/server-cpu.js <server.js> [--requests 100000] [--warm 10000]`
 *
 * The server's own CPU time per request, from `/proc/<pid>/task/<tid>/stat` (user and system, every thread of the
 * server: the main thread, and V8's helper threads summed as `node`). The server runs on CPU 0 (`taskset`) and this
 * script, which sends the requests over 8 keep-alive connections, should run on CPU 1 (`taskset -c 1 node …`). Unlike
 * instructions (`instructions.js`) this counts cache misses and helper threads; unlike requests/s it does not depend on
 * the load generator. Linux only; compare servers within one sitting, alternating them.
 */
const fs = require('node:fs');
const { arg, sendRequests, serverScript, startServer } = require('./lib/direct');
const { statCpuMs } = require('./lib/proc');

const script = serverScript('node bench/server-cpu.js <server.js> [--requests N] [--warm N]');
const requests = arg('requests', 100_000);
const warm = arg('warm', 10_000);

/** CPU time (ms) by thread kind (`main`, and the others by name), user and system apart. */
function cpuByThread(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const raw = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = tid === String(pid) ? 'main' : raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')')).replace(/[0-9]+$/, '');
    const { user, system } = statCpuMs(raw);
    const t = (out[name] ??= { user: 0, system: 0 });
    t.user += user;
    t.system += system;
  }
  return out;
}

startServer(script, { pin: true }, async (info, child) => {
  const send = (count) => sendRequests(info, count, 8);
  await send(warm);
  const before = cpuByThread(child.pid);
  await send(requests);
  const after = cpuByThread(child.pid);
  const per = (k, part) => (((after[k]?.[part] ?? 0) - (before[k]?.[part] ?? 0)) * 1000) / requests;
  const both = (k) => per(k, 'user') + per(k, 'system');
  const total = Object.keys(after).reduce((sum, k) => sum + both(k), 0);
  const threads = Object.keys(after).map((k) => `${k} ${both(k).toFixed(1)} (user ${per(k, 'user').toFixed(1)}, system ${per(k, 'system').toFixed(1)})`);
  console.log(`${script}: ${total.toFixed(1)} µs CPU per request (${threads.join(', ')})`);
  child.kill('SIGTERM');
});
