'use strict';
/**
 * The benchmark runner: starts each target server in its own child process (so the load generator and the server do
 * not share a JavaScript thread), drives it with autocannon from this process, alternates baseline and subjects over
 * several rounds (A B C, B C A, …) so drift hits all alike, and reports medians and, for each target, the median,
 * range and 95 % bootstrap interval of its per-round ratio to the baseline. Never used by tests: performance is a
 * bench figure, not an assertion.
 */
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const autocannon = require('autocannon');
const { cpuMs } = require('./proc');
const { median, medianInterval } = require('./stats');

/**
 * With `BENCH_PIN=1` (and `taskset` on the machine), each server runs on CPU 0 and the load generator on CPU 1, so
 * the two never take time from each other; on a 2-core machine this removes most of the run-to-run noise.
 */
const PIN = process.env.BENCH_PIN === '1' && spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
if (PIN) spawnSync('taskset', ['-pc', '1', String(process.pid)]);

function startServer(script, env = {}, execArgv = []) {
  return new Promise((resolve, reject) => {
    const argv = [...execArgv, path.resolve(__dirname, '..', script)];
    const child = PIN
      ? spawn('taskset', ['-c', '0', process.execPath, ...argv], { env: { ...process.env, ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, argv, { env: { ...process.env, ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not start within 30 s`)); }, 30_000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      try { resolve({ child, info: JSON.parse(line) }); } catch (e) { child.kill('SIGKILL'); reject(e); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited with ${code}`)); });
  });
}

function load(info, { duration, connections }) {
  return new Promise((resolve, reject) => {
    autocannon({
      url: `http://127.0.0.1:${info.port}${info.path}`,
      method: info.method,
      headers: info.headers,
      body: info.body,
      duration,
      connections,
      pipelining: 1,
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * One round of every server at once (`--together`): each gets its own load generator for the same seconds, so each
 * round's ratio compares servers that shared the very same moments of the machine, and the CPU each server used in
 * the round is read from /proc.
 */
async function loadTogether(started, opts) {
  const before = started.map((s) => cpuMs(s.child.pid));
  const results = await Promise.all(started.map((s) => load(s.info, opts)));
  return results.map((res, i) => ({ res, cpuMs: cpuMs(started[i].child.pid) - before[i] }));
}

/** One round's figures of one server. */
function sample(res, cpu) {
  // The server's CPU per request it answered (µs): what the goal's ratio comes to when the CPU is what limits.
  const cpuUs = res.requests.total > 0 ? (cpu * 1000) / res.requests.total : NaN;
  return { rps: res.requests.average, p50: res.latency.p50, p99: res.latency.p99, non2xx: res.non2xx, errors: res.errors + res.timeouts, cpuUs };
}

/** Stops the servers of one set and waits until each has exited (SIGKILL after 5 s), so the next set runs alone. */
async function stopAll(started) {
  await Promise.all(started.map((s) => new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
    s.child.once('exit', () => { clearTimeout(timer); resolve(); });
    s.child.kill('SIGTERM');
  })));
}

/** Checks the rounds and processes of a run (`--rounds`, `--processes`); throws naming the option. */
function checkRounds({ rounds, processes = 1 }) {
  if (!Number.isInteger(rounds) || rounds < 1) throw new TypeError('bench: --rounds must be a positive integer');
  if (!Number.isInteger(processes) || processes < 1 || processes > rounds) throw new TypeError('bench: --processes must be an integer from 1 to --rounds');
}

/** Checks each `versus` of a scenario names another subject of it; throws naming the subject. */
function checkVersus(scenario) {
  const names = new Set(scenario.subjects.map((t) => t.name));
  for (const t of scenario.subjects) {
    if (t.versus === undefined) continue;
    if (!t.versus || !names.has(t.versus.target) || t.versus.target === t.name) throw new TypeError(`bench: ${scenario.name}: "${t.name}".versus.target must name another subject of the scenario`);
  }
}

/** Median requests/s and latencies of one target's rounds, and its non-2xx and error counts. */
function figures(xs) {
  return {
    rps: Math.round(median(xs.map((x) => x.rps))),
    p50: median(xs.map((x) => x.p50)),
    p99: median(xs.map((x) => x.p99)),
    non2xx: xs.reduce((a, x) => a + x.non2xx, 0),
    errors: xs.reduce((a, x) => a + x.errors, 0),
    cpuUs: Math.round(median(xs.map((x) => x.cpuUs)) * 10) / 10,
  };
}

/**
 * The median of per-round ratios, their range, and the 95 % bootstrap interval of the median (lib/stats.js), the sets
 * of processes (`sizes`) resampled as clusters: a goal inside the interval is not decided by this run. The rounds are
 * kept in latest.json, so a run can be judged again.
 */
function ratioSummary(ratios, sizes, isBaseline) {
  const interval = medianInterval(ratios, { clusters: sizes });
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    ratio: isBaseline ? 1 : r3(median(ratios)),
    ratioMin: r3(Math.min(...ratios)),
    ratioMax: r3(Math.max(...ratios)),
    ratioLow: r3(interval.low),
    ratioHigh: r3(interval.high),
    rounds: isBaseline ? undefined : ratios.map(r3),
    processes: isBaseline ? undefined : sizes, // how many of those rounds each set of processes ran
  };
}

/**
 * One target's rounds against a reference's, round by round (a target and its reference measured within seconds of
 * each other share the machine's state of that moment, which medians of whole runs do not cancel): the
 * {@link ratioSummary} of its throughput over the reference's, and as `cpu` that of the reference's CPU per request
 * over its own (`undefined` where the CPU could not be read: no /proc).
 */
function against(xs, reference, sizes, isBaseline) {
  const cpu = xs.map((x, r) => reference[r].cpuUs / x.cpuUs);
  return {
    ...ratioSummary(xs.map((x, r) => x.rps / reference[r].rps), sizes, isBaseline),
    cpu: cpu.every(Number.isFinite) ? ratioSummary(cpu, sizes, isBaseline) : undefined,
  };
}

/**
 * Runs one scenario: `{ name, goal, baseline: { name, script, env }, subjects: [{ name, script, env, goal?, versus? }] }`.
 * Returns rows with median requests/s, p50/p99 latency, non-2xx counts and the ratio to the baseline; for a subject
 * with `versus: { target, goal }`, one more row with its ratio to that other subject, round by round.
 *
 * With `processes` > 1 the rounds are split between that many fresh sets of server processes, each started and warmed
 * up anew. One process of a server can be luckier than another (where V8 laid out its code and heap, what it
 * compiled when): in one run the same server measured 0.884 in one scenario and 0.856 in another, and a pipeline with
 * two more rules 0.04 faster than the same pipeline without them, each beyond the other's interval. Rounds of one
 * process cannot show that; rounds spread over several can.
 *
 * With `together`, each round loads every server of the set at once instead of one after the other (see
 * {@link loadTogether}). Each row also carries `cpuUs`, the server's median CPU per request, and `cpu`, the summary of
 * its per-round CPU ratio to the baseline (the baseline's CPU per request over its own).
 */
async function runScenario(scenario, { duration = 8, rounds = 3, connections = 50, warmup = 2, processes = 1, together = false } = {}) {
  checkRounds({ rounds, processes });
  checkVersus(scenario);
  const targets = [scenario.baseline, ...scenario.subjects];
  const samples = new Map(targets.map((t) => [t.name, []]));
  let started = [];
  let r = 0;
  const sizes = [];
  try {
    for (let p = 0; p < processes; p++) {
      started = [];
      const first = r;
      for (const t of targets) started.push({ target: t, ...(await startServer(t.script, t.env)) });
      if (together) await loadTogether(started, { duration: warmup, connections });
      else for (const s of started) await load(s.info, { duration: warmup, connections });
      for (const end = Math.round(((p + 1) * rounds) / processes); r < end; r++) {
        if (together) {
          for (const [i, x] of (await loadTogether(started, { duration, connections })).entries()) samples.get(started[i].target.name).push(sample(x.res, x.cpuMs));
          continue;
        }
        // The order rotates each round, so no target always runs first or right after the same other one.
        for (const s of started.map((_, i) => started[(i + r) % started.length])) {
          const before = cpuMs(s.child.pid);
          const res = await load(s.info, { duration, connections });
          samples.get(s.target.name).push(sample(res, cpuMs(s.child.pid) - before));
        }
      }
      sizes.push(r - first);
      await stopAll(started);
    }
    const baseline = samples.get(scenario.baseline.name);
    const rows = targets.map((target) => {
      const isBaseline = target === scenario.baseline;
      const xs = samples.get(target.name);
      return {
        scenario: scenario.name,
        target: target.name,
        baseline: isBaseline,
        ...figures(xs),
        ...against(xs, baseline, sizes, isBaseline),
        goal: isBaseline ? undefined : 'goal' in target ? target.goal : scenario.goal, // a subject may opt out (`goal: undefined`)
      };
    });
    // A subject judged against another subject of the same run (`versus`), round by round: keyward's JWT pipeline
    // against a plain jose middleware, whose goal is "no slower", not a share of the bare server.
    for (const target of scenario.subjects) {
      if (!target.versus) continue;
      const peer = samples.get(target.versus.target);
      const xs = samples.get(target.name);
      rows.push({
        scenario: scenario.name,
        target: `${target.name} ÷ ${target.versus.target}`,
        baseline: false,
        versus: target.versus.target,
        ...figures(xs),
        ...against(xs, peer, sizes, false),
        goal: target.versus.goal,
      });
    }
    return rows;
  } finally {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  }
}

module.exports = { runScenario, checkRounds, checkVersus, startServer, load };
