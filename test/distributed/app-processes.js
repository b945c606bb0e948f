'use strict';
/**
 * Starts app-process.js children and talks to them (shared by the multi-process test and the bench).
 */
const { fork } = require('node:child_process');
const path = require('node:path');

/**
 * Forks one app process; resolves once it listens.
 * @returns {Promise<{ port: number, url: string, call(msg: object): Promise<any>, close(): Promise<void>, child: import('node:child_process').ChildProcess }>}
 */
function startApp(env) {
  const child = fork(path.join(__dirname, 'app-process.js'), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
    child.on('message', (msg) => {
      if (msg.fatal) return reject(new Error(msg.fatal));
      if (msg.ready) {
        resolve({
          port: msg.port,
          url: `http://127.0.0.1:${msg.port}`,
          child,
          call(m) {
            const n = ++seq;
            return new Promise((res, rej) => {
              pending.set(n, { res, rej });
              child.send({ ...m, seq: n });
            });
          },
          close() {
            return new Promise((res) => {
              if (child.exitCode !== null) return res();
              child.removeAllListeners('exit');
              child.once('exit', () => res());
              child.send({ cmd: 'close' });
              setTimeout(() => child.kill('SIGKILL'), 3000).unref();
            });
          },
        });
        return;
      }
      const p = pending.get(msg.reply);
      if (!p) return;
      pending.delete(msg.reply);
      if (msg.error) p.rej(new Error(msg.error));
      else p.res(msg);
    });
  });
}

module.exports = { startApp };
