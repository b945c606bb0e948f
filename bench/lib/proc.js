'use strict';
/**
 * CPU time from Linux's /proc, for the bench scripts that report a server's CPU per request (`lib/runner.js`,
 * `server-cpu.js`, `server-syscalls.js`): one reader of the `stat` format, in milliseconds.
 */
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

/** Clock ticks per second, the unit of /proc's CPU times. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** User and system CPU time (ms) in the text of a `/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat` file. */
function statCpuMs(text) {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' '); // after the command name, which may hold spaces
  return { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS }; // fields 14 and 15
}

/** CPU time (ms, user + system, all threads) the process `pid` has used so far; `NaN` where there is none. */
function cpuMs(pid) {
  try {
    const { user, system } = statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return user + system;
  } catch {
    return NaN;
  }
}

module.exports = { cpuMs, statCpuMs };
