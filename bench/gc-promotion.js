#!/usr/bin/env node
'use strict';
/**
 * `node bench/gc-promotion.js <server.js> [--requests 30000] [--warm 10000] [--connections 50]`
 *
 * What a server's garbage collector does per request: the server runs under `--trace-gc-nvp`, is warmed up, then
 * counted over `--requests` keep-alive requests: scavenges, bytes promoted to the old generation per request,
 * mark-compacts, and the main thread's GC pause per 1,000 requests. Express and Nest promote 8–10 KB per request
 * whatever the middleware (Express changes the prototype of every request and response), Koa almost nothing; what
 * a library attaches to a request is promoted with it. Compare servers within one sitting.
 */
const { arg, sendRequests, serverScript, startServer } = require('./lib/direct');

const script = serverScript('node bench/gc-promotion.js <server.js> [--requests N] [--warm N] [--connections N]');
const requests = arg('requests', 30_000);
const warm = arg('warm', 10_000);
const connections = arg('connections', 50);

/** The number after `name=` in a `--trace-gc-nvp` line, 0 when absent. */
const field = (line, name) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);

startServer(script, { nodeArgs: ['--trace-gc-nvp'] }, async (info, child, lines) => {
  const totals = { scavenges: 0, promotedBytes: 0, markCompacts: 0, pauseMs: 0 };
  let counting = false;
  lines.on('line', (line) => {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (!counting || kind === undefined) return;
    totals.pauseMs += field(line, 'pause');
    if (kind === 's') {
      totals.scavenges++;
      totals.promotedBytes += field(line, 'promoted');
    } else {
      totals.markCompacts++;
    }
  });
  await sendRequests(info, warm, connections);
  counting = true;
  await sendRequests(info, requests, connections);
  counting = false;
  console.log(`${script}: ${requests} requests, ${totals.scavenges} scavenges, ${totals.markCompacts} mark-compacts; ` +
    `promoted ${(totals.promotedBytes / requests).toFixed(0)} B/request; main-thread GC pause ${(totals.pauseMs / (requests / 1000)).toFixed(2)} ms per 1,000 requests`);
  child.kill('SIGTERM');
});
