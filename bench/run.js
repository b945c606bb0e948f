#!/usr/bin/env node
'use strict';
/**
 * `node bench/run.js [scenario …] [--duration S] [--rounds N] [--processes P] [--connections C] [--together]`
 * (`--help`: usage; `--together` loads a scenario's servers at once, for comparing two builds, not for goals)
 * Runs the named scenarios (default: all in bench/scenarios), prints a Markdown table of requests/s, latency and the
 * ratio against the bare server of the same run (the median of the rounds' ratios, its 95 % bootstrap interval and
 * the verdict against the goal: met, not met, or undecided by this run), and writes bench/results/latest.json.
 * Needs built packages (`npm run build`).
 */
const fs = require('node:fs');
const path = require('node:path');
const { checkRounds, runScenario } = require('./lib/runner');
const { parseRunArgs, USAGE } = require('./lib/cli');
const { verdict } = require('./lib/stats');


async function main() {
  const dir = path.join(__dirname, 'scenarios');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  const parsed = parseRunArgs(process.argv.slice(2), files.map((f) => f.replace(/\.js$/, '')));
  if (parsed.help) return console.log(USAGE);
  const { opts } = parsed;
  const chosen = parsed.scenarios.map((n) => `${n}.js`);
  checkRounds(opts); // before any server starts, so a bad value fails once rather than once per scenario
  const rows = [];
  const failed = [];
  for (const f of chosen) {
    const scenario = require(path.join(dir, f));
    process.stderr.write(`bench: ${scenario.name} …\n`);
    // One scenario that cannot start (a server script that throws) is reported, and the others still run.
    try {
      rows.push(...(await runScenario(scenario, opts)));
    } catch (e) {
      failed.push({ scenario: scenario.name, error: e.message });
      process.stderr.write(`bench: ${scenario.name} failed: ${e.message}\n`);
    }
  }
  const lines = ['| scenario | target | req/s | p50 ms | p99 ms | non-2xx | ratio | 95 % interval | rounds\' range | goal | verdict | CPU µs/request | CPU ratio (95 %) |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|'];
  for (const r of rows) {
    const range = (lo, hi) => (r.baseline ? '' : `${lo.toFixed(3)}–${hi.toFixed(3)}`);
    const goal = r.goal !== undefined ? `≥ ${r.goal}` : '';
    const cpu = r.cpu && !r.baseline ? `${r.cpu.ratio.toFixed(3)} (${range(r.cpu.ratioLow, r.cpu.ratioHigh)})` : '';
    lines.push(`| ${r.scenario} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.ratio.toFixed(3)} | ${range(r.ratioLow, r.ratioHigh)} | ${range(r.ratioMin, r.ratioMax)} | ${goal} | ${verdict({ low: r.ratioLow, high: r.ratioHigh }, r.goal, r.rounds?.length)} | ${r.versus || !Number.isFinite(r.cpuUs) ? '' : r.cpuUs} | ${cpu} |`);
  }
  console.log(lines.join('\n'));
  for (const f of failed) console.log(`\n${f.scenario}: FAILED (${f.error})`);
  if (failed.length) process.exitCode = 1;
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'latest.json'), JSON.stringify({ when: new Date().toISOString(), node: process.version, pinned: process.env.BENCH_PIN === '1', options: opts, rows, failed }, null, 2) + '\n');
}

main().catch((e) => { console.error(e instanceof TypeError ? e.message : `bench failed: ${e.stack || e.message}`); process.exit(1); });
