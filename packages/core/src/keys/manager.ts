import { safeEqual as safeHashEqual } from '../util/time-safe';
import { randomBase62 } from '../util/base62';
import { KeywardError } from '../errors';
import type { EventBus } from '../events/bus';
import type { Clock } from '../util/clock';
import type { LruCache } from '../util/lru';
import { parseDuration } from '../util/duration';
import { isValidScope } from '../scopes/expression';
import type { KeyStore, Page } from '../stores/key-store';
import type { InvalidationChannel } from '../stores/invalidation';
import { generateKey, isValidEnv, keyHint, parseKey, type KeyFormat } from './format';
import type { KeyHasher } from './hash';
import { toKeyInfo, type KeyInfo, type KeyPatch, type KeyRecord } from './record';
import type { KeyRestrictions } from '../restrictions/types';
import type { KeyLimitOverrides } from '../limits/types';

/** What `keys.create` takes. */
export interface CreateKeyInput {
  /** Who the key belongs to (account, team, client id). Required. */
  owner: string;
  /** Human name, e.g. `CI deploy key`. */
  name?: string;
  /** Scopes granted (exact or `users:*` / `*`). Default none. */
  scopes?: readonly string[];
  /** Absolute expiry (Date or ms since epoch). */
  expiresAt?: Date | number;
  /** Lifetime from now (ms or `'90d'`). Exclusive with `expiresAt`. */
  expiresIn?: number | string;
  /** Free-form JSON metadata. */
  metadata?: Record<string, unknown>;
  /** Environment label in the key (`live`, `test`, …). Default from the options. */
  env?: string;
  /** Plan tier. */
  plan?: string;
  /** Restrictions (IP, referrer, …). */
  restrictions?: KeyRestrictions;
  /** Per-key limit overrides. */
  limits?: KeyLimitOverrides;
}

/** What `keys.create` returns: the plaintext, shown once, and the record without its hash. */
export interface CreatedKey {
  /** The plaintext key. Shown once; keyward cannot recover it. */
  readonly key: string;
  readonly record: KeyInfo;
}

/** What `keys.update` may change. */
export interface UpdateKeyInput {
  name?: string;
  scopes?: readonly string[];
  plan?: string | null;
  restrictions?: KeyRestrictions | null;
  limits?: KeyLimitOverrides | null;
  metadata?: Record<string, unknown>;
  expiresAt?: Date | number | null;
}

/** Dependencies of the key manager, built by `createKeyward`. */
export interface KeyManagerDeps {
  readonly store: KeyStore;
  readonly hasher: KeyHasher;
  readonly format: KeyFormat;
  readonly defaultEnv: string;
  readonly clock: Clock;
  readonly cache: LruCache<string, KeyRecord>;
  readonly events: EventBus;
  readonly invalidation?: InvalidationChannel;
}

const MAX_OWNER = 256;

function checkString(value: unknown, name: string, max = 256): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new TypeError(`keyward: "${name}" must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

function checkScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw new TypeError('keyward: "scopes" must be an array of scope strings');
  for (const s of scopes) if (!isValidScope(s)) throw new TypeError(`keyward: "scopes" contains an invalid scope: ${JSON.stringify(String(s)).slice(0, 80)}`);
  return [...new Set(scopes as string[])];
}

function checkObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`keyward: "${name}" must be a plain object`);
  try {
    return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  } catch {
    throw new TypeError(`keyward: "${name}" must be JSON-serialisable`);
  }
}

function toTime(value: Date | number, name: string): number {
  const t = value instanceof Date ? value.getTime() : value;
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`keyward: "${name}" must be a Date or a time in ms since the epoch`);
  return t;
}

/**
 * Creates, finds, changes and retires keys. Every change drops the key from this instance's cache at once and is
 * published to the others through the invalidation channel, when there is one.
 *
 * @example
 * ```ts
 * const { key, record } = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], expiresIn: '90d' });
 * console.log(key); // shown once
 * await kw.keys.revoke(record.id, { reason: 'leaked' });
 * ```
 */
export class KeyManager {
  constructor(protected readonly deps: KeyManagerDeps) {}

  /** Generates a key from the CSPRNG, stores its hash, and returns the plaintext once. */
  async create(input: CreateKeyInput): Promise<CreatedKey> {
    if (typeof input !== 'object' || input === null) throw new TypeError('keyward: keys.create() takes an options object');
    const now = this.deps.clock();
    const owner = checkString(input.owner, 'owner', MAX_OWNER);
    const env = input.env ?? this.deps.defaultEnv;
    if (!isValidEnv(env)) throw new TypeError('keyward: "env" must be 1–16 lower-case letters or digits');
    if (input.expiresAt !== undefined && input.expiresIn !== undefined) throw new TypeError('keyward: give "expiresAt" or "expiresIn", not both');
    let expiresAt: number | undefined;
    let lifetimeMs: number | undefined;
    if (input.expiresAt !== undefined) {
      expiresAt = toTime(input.expiresAt, 'expiresAt');
      if (expiresAt <= now) throw new TypeError('keyward: "expiresAt" must be in the future');
    } else if (input.expiresIn !== undefined) {
      lifetimeMs = parseDuration(input.expiresIn, 'expiresIn');
      if (lifetimeMs <= 0) throw new TypeError('keyward: "expiresIn" must be positive');
      expiresAt = now + lifetimeMs;
    }
    const key = generateKey(this.deps.format, env);
    const parsed = parseKey(key, this.deps.format)!;
    const record: KeyRecord = {
      id: `key_${randomBase62(16)}`,
      hash: this.deps.hasher.hash(key),
      hashVersion: this.deps.hasher.version,
      hint: keyHint(key, parsed),
      prefix: parsed.prefix,
      env,
      owner,
      ...(input.name !== undefined ? { name: checkString(input.name, 'name') } : {}),
      scopes: input.scopes === undefined ? [] : checkScopes(input.scopes),
      ...(input.plan !== undefined ? { plan: checkString(input.plan, 'plan', 64) } : {}),
      ...(input.restrictions !== undefined ? { restrictions: checkObject(input.restrictions, 'restrictions') } : {}),
      ...(input.limits !== undefined ? { limits: checkObject(input.limits, 'limits') } : {}),
      status: 'active',
      createdAt: now,
      updatedAt: now,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      metadata: input.metadata === undefined ? {} : checkObject(input.metadata, 'metadata'),
    };
    await this.deps.store.create(record);
    this.deps.events.emit({ type: 'key.created', keyId: record.id, hint: record.hint, owner });
    return { key, record: toKeyInfo(record) };
  }

  /** The key with this id, without its hash. */
  async get(id: string): Promise<KeyInfo | undefined> {
    const r = await this.deps.store.get(checkString(id, 'id'));
    return r && toKeyInfo(r);
  }

  /** Keys, optionally of one owner, a page at a time (ordered by id). */
  async list(query: { owner?: string; limit?: number; cursor?: string } = {}): Promise<Page<KeyInfo>> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError('keyward: "limit" must be an integer from 1 to 1000');
    const page = await this.deps.store.list({
      limit,
      ...(query.owner !== undefined ? { owner: checkString(query.owner, 'owner', MAX_OWNER) } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
    return page.nextCursor === undefined ? { items: page.items.map(toKeyInfo) } : { items: page.items.map(toKeyInfo), nextCursor: page.nextCursor };
  }

  /** Changes a key's name, scopes, plan, restrictions, limits, metadata or expiry; takes effect at once. */
  async update(id: string, input: UpdateKeyInput): Promise<KeyInfo> {
    const patch: KeyPatch = { updatedAt: this.deps.clock() };
    if (input.name !== undefined) patch.name = checkString(input.name, 'name');
    if (input.scopes !== undefined) patch.scopes = checkScopes(input.scopes);
    if (input.plan !== undefined) patch.plan = input.plan === null ? undefined : checkString(input.plan, 'plan', 64);
    if (input.restrictions !== undefined) patch.restrictions = input.restrictions === null ? undefined : checkObject(input.restrictions, 'restrictions');
    if (input.limits !== undefined) patch.limits = input.limits === null ? undefined : checkObject(input.limits, 'limits');
    if (input.metadata !== undefined) patch.metadata = checkObject(input.metadata, 'metadata');
    if (input.expiresAt !== undefined) patch.expiresAt = input.expiresAt === null ? undefined : toTime(input.expiresAt, 'expiresAt');
    const r = await this.change(id, patch);
    this.deps.events.emit({ type: 'key.updated', keyId: r.id, hint: r.hint, owner: r.owner });
    return toKeyInfo(r);
  }

  /** Revokes a key at once, on this instance and (through invalidation) on every other. */
  async revoke(id: string, options: { reason?: string } = {}): Promise<KeyInfo> {
    const now = this.deps.clock();
    const r = await this.change(id, { status: 'revoked', revokedAt: now, updatedAt: now, ...(options.reason !== undefined ? { revokedReason: checkString(options.reason, 'reason', 500) } : {}) });
    this.deps.events.emit({ type: 'key.revoked', keyId: r.id, hint: r.hint, owner: r.owner, ...(options.reason !== undefined ? { reason: options.reason } : {}) });
    return toKeyInfo(r);
  }

  /** Disables a key until {@link KeyManager.enable}. */
  async disable(id: string, options: { reason?: string } = {}): Promise<KeyInfo> {
    const current = await this.require(id);
    if (current.status === 'revoked') throw new KeywardError('INVALID_ARGUMENT', `key ${id} is revoked and cannot be disabled`);
    const r = await this.change(id, { status: 'disabled', updatedAt: this.deps.clock(), ...(options.reason !== undefined ? { disabledReason: checkString(options.reason, 'reason', 500) } : {}) });
    this.deps.events.emit({ type: 'key.disabled', keyId: r.id, hint: r.hint, owner: r.owner, ...(options.reason !== undefined ? { reason: options.reason } : {}) });
    return toKeyInfo(r);
  }

  /** Enables a disabled key. A revoked key stays revoked. */
  async enable(id: string): Promise<KeyInfo> {
    const current = await this.require(id);
    if (current.status === 'revoked') throw new KeywardError('INVALID_ARGUMENT', `key ${id} is revoked and cannot be enabled`);
    const r = await this.change(id, { status: 'active', disabledReason: undefined, updatedAt: this.deps.clock() });
    this.deps.events.emit({ type: 'key.enabled', keyId: r.id, hint: r.hint, owner: r.owner });
    return toKeyInfo(r);
  }

  /** Deletes a key record. Prefer {@link KeyManager.revoke}, which keeps the audit trail. */
  async delete(id: string): Promise<boolean> {
    const r = await this.deps.store.get(checkString(id, 'id'));
    if (!r) return false;
    const ok = await this.deps.store.delete(id);
    await this.invalidate(r);
    if (ok) this.deps.events.emit({ type: 'key.deleted', keyId: r.id, hint: r.hint, owner: r.owner });
    return ok;
  }

  /**
   * Looks a presented key up: shape and checksum first (no store call for garbage), then the cache, then the store.
   * Returns the record or `undefined`. Used by the pipeline; compares hashes in constant time.
   */
  async lookup(presented: string): Promise<KeyRecord | undefined> {
    const { hasher, cache, store } = this.deps;
    for (const version of hasher.lookupVersions) {
      const hash = hasher.hash(presented, version);
      let record = cache.get(hash);
      if (!record) {
        record = await store.findByHash(hash);
        if (record) cache.set(hash, record);
      }
      if (record && record.hashVersion === version && safeHashEqual(record.hash, hash)) return record;
    }
    return undefined;
  }

  /** True when `value` passes the key format's prefix and checksum test. */
  isWellFormed(value: string): boolean {
    return parseKey(value, this.deps.format) !== undefined;
  }

  /** Fetches a record or fails with `KEY_NOT_FOUND`. */
  protected async require(id: string): Promise<KeyRecord> {
    const r = await this.deps.store.get(checkString(id, 'id'));
    if (!r) throw new KeywardError('KEY_NOT_FOUND', `no key with id ${id}`);
    return r;
  }

  /** Patches a record, then drops it from every cache. */
  protected async change(id: string, patch: KeyPatch): Promise<KeyRecord> {
    const r = await this.deps.store.update(checkString(id, 'id'), patch);
    if (!r) throw new KeywardError('KEY_NOT_FOUND', `no key with id ${id}`);
    await this.invalidate(r);
    return r;
  }

  /** Drops a record from this instance's cache and tells the other instances. */
  protected async invalidate(record: KeyRecord): Promise<void> {
    this.deps.cache.delete(record.hash);
    this.deps.cache.deleteWhere((r) => r.id === record.id);
    if (this.deps.invalidation) {
      try {
        await this.deps.invalidation.publish({ id: record.id, hash: record.hash });
      } catch (error) {
        this.deps.events.emit({ type: 'store.error', keyId: record.id, reason: 'INVALIDATION_PUBLISH_FAILED', data: { message: error instanceof Error ? error.message : 'unknown' } });
      }
    }
  }
}
