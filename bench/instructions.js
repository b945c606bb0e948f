#!/usr/bin/env node
'use strict';
/**
 * `node bench/instructions.js <server.js> [<server.js> …] [--warm 4000] [--requests 4000] [--top 30] [--cache-sim]`
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
 * With `--cache-sim`, callgrind also simulates the CPU's caches and each server's line gives, per request, the misses
 * of the level-1 instruction cache (`I1`), of the level-1 data cache (`D1`, reads and writes) and of a 2 MiB last level
 * (`L2`, modelled on this host's per-core L2; valgrind's default would model the VM's far larger shared L3), and
 * `--top` lists functions by the growth of their misses. Instructions leave these out, and they are where a request
 * to Express pays for what keyward adds: its code and data evict the framework's own between two requests, so the
 * same work costs several times more in a server than in a loop (`node bench/micro-check.js --touch 4096`). The
 * simulation makes each server about twice as slow again under valgrind.
 *
 * With `--keep`, the callgrind output files (and the perf maps naming JIT code) are kept and their directory printed,
 * for `callgrind_annotate --tree=caller` by hand when `--callers` one level up is not enough.
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
const { arg, serverScripts } = require('./lib/direct');
const { symbolizer } = require('./lib/symbols');


/** The simulated caches of `--cache-sim`: this host's L1 sizes, and its 2 MiB per-core L2 as the last level. */
const CACHE_SIM = ['--cache-sim=yes', '--I1=32768,8,64', '--D1=49152,12,64', '--LL=2097152,16,64'];

/** The misses `--cache-sim` reports per request: callgrind's events summed into three levels. */
const MISSES = { I1: ['I1mr'], D1: ['D1mr', 'D1mw'], L2: ['ILmr', 'DLmr', 'DLmw'] };

async function count(script, { warm, requests, dir, cacheSim }) {
  const out = path.join(dir, `${path.basename(script, '.js')}-%p.cg`);
  const child = spawn('valgrind', ['--tool=callgrind', ...(cacheSim ? CACHE_SIM : []), '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', '--no-memory-reducer', '--perf-basic-prof', path.resolve(__dirname, script)], {
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
  const misses = cacheSim ? perRequestMisses(stderr, requests) : undefined;
  // V8 keeps (re)compiling a little at steady state; under valgrind that lands on the counted thread and varies from
  // run to run, while in production it runs on a background thread. It is reported apart.
  let compile = 0;
  for (const line of execFileSync('callgrind_annotate', ['--threshold=100', file], { maxBuffer: 1 << 28 }).toString().split('\n')) {
    const m = /^ *([0-9,]+) \( *[0-9.]+%\) {2}(.*)$/.exec(line);
    if (m && /compiler::|Scanner|Parser|AstValue|interpreter::/.test(m[2])) compile += Number(m[1].replace(/,/g, ''));
  }
  return { script, perRequest: (total - compile) / requests, compile: compile / requests, misses, failed, file, map: `/tmp/perf-${child.pid}.map` };
}

/** The cache misses per request from callgrind's summary (`Events : …` and `Collected : …`), by level. */
function perRequestMisses(stderr, requests) {
  const names = /Events +: (.*)/.exec(stderr)?.[1].trim().split(/\s+/) ?? [];
  const values = /Collected : (.*)/.exec(stderr)?.[1].trim().split(/\s+/).map(Number) ?? [];
  const of = (events) => events.reduce((sum, e) => sum + (values[names.indexOf(e)] ?? NaN), 0) / requests;
  return Object.fromEntries(Object.entries(MISSES).map(([level, events]) => [level, of(events)]));
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

/** The columns `--top` shows, each the callgrind events it sums: instructions, and with `--cache-sim` each level's misses. */
function levelsOf(cacheSim) {
  return cacheSim ? [['Ir'], ...Object.values(MISSES)] : [['Ir']];
}

/**
 * Self cost per function and request, JIT code named from the perf map: `[instructions]`, or with `--cache-sim`
 * `[instructions, I1 misses, D1 misses, L2 misses]`.
 */
function functions(result, requests, cacheSim) {
  const name = symbolizer(fs.existsSync(result.map) ? fs.readFileSync(result.map, 'utf8').split('\n').filter(Boolean).map((l) => { const [a, s, ...n] = l.split(' '); return [parseInt(a, 16), parseInt(s, 16), n.join(' ')]; }) : []);
  const levels = levelsOf(cacheSim);
  const events = levels.flat();
  // Each column is "1,234 (5.6%)", or "." for none.
  const row = new RegExp(`^ *${events.map(() => '([0-9,]+ \\( *[0-9.]+%\\)|\\.) +').join('')}(.*)$`);
  const text = execFileSync('callgrind_annotate', [`--show=${events.join(',')}`, '--threshold=100', result.file], { maxBuffer: 1 << 29 }).toString();
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = row.exec(line);
    if (!m || m[events.length + 1].includes('PROGRAM TOTALS')) continue;
    const value = (e) => { const v = m[events.indexOf(e) + 1]; return v === '.' ? 0 : Number(v.split(' ')[0].replace(/,/g, '')); };
    const fn = m[events.length + 1];
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(fn);
    const key = jit ? `JIT ${name(parseInt(jit[1], 16)) ?? '(unnamed)'}`.replace(/0x[0-9a-f]+/g, '') : fn.split('(')[0].slice(0, 100);
    const sums = out.get(key) ?? levels.map(() => 0);
    levels.forEach((level, i) => { sums[i] += level.reduce((t, e) => t + value(e), 0) / requests; });
    out.set(key, sums);
  }
  return out;
}

/**
 * `--callers <pattern>`: for each function whose name matches, the functions that call it and the instructions per
 * request spent in it (and what it calls) on their behalf, JIT callers named from the perf map. This is how a site
 * that makes V8's property reads megamorphic is found: `--callers Megamorphic` names the JavaScript functions behind
 * `Builtins_KeyedLoadIC_Megamorphic` and `Builtins_LoadIC_Megamorphic`.
 */
function callers(result, requests, pattern) {
  const name = symbolizer(fs.existsSync(result.map) ? fs.readFileSync(result.map, 'utf8').split('\n').filter(Boolean).map((l) => { const [a, s, ...n] = l.split(' '); return [parseInt(a, 16), parseInt(s, 16), n.join(' ')]; }) : []);
  const label = (fn) => {
    const jit = /^\?\?\?:0x([0-9a-f]+)/.exec(fn);
    return jit ? `JIT ${name(parseInt(jit[1], 16)) ?? '(unnamed)'}`.replace(/0x[0-9a-f]+/g, '') : fn.split(' [')[0].slice(0, 100);
  };
  const text = execFileSync('callgrind_annotate', ['--tree=caller', '--inclusive=yes', '--threshold=100', result.file], { maxBuffer: 1 << 29 }).toString();
  const out = new Map();
  let pending = [];
  for (const line of text.split('\n')) {
    const caller = /^ *([0-9,]+) +(?:\( *[0-9.]+%\) +)?< (.*?)(?: \(\d+x\))? \[/.exec(line);
    if (caller) { pending.push([Number(caller[1].replace(/,/g, '')), caller[2]]); continue; }
    const self = /^ *[0-9,]+ +(?:\( *[0-9.]+%\) +)?\* +(.*?) \[/.exec(line);
    if (self) {
      if (pattern.test(self[1])) {
        const byCaller = out.get(label(self[1])) ?? new Map();
        for (const [n, fn] of pending) byCaller.set(label(fn), (byCaller.get(label(fn)) ?? 0) + n / requests);
        out.set(label(self[1]), byCaller);
      }
      pending = [];
    } else if (line.trim() === '') pending = [];
  }
  return out;
}

(async () => {
  const scripts = serverScripts('node bench/instructions.js <server.js> [<server.js> …] [--warm N] [--requests N] [--top N] [--cache-sim] [--callers PATTERN] [--keep]', ['--cache-sim', '--keep']);
  const cacheSim = process.argv.includes('--cache-sim');
  const opts = { warm: arg('warm', 4000), requests: arg('requests', 4000), dir: fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-cg-')), cacheSim };
  const results = await Promise.all(scripts.map((s) => count(s, opts)));
  const base = results[0];
  for (const r of results) {
    const misses = r.misses ? `  misses/request: ${Object.entries(r.misses).map(([level, n]) => `${level} ${Math.round(n).toLocaleString('en')}`).join(', ')}` : '';
    console.log(`${r.script.padEnd(36)} ${Math.round(r.perRequest).toLocaleString('en').padStart(10)} instructions/request  ratio ${(base.perRequest / r.perRequest).toFixed(3)}  (JIT compiler apart: ${Math.round(r.compile).toLocaleString('en')})${misses}${r.failed ? `  (${r.failed} responses ≥ 300!)` : ''}`);
  }
  const top = arg('top', 0);
  if (top > 0 && results.length > 1) {
    const a = functions(base, opts.requests, cacheSim);
    const none = levelsOf(cacheSim).map(() => 0);
    // Ranked by instructions, or with --cache-sim by misses of all levels.
    const rank = (v) => (cacheSim ? v[1] + v[2] + v[3] : v[0]);
    for (const r of results.slice(1)) {
      const b = functions(r, opts.requests, cacheSim);
      const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, a.get(k) ?? none, b.get(k) ?? none]).sort((x, y) => (rank(y[2]) - rank(y[1])) - (rank(x[2]) - rank(x[1])));
      const line = (x, y, label) => cacheSim
        ? `${y.map((v, i) => Math.round(v - x[i]).toString().padStart(i === 0 ? 8 : 6)).join(' ')}  ${label}`
        : `${Math.round(y[0] - x[0]).toString().padStart(8)} ${Math.round(x[0]).toString().padStart(8)} ${Math.round(y[0]).toString().padStart(8)}  ${label}`;
      const header = cacheSim ? 'growth of instructions, I1, D1 and L2 misses (per request)' : 'growth, baseline, this (instructions/request)';
      console.log(`\n${r.script} against ${base.script}: ${header}`);
      for (const [k, x, y] of rows.slice(0, top)) console.log(line(x, y, k.slice(0, 120)));
      const sums = new Map(CATEGORIES.map(([c]) => [c, [none.slice(), none.slice()]]));
      for (const [k, x, y] of rows) {
        const s = sums.get(CATEGORIES.find(([, re]) => re.test(k))[0]);
        x.forEach((v, i) => { s[0][i] += v; });
        y.forEach((v, i) => { s[1][i] += v; });
      }
      console.log(`\nby kind: ${header}`);
      for (const [c, [x, y]] of sums) console.log(line(x, y, c));
    }
  }
  const pattern = process.argv.indexOf('--callers');
  if (pattern !== -1) {
    const re = new RegExp(process.argv[pattern + 1]);
    for (const r of results) {
      for (const [fn, byCaller] of callers(r, opts.requests, re)) {
        console.log(`\n${r.script}: callers of ${fn} (instructions/request, inclusive)`);
        for (const [c, n] of [...byCaller].sort((x, y) => y[1] - x[1]).slice(0, arg('top', 20) || 20)) console.log(`${Math.round(n).toString().padStart(8)}  ${c.slice(0, 120)}`);
      }
    }
  }
  // --keep: the callgrind files stay, for callgrind_annotate by hand (e.g. `--tree=caller` a few levels up).
  if (process.argv.includes('--keep')) console.log(`\ncallgrind files kept in ${opts.dir} (perf maps: ${results.map((r) => r.map).join(', ')})`);
  else fs.rmSync(opts.dir, { recursive: true, force: true });
})().catch((e) => { console.error(`instructions failed: ${e.stack || e.message}`); process.exit(1); });
