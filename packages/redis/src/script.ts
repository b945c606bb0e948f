import { createHash } from 'node:crypto';
import type { RedisClient } from './client';

/** A Lua script run with EVALSHA, falling back to EVAL once when Redis does not know it yet. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/** Prepares a Lua script. */
export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Runs a script; every key it touches is passed in `keys` (so it is valid on Redis Cluster). */
export async function run(client: RedisClient, s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return client.eval(s.source, keys.length, ...keys, ...args);
    throw error;
  }
}
