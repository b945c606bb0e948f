'use strict';
/**
 * What the standalone measuring scripts share (`server-cpu.js`, `server-syscalls.js`): their `--name value` options,
 * a bench server started as a child process, and a fixed number of keep-alive requests sent to it.
 */
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');

/** The number after `--name` on the command line, or `fallback`. */
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** The server script named first on the command line; throws `usage` when there is none. */
function serverScript(usage) {
  const script = process.argv[2];
  if (!script || script.startsWith('--')) throw new Error(`usage: ${usage}`);
  return script;
}

/**
 * Every server script on the command line: the arguments that are neither options nor an option's value. `switches`
 * are the options that take no value (e.g. `--cache-sim`). Throws `usage` when there is none.
 */
function serverScripts(usage, switches = []) {
  const takesValue = (a) => a !== undefined && a.startsWith('--') && !switches.includes(a);
  const scripts = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !takesValue(all[i - 1]));
  if (scripts.length === 0) throw new Error(`usage: ${usage}`);
  return scripts;
}

/**
 * Starts `script` (relative to bench/) as a child process, pinned to CPU 0 with `taskset` when `pin`, with Node's
 * `nodeArgs` before it, and calls `ready(info, child, lines)` with the JSON line it prints (`lib/serve.js`; lines before
 * it, such as `--trace-gc-nvp` output, are skipped) and its later stdout `lines` (a readline interface). The exit
 * status becomes 1 if the server fails.
 */
function startServer(script, { pin = false, nodeArgs = [] } = {}, ready) {
  const argv = [process.execPath, ...nodeArgs, path.resolve(__dirname, '..', script)];
  const [command, ...args] = pin ? ['taskset', '-c', '0', ...argv] : argv;
  const child = spawn(command, args, { env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.once('exit', (code) => { if (code) process.exitCode = 1; });
  const lines = readline.createInterface({ input: child.stdout });
  const first = (line) => {
    if (!line.startsWith('{')) return;
    lines.off('line', first);
    ready(JSON.parse(line), child, lines);
  };
  lines.on('line', first);
  return child;
}

/** Sends `count` requests as the server asked (`info`), over `connections` keep-alive connections, each waiting for its answer. */
async function sendRequests(info, count, connections) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let sent = 0;
  const one = () => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: info.port, path: info.path, method: info.method, headers: info.headers, agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(info.body);
  });
  await Promise.all(Array.from({ length: connections }, async () => { while (sent < count) { sent++; await one(); } }));
  agent.destroy();
}

module.exports = { arg, serverScript, serverScripts, startServer, sendRequests };
