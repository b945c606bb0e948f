#!/usr/bin/env node
'use strict';
/**
 * `node bench/instructions.js <server.js> [<server.js> …] [--warm 4000] [--requests 4000] [--top 30]`
 *
 * Counts the CPU instructions each server script executes per request, under valgrind's callgrind: after `--warm`
 * requests (so the JIT has settled) counting is switched on, `--requests` requests are sent (4 keep-alive
 * connections), and the total is divided by the number of requests. Unlike requests/s, the count does not depend on
 * what else the machine is doing, so it shows changes of a few per cent that throughput noise hides. It does not see
 * cache misses or kernel time: confirm the result with `node bench/run.js`. The first server is the baseline; the
 * others are reported as a ratio to it (baseline instructions / server instructions, comparable to a throughput
 * ratio). Instructions of V8's optimizing compiler are counted apart: at steady state V8 still recompiles a little,
 * which under valgrind lands on the measured thread and varies from run to run (in production it runs on a
 * background thread). Garbage collection is included; V8's memory reducer is switched off, because under valgrind's
 * slowness it takes the server for idle and starts full collections at random moments. With `--top N`, the N functions whose cost grew most against the baseline are listed, JIT-compiled
 * JavaScript named through V8's `--perf-basic-prof` map.
 *
 * Needs valgrind (Debian package `valgrind`) and `npm run build`. Servers run in parallel (counts are unaffected);
 * each takes a few minutes under valgrind.
 */
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { arg } = require('./lib/direct');


async function count(script, { warm, requests, dir }) {
  const out = path.join(dir, `${path.basename(script, '.js')}-%p.cg`);
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', '--no-memory-reducer', '--perf-basic-prof', path.resolve(__dirname, script)], {
    env: { ...process.env, NODE_ENV: 'production' },
    cwd: dir, // V8 may leave log files behind
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const info = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${stderr.slice(-500)}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let failed = 0;
  const one = () => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: info.port, path: info.path, method: info.method, headers: info.headers, agent }, (res) => {
      if (res.statusCode >= 300) failed++;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(info.body);
  });
  const batch = async (n) => {
    let sent = 0;
    await Promise.all([0, 1, 2, 3].map(async () => { while (sent < n) { sent++; await one(); } }));
  };
  await batch(warm);
  failed = 0;
  execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
  await batch(requests);
  agent.destroy();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const total = Number(/Collected : (\d+)/.exec(stderr)?.[1]);
  const file = out.replace('%p', child.pid);
  // V8 keeps (re)compiling a little at steady state; under valgrind that lands on the counted thread and varies from
  // run to run, while in production it runs on a background thread. It is reported apart.
  let compile = 0;
  for (const line of execFileSync('callgrind_annotate', ['--threshold=100', file], { maxBuffer: 1 << 28 }).toString().split('\n')) {
    const m = /^ *([0-9,]+) \( *[0-9.]+%\) {2}(.*)$/.exec(line);
    if (m && /compiler::|Scanner|Parser|AstValue|interpreter::/.test(m[2])) compile += Number(m[1].replace(/,/g, ''));
  }
  return { script, perRequest: (total - compile) / requests, compile: compile / requests, failed, file, map: `/tmp/perf-${child.pid}.map` };
}

/** How `--top` groups functions: the first pattern that matches a function's name gives its kind. */
const CATEGORIES = [
  ['JIT compiler (not in the totals)', /compiler::|Scanner|Parser|AstValue|interpreter::/],
  ['garbage collection', /Scaveng|Evacuat|BodyDescriptor|Heap::|Sweep|MarkCompact|Marking|Ephemeron|NewSpace|PagedSpace|MemoryAllocator|RememberedSet|SlotSet|heap::base/],
  ['property access slow paths (IC misses, look-ups)', /IC|LookupIterator|StubCache|FeedbackNexus|FeedbackVector|Map::|MakePrototypesFast|TransitionsAccessor|Runtime_(Get|Set|Define)Property|Object::(Get|Set)Property|DescriptorArray/],
  ['JIT-compiled JavaScript', /^JIT /],
  ['V8 builtins', /Builtins_/],
  ['libc and OpenSSL (malloc, memcpy, SHA-256)', /libc\.so|malloc|memmove|memcpy|sha256|_avx/],
  ['the rest (runtime, Node C++)', /./],
];

/** Self instructions per function, JIT code named from the perf map. */
function functions(result, requests) {
  const map = fs.existsSync(result.map) ? fs.readFileSync(result.map, 'utf8').split('\n').filter(Boolean).map((l) => { const [a, s, ...n] = l.split(' '); return [parseInt(a, 16), parseInt(s, 16), n.join(' ')]; }).sort((x, y) => x[0] - y[0]) : [];
  const name = (addr) => {
    let lo = 0, hi = map.length - 1, found;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (map[mid][0] <= addr) { found = map[mid]; lo = mid + 1; } else hi = mid - 1; }
    return found && addr < found[0] + found[1] ? found[2] : undefined;
  };
  const text = execFileSync('callgrind_annotate', ['--threshold=100', result.file], { maxBuffer: 1 << 28 }).toString();
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = /^ *([0-9,]+) \( *[0-9.]+%\) {2}(.*)$/.exec(line);
    if (!m || m[2].includes('PROGRAM TOTALS')) continue;
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(m[2]);
    const key = jit ? `JIT ${name(parseInt(jit[1], 16)) ?? '(unnamed)'}`.replace(/0x[0-9a-f]+/g, '') : m[2].split('(')[0].slice(0, 100);
    out.set(key, (out.get(key) ?? 0) + Number(m[1].replace(/,/g, '')) / requests);
  }
  return out;
}

(async () => {
  const scripts = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  if (scripts.length === 0) throw new Error('usage: node bench/instructions.js <server.js> [<server.js> …] [--warm N] [--requests N] [--top N]');
  const opts = { warm: arg('warm', 4000), requests: arg('requests', 4000), dir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-cg-')) };
  const results = await Promise.all(scripts.map((s) => count(s, opts)));
  const base = results[0];
  for (const r of results) {
    console.log(`${r.script.padEnd(36)} ${Math.round(r.perRequest).toLocaleString('en').padStart(10)} instructions/request  ratio ${(base.perRequest / r.perRequest).toFixed(3)}  (JIT compiler apart: ${Math.round(r.compile).toLocaleString('en')})${r.failed ? `  (${r.failed} responses ≥ 300!)` : ''}`);
  }
  const top = arg('top', 0);
  if (top > 0 && results.length > 1) {
    const a = functions(base, opts.requests);
    for (const r of results.slice(1)) {
      const b = functions(r, opts.requests);
      const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, a.get(k) ?? 0, b.get(k) ?? 0]).sort((x, y) => (y[2] - y[1]) - (x[2] - x[1]));
      console.log(`\n${r.script} against ${base.script}: growth, baseline, this (instructions/request)`);
      for (const [k, x, y] of rows.slice(0, top)) console.log(`${Math.round(y - x).toString().padStart(8)} ${Math.round(x).toString().padStart(8)} ${Math.round(y).toString().padStart(8)}  ${k.slice(0, 120)}`);
      const sums = new Map(CATEGORIES.map(([c]) => [c, [0, 0]]));
      for (const [k, x, y] of rows) {
        const s = sums.get(CATEGORIES.find(([, re]) => re.test(k))[0]);
        s[0] += x;
        s[1] += y;
      }
      console.log('\nby kind: growth, baseline, this (instructions/request)');
      for (const [c, [x, y]] of sums) console.log(`${Math.round(y - x).toString().padStart(8)} ${Math.round(x).toString().padStart(8)} ${Math.round(y).toString().padStart(8)}  ${c}`);
    }
  }
  fs.rmSync(opts.dir, { recursive: true, force: true });
})().catch((e) => { console.error(`instructions failed: ${e.stack || e.message}`); process.exit(1); });
