'use strict';
/**
 * `node bench/diff-profile.js [bare-server] [subject-server]`: CPU-profiles a bare server and a keyward server under the
 * same load (pinned with taskset when available) and prints, per function, the CPU microseconds per request each spends
 * and the difference — the extra cost of keyward, function by function. Profiling inflates absolute times; compare rows.
 */
process.env.BENCH_PIN = '1';
const { startServer, load } = require('./lib/runner');
const fs = require('fs');
async function prof(script, dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  const s = await startServer(script, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const r = await load(s.info, { duration: 6, connections: 50 });
  s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 2000));
  const f = fs.readdirSync(dir)[0];
  const p = JSON.parse(fs.readFileSync(`${dir}/${f}`));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  p.samples.forEach((id, i) => { const n = byId.get(id); const cf = n.callFrame; const k = `${cf.functionName} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`; self.set(k, (self.get(k) || 0) + (p.timeDeltas[i] || 0)); });
  return { reqs: r.requests.total, self };
}
(async () => {
  const a = await prof(process.argv[2] || 'servers/express-bare.js', '/tmp/keyward-prof-a');
  const b = await prof(process.argv[3] || 'servers/express-keyward.js', '/tmp/keyward-prof-b');
  const keys = new Set([...a.self.keys(), ...b.self.keys()]);
  const rows = [...keys].map((k) => [k, (a.self.get(k) || 0) / a.reqs, (b.self.get(k) || 0) / b.reqs]);
  rows.sort((x, y) => (y[2] - y[1]) - (x[2] - x[1]));
  let ta = 0, tb = 0; for (const r of rows) { if (!r[0].startsWith('(idle)')) { ta += r[1]; tb += r[2]; } }
  console.log('µs/request (non-idle): bare', ta.toFixed(1), 'keyward', tb.toFixed(1), 'requests', a.reqs, b.reqs);
  for (const r of rows.slice(0, 30)) console.log((r[2] - r[1]).toFixed(2).padStart(7), r[1].toFixed(2).padStart(7), r[2].toFixed(2).padStart(7), r[0]);
})();
