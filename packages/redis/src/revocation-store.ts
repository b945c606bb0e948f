import { checkRevocation, fieldsOf, refuseUnknownInput, type RevocationStore } from '@keyward/core';
import { checkClient, checkPrefix, warnIfEvictingRevocations, warnIfOfflineQueue, type RedisClient } from './client';
import { run, script } from './script';

/** Options of {@link RedisRevocationStore}. */
export interface RedisRevocationStoreOptions {
  /** An ioredis client (standalone or Cluster). Never closed by the store. */
  client: RedisClient;
  /** Key prefix: entries are `<prefix>:revoked:<jti>` (no hash tag: they spread over a Cluster). Default `keyward`. */
  prefix?: string;
  /**
   * Extra time an entry is kept past `untilMs`, in ms (default 60 s, at most one year), so that clocks a little apart
   * never see a revoked token as valid before it has expired.
   */
  graceMs?: number;
}

/** Largest `graceMs`, one year: beyond it the Redis expiry (`PX`) stops being an integer Redis accepts, and every revoke fails. */
const MAX_GRACE_MS = 365 * 86_400_000;

/** Every field of {@link RedisRevocationStoreOptions}. */
const OPTIONS = fieldsOf<RedisRevocationStoreOptions>({ client: true, prefix: true, graceMs: true });

// Keeps the later of two revocation times; expires the entry `grace` ms after it no longer matters.
const REVOKE = script(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if cur >= untilMs then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);

/**
 * The Redis {@link RevocationStore}: one string per revoked token id holding the time until which it is revoked, with
 * a Redis expiry, so the list cleans itself.
 */
export class RedisRevocationStore implements RevocationStore {
  private readonly client: RedisClient;
  private readonly prefix: string;
  private readonly graceMs: number;

  constructor(options: RedisRevocationStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('keyward: RedisRevocationStore takes an options object');
    refuseUnknownInput(options, OPTIONS, 'RedisRevocationStore()');
    this.client = checkClient(options.client, 'client');
    warnIfOfflineQueue(this.client, 'RedisRevocationStore');
    this.prefix = checkPrefix(options.prefix, 'prefix', 'keyward');
    this.graceMs = options.graceMs ?? 60_000;
    if (!Number.isInteger(this.graceMs) || this.graceMs < 0 || this.graceMs > MAX_GRACE_MS) throw new TypeError('keyward: option "graceMs" must be an integer from 0 to 31,536,000,000 (one year)');
    warnIfEvictingRevocations(this.client, 'RedisRevocationStore');
  }

  private key(jti: string): string {
    return `${this.prefix}:revoked:${jti}`;
  }

  /**
   * Stores the revocation with a Redis expiry `graceMs` after `untilMs`, counted from `nowMs` — keyward's clock, which
   * keyward passes (the machine's when absent) — so that Redis does not drop the entry while keyward's clock still
   * has the token valid.
   */
  async revoke(jti: string, untilMs: number, nowMs?: number): Promise<void> {
    checkRevocation(jti, untilMs);
    const now = typeof nowMs === 'number' && Number.isFinite(nowMs) ? nowMs : Date.now();
    const ttl = Math.max(0, Math.ceil(untilMs - now)) + this.graceMs + 1;
    await run(this.client, REVOKE, [this.key(jti)], [Math.ceil(untilMs), ttl]);
  }

  async isRevoked(jti: string, nowMs: number): Promise<boolean> {
    if (typeof jti !== 'string') return false; // no revocation names it (`undefined` would read the entry of the id "undefined")
    const v = await this.client.get(this.key(jti));
    return v !== null && Number(v) > nowMs;
  }
}
