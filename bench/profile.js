'use strict';
/**
 * `node bench/profile.js [servers/<script>.js]`: runs one bench server under --cpu-prof (profile in /tmp/prof) with 6 s of load,
 * to find what a pipeline spends its time on.
 */
const { startServer, load } = require('./lib/runner');
(async () => {
  const s = await startServer(process.argv[2] || 'servers/express-keyward.js', {}, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']);
  await load(s.info, { duration: 6, connections: 50 });
  s.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
})();
