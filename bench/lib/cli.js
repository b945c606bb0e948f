'use strict';
/**
 * `run.js`'s command line, read strictly: a bench run takes up to half an hour, so a typo (`--round 24`, `exprss`) or
 * `--help` must not start one with defaults in its place.
 */

const USAGE = `usage: node bench/run.js [scenario …] [--duration S] [--rounds N] [--processes P] [--connections C] [--together]

Runs the named scenarios (default: every one in bench/scenarios) and writes bench/results/latest.json.
  --duration S     seconds of load per round (default 8)
  --rounds N       rounds per target, alternated between targets (default 3)
  --processes P    fresh sets of server processes the rounds are split between (default 1)
  --connections C  concurrent connections (default 50)
  --together       each round loads all the servers of a scenario at once, on the same CPU, instead of in turn
Judged runs: BENCH_PIN=1 node bench/run.js --duration 2 --rounds 24 --processes 4`;

const DEFAULTS = { duration: 8, rounds: 3, processes: 1, connections: 50 };
const SWITCHES = ['together'];

/**
 * Reads `argv` (the arguments after the script) against the scenario names `available`. Returns `{ help: true }` for
 * `--help` or `-h`, otherwise `{ scenarios, opts }` with the chosen names (all when none is given), the numeric
 * options and `together` (a switch, false unless given). Throws a `TypeError` naming the first unknown option,
 * missing or non-positive value, or unknown scenario.
 */
function parseRunArgs(argv, available) {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const opts = { ...DEFAULTS, together: false };
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) {
      if (!available.includes(a)) throw new TypeError(`bench: no scenario "${a}"; there are: ${available.join(', ')}`);
      if (!names.includes(a)) names.push(a);
      continue;
    }
    const name = a.replace(/^--/, '');
    if (SWITCHES.includes(name) && a !== name) {
      opts[name] = true;
      continue;
    }
    if (!Object.hasOwn(DEFAULTS, name) || a === name) throw new TypeError(`bench: unknown option ${a} (--help lists them)`);
    const value = Number(argv[++i]);
    if (!(value > 0) || !Number.isFinite(value)) throw new TypeError(`bench: --${name} needs a positive number`);
    if (name === 'connections' && !Number.isInteger(value)) throw new TypeError('bench: --connections must be a positive integer');
    opts[name] = value;
  }
  return { scenarios: names.length ? names : available, opts };
}

module.exports = { parseRunArgs, USAGE };
