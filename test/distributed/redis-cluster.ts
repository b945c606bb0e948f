/**
 * A throwaway Redis Cluster for one test file: three masters (no replicas) on spare loopback ports, in a temporary
 * directory, no persistence. Started with `redis-server --cluster-enabled yes` and joined with
 * `redis-cli --cluster create`; `stop()` kills every process and removes the directory (safe to call at any point,
 * also after a failed start).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test cluster, made by {@link testCluster}. */
export interface TestCluster {
  /** The masters' ports once started (each also uses port + 10000 for the cluster bus). */
  readonly ports: readonly number[];
  /** Starts three masters and resolves once `cluster info` reports `cluster_state:ok` on every node. */
  start(): Promise<void>;
  /** Kills every redis-server and removes the temporary directory. Idempotent; safe after a failed start. */
  stop(): Promise<void>;
}

/**
 * Throws, naming the binary, when `redis-server` or `redis-cli` is not on the PATH: the cluster tests must not pass
 * by skipping.
 */
export function requireRedisBinaries(): void {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) {
      throw new Error(`keyward cluster tests: the "${bin}" binary was not found on the PATH; install Redis (>= 7) to run test/distributed/cluster.test.ts`);
    }
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `count` distinct ports ≥ 30000 whose cluster bus port (port + 10000) is free too. */
async function sparePorts(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let attempt = 0; attempt < 500 && out.length < count; attempt++) {
    const p = 30000 + Math.floor(Math.random() * 20000);
    if (out.some((q) => Math.abs(q - p) < 2)) continue;
    if ((await portFree(p)) && (await portFree(p + 10000))) out.push(p);
  }
  if (out.length < count) throw new Error('keyward cluster tests: no spare ports found in 30000–49999');
  return out;
}

function cli(args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', [...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.slice(0, 4).join(' ')} failed: ${error.message} ${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}

async function until(what: string, probe: () => Promise<boolean>, withinMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    if (Date.now() - started > withinMs) throw new Error(`keyward cluster tests: ${what} not reached within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A cluster handle; nothing runs until `start()`. */
export function testCluster(): TestCluster {
  let dir: string | undefined;
  const children: ChildProcess[] = [];
  let ports: number[] = [];
  const killAllSync = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };

  async function start(): Promise<void> {
    requireRedisBinaries();
    process.once('exit', killAllSync); // a worker torn down mid-run leaves no redis-server behind
    dir = mkdtempSync(join(tmpdir(), 'keyward-cluster-'));
    ports = await sparePorts(3);
    for (const port of ports) {
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no',
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000',
        '--save', '', '--appendonly', 'no', '--dir', dir,
      ], { stdio: 'ignore' });
      children.push(child);
    }
    for (const port of ports) await until(`redis-server on port ${port} answering PING`, async () => (await cli(['-p', String(port), 'ping'], 2000)).trim() === 'PONG', 10_000);
    await cli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], 30_000);
    for (const port of ports) {
      await until(`cluster_state:ok on port ${port}`, async () => {
        const info = await cli(['-p', String(port), 'cluster', 'info'], 2000);
        return /cluster_state:ok/.test(info) && /cluster_known_nodes:3\b/.test(info) && /cluster_slots_ok:16384\b/.test(info);
      }, 20_000);
    }
  }

  async function stop(): Promise<void> {
    process.off('exit', killAllSync);
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    })));
    children.length = 0;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  }

  return {
    get ports() {
      return ports;
    },
    start,
    stop,
  };
}
