#!/usr/bin/env node
'use strict';
/**
 * `node bench/ic-misses.js <server.js> [<server.js> …] [--warm 4000] [--requests 4000] [--top 30]`
 *
 * Which property accesses miss V8's caches on every request. Each server runs with `--log-ic`, which logs every time
 * an access falls through V8's inline and stub caches to the runtime (each such miss costs ~2,000 instructions). After
 * `--warm` requests the log is marked, `--requests` more are sent (4 keep-alive connections) and marked again; the
 * accesses logged between the marks are listed per request, busiest first, with the property name, the source
 * position and the function. At steady state a site listed at 1.00 misses on every request. With several servers,
 * the sites whose rate differs from the first server's are listed too (function positions of the servers' own
 * scripts are not compared).
 *
 * This is how keyward's reads of Express requests were found (a request has a hidden class of its own there, so a
 * plain `req.method` misses on every request); `instructions.js` then tells what fixing one is worth.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { arg, sendRequests, serverScripts, startServer } = require('./lib/direct');
const { symbolizer } = require('./lib/symbols');

const IC = /^(Keyed)?(Load|Store|Has|DefineNamedOwn|DefineKeyedOwn|StoreInArrayLiteral)(Global)?IC,/;

/** Runs one server and returns its steady-state misses: site → misses per request. */
function misses(script, { warm, requests, dir }) {
  const logfile = path.join(dir, `${path.basename(script, '.js')}.log`);
  return new Promise((resolve, reject) => {
    const nodeArgs = ['--log-ic', `--logfile=${logfile}`, '--no-logfile-per-isolate', '-r', path.join(__dirname, 'lib', 'ic-mark.js')];
    const child = startServer(script, { nodeArgs }, async (info) => {
      try {
        const mark = () => new Promise((r) => { child.kill('SIGUSR2'); setTimeout(r, 300); });
        await sendRequests(info, warm, 4);
        await mark();
        await sendRequests(info, requests, 4);
        await mark();
        child.kill('SIGINT');
      } catch (e) { reject(e); }
    });
    child.once('exit', () => {
      try { resolve(parse(fs.readFileSync(logfile, 'utf8'), requests)); } catch (e) { reject(e); }
    });
  });
}

/** The IC events between the two marks of a `--log-ic` log, grouped by site, per request. */
function parse(log, requests) {
  const lines = log.split('\n');
  const start = lines.findIndex((l) => l.startsWith('code-creation,') && l.includes('__keyward_ic_mark_start__'));
  const end = lines.findIndex((l) => l.startsWith('code-creation,') && l.includes('__keyward_ic_mark_end__'));
  if (start === -1 || end === -1) throw new Error('the marks were not found in the V8 log (did the server handle SIGUSR2?)');
  const code = [];
  for (const l of lines) {
    if (!l.startsWith('code-creation,')) continue;
    const p = l.split(',');
    code.push([parseInt(p[4], 16), Number(p[5]), p.slice(6, -2).join(',')]);
  }
  const name = symbolizer(code);
  const fn = (pc) => name(pc)?.replace(/^JS:[*^~+]?/, '') ?? '?';
  const sites = new Map();
  for (let i = start + 1; i < end; i++) {
    if (!IC.test(lines[i])) continue;
    // type, pc, time, line, column, old state, new state, map, name, modifier, slow-stub reason
    const p = lines[i].split(',');
    const site = `${p[0].padEnd(12)} ${p[8].slice(0, 40).padEnd(22)} @${p[3]}:${p[4]} in ${fn(parseInt(p[1], 16))}`;
    sites.set(site, (sites.get(site) ?? 0) + 1 / requests);
  }
  return sites;
}

const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const row = (n, site) => `${n.toFixed(2).padStart(7)}  ${site.slice(0, 150)}`;

(async () => {
  const scripts = serverScripts('node bench/ic-misses.js <server.js> [<server.js> …] [--warm N] [--requests N] [--top N]');
  const opts = { warm: arg('warm', 4000), requests: arg('requests', 4000), dir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-ic-')) };
  const top = arg('top', 30);
  const results = [];
  for (const s of scripts) results.push(await misses(s, opts)); // one at a time: the log is large
  scripts.forEach((s, i) => {
    console.log(`\n${s}: ${sum(results[i]).toFixed(1)} cache misses per request; the busiest sites:`);
    for (const [site, n] of [...results[i]].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(n, site));
  });
  // Sites of a server's own script differ by position between servers: compare them without it.
  const own = (site, script) => site.replace(path.resolve(__dirname, script), '<server>');
  const base = new Map([...results[0]].map(([k, v]) => [own(k, scripts[0]), v]));
  for (let i = 1; i < results.length; i++) {
    const mine = new Map([...results[i]].map(([k, v]) => [own(k, scripts[i]), v]));
    const diff = [...new Set([...base.keys(), ...mine.keys()])].map((k) => [k, (mine.get(k) ?? 0) - (base.get(k) ?? 0)]).filter(([, d]) => Math.abs(d) >= 0.1);
    console.log(`\n${scripts[i]} against ${scripts[0]}: ${(sum(results[i]) - sum(results[0])).toFixed(1)} misses per request; sites whose rate differs:`);
    for (const [site, d] of diff.sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(row(d, site).replace(/^( *)(\d)/, '$1+$2'));
  }
  fs.rmSync(opts.dir, { recursive: true, force: true });
})().catch((e) => { console.error(`ic-misses failed: ${e.stack || e.message}`); process.exit(1); });
