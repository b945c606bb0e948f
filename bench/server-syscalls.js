#!/usr/bin/env node
'use strict';
/**
 * `node bench/server-syscalls.js <server.js> [--connections 50] [--requests 40000]`
 *
 * The server's read and write system calls per request (`/proc/<pid>/io`: `syscr`, `syscw`, which count every
 * read-like and write-like call, sockets included), and its CPU time per request, over keep-alive connections after a
 * warm-up of 5,000 requests. The counts do not depend on what else the machine does, so they show a change in how a
 * server talks to the network (e.g. Redis auto-pipelining: one write per request fewer) where requests/s cannot.
 * Linux only.
 */
const fs = require('node:fs');
const { arg, sendRequests, serverScript, startServer } = require('./lib/direct');
const { cpuMs } = require('./lib/proc');

const script = serverScript('node bench/server-syscalls.js <server.js> [--connections N] [--requests N]');
const connections = arg('connections', 50);
const requests = arg('requests', 40_000);

startServer(script, {}, async (info, child) => {
  const io = () => Object.fromEntries(fs.readFileSync(`/proc/${child.pid}/io`, 'utf8').trim().split('\n').map((l) => l.split(': ')).map(([k, v]) => [k, Number(v)]));
  const send = (count) => sendRequests(info, count, connections);
  await send(5000);
  const a = io();
  const c0 = cpuMs(child.pid);
  await send(requests);
  const b = io();
  const c1 = cpuMs(child.pid);
  const per = (k) => ((b[k] - a[k]) / requests).toFixed(2);
  console.log(`${script}: ${per('syscr')} reads, ${per('syscw')} writes per request; CPU ${(((c1 - c0) * 1000) / requests).toFixed(1)} µs per request`);
  child.kill('SIGTERM');
});
