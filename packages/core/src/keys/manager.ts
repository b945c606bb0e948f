import { isDeepStrictEqual } from 'node:util';
import { safeEqual as safeHashEqual } from '../util/time-safe';
import { randomBase62 } from '../util/base62';
import { KeywardError } from '../errors';
import type { EventBus } from '../events/bus';
import type { Clock } from '../util/clock';
import type { LruCache } from '../util/lru';
import { MAX_DURATION_MS, parseDuration } from '../util/duration';
import { sha256 } from '../util/digest';
import { isPromise } from '../util/maybe';
import { warnOnce } from '../util/warn';
import { inGoodStanding } from './authenticator';
import type { KeyStore, Page, UpdateCondition } from '../stores/key-store';
import type { InvalidationChannel } from '../stores/invalidation';
import { generateKey, isValidEnv, isWellFormedKey, keyHint, parseKey, type KeyFormat } from './format';
import type { KeyHasher } from './hash';
import { toKeyInfo, type KeyInfo, type KeyNotices, type KeyPatch, type KeyRecord } from './record';
import { DEFAULT_KEY_POLICY, effectiveExpiry, type KeyPolicy } from './policy';
import { checkObject, checkScopes, checkString, checkText, MAX_METADATA_BYTES, MAX_OWNER, MAX_TIME, shownKeyId, toTime } from './validate';
import { importedIdentity, type ImportKeyInput } from './import';
import { dueFor, isLive, sweepActions, type DueKey, type DueQuery, type SweepReport } from './lifecycle';
import type { KeyRestrictions } from '../restrictions/types';
import { validateRestrictions } from '../restrictions/compile';
import type { KeyLimitOverrides } from '../limits/types';
import { refuseNearMiss, validateLimitOverrides, type LimitNames } from '../limits/config';
import { fieldsOf, refuseUnknownInput, type FieldNames } from '../config/fields';
import { failureMessage } from '../events/failure-message';

/** Tries of a status change whose condition another change of status beat (see `changeUnlessRevoked`). */
const STATUS_RETRIES = 5;

/** Passes of an incident revocation (`revokeOwner`, `revokeCreatedBefore`) over the keys, at most: see `revokeWhere`. */
const MAX_REVOKE_PASSES = 5;

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
  /**
   * Keep an encrypted copy of the plaintext so the owner can see it again with `keys.reveal(id)`. Needs a store with
   * encryption at rest (`RedisKeyStore` / `PostgresKeyStore` with an `encryption` option); default false.
   */
  recoverable?: boolean;
}

/** What `keys.create` returns: the plaintext, shown once, and the record without its hash. */
export interface CreatedKey {
  /** The plaintext key. Shown once; keyward cannot recover it. */
  readonly key: string;
  readonly record: KeyInfo;
}

/**
 * What `keys.update` may change. A field left out (or `undefined`) is left as it is; `null` removes the plan, the
 * restrictions, the limit overrides or the expiry (`restrictions: null`: the key has no restrictions of its own from
 * then on). `null` for any other field, and in `keys.create`, is a `TypeError` naming the field.
 */
export interface UpdateKeyInput {
  name?: string;
  scopes?: readonly string[];
  /** `null` removes the plan. */
  plan?: string | null;
  /** `null` removes the key's own restrictions (the global policy still applies). */
  restrictions?: KeyRestrictions | null;
  /** `null` removes the limit overrides. */
  limits?: KeyLimitOverrides | null;
  metadata?: Record<string, unknown>;
  /** `null` removes the expiry: the key no longer expires. */
  expiresAt?: Date | number | null;
}

const CREATE_NAMES = {
  owner: true, name: true, scopes: true, expiresAt: true, expiresIn: true, metadata: true, env: true, plan: true, restrictions: true, limits: true, recoverable: true,
} as const satisfies FieldNames<CreateKeyInput>;
const CREATE_FIELDS = fieldsOf<CreateKeyInput>(CREATE_NAMES);
const IMPORT_FIELDS = fieldsOf<ImportKeyInput>({ ...CREATE_NAMES, key: true, sha256: true, hint: true, createdAt: true });
const UPDATE_FIELDS = fieldsOf<UpdateKeyInput>({ name: true, scopes: true, plan: true, restrictions: true, limits: true, metadata: true, expiresAt: true });

/** Dependencies of the key manager, built by `createKeyward`. */
export interface KeyManagerDeps {
  readonly store: KeyStore;
  readonly hasher: KeyHasher;
  readonly format: KeyFormat;
  readonly defaultEnv: string;
  readonly clock: Clock;
  readonly cache: LruCache<string, KeyRecord>;
  /** Records by id, for {@link KeyManager.standing}; dropped with the look-up cache on every change. */
  readonly idCache?: LruCache<string, KeyRecord>;
  readonly events: EventBus;
  readonly invalidation?: InvalidationChannel;
  /** Lifecycle policy (default: no maximum age, 7-day warning lead, 24-hour rotation grace). */
  readonly policy?: KeyPolicy;
  /** The plan and limit names of the `limits` option: a key's plan or override that is a near miss of one is refused. */
  readonly limitNames?: LimitNames;
}

/** What `keys.rotate` takes. */
export interface RotateKeyOptions {
  /**
   * How long the old key keeps working (ms or `'24h'`; default `keyPolicy.gracePeriod`, 24 hours). `0` revokes it at
   * once. Meanwhile its responses carry `Deprecation` and `Sunset` headers.
   */
  gracePeriod?: number | string;
}

const ROTATE_FIELDS = fieldsOf<RotateKeyOptions>({ gracePeriod: true });
type OptionsOf<M extends 'list' | 'revoke' | 'revokeCreatedBefore'> = NonNullable<Parameters<KeyManager[M]>[M extends 'list' ? 0 : 1]>;
// Each call's options are checked with refuseUnknownInput: a misspelt filter must not widen what a call touches
// (`revokeCreatedBefore(date, { ownr: 'acme' })` would revoke every owner's keys, and `list({ ownr })` list them).
const LIST_FIELDS = fieldsOf<OptionsOf<'list'>>({ owner: true, limit: true, cursor: true });
const REASON_FIELDS = fieldsOf<OptionsOf<'revoke'>>({ reason: true });
const REVOKE_BEFORE_FIELDS = fieldsOf<OptionsOf<'revokeCreatedBefore'>>({ reason: true, owner: true });
const DUE_FIELDS = fieldsOf<DueQuery>({ maxAge: true, lead: true, owner: true });

/** What `keys.rotate` returns: the new key's plaintext (shown once) and record, and the old key's record. */
export interface RotatedKey extends CreatedKey {
  readonly previous: KeyInfo;
}

/** What the bulk revocations return. */
export interface RevokedKeys {
  /** Ids of the keys this call revoked (keys already revoked, also by another call running at once, are left alone and not listed). */
  readonly ids: string[];
}

const isDefined = (record: KeyRecord | undefined): boolean => record !== undefined;

/** Whether a store's or this manager's failure carries one of `codes` (a custom store's error may be any object). */
/** A key's environment: `given`, or `fallback` when it is left out; `null` and anything but 1–16 lower-case letters or digits are refused. */
function checkEnv(given: unknown, fallback: string): string {
  const env = given === undefined ? fallback : given; // null is refused, not the default
  if (typeof env !== 'string' || !isValidEnv(env)) throw new TypeError('keyward: "env" must be 1–16 lower-case letters or digits');
  return env;
}

const hasCode = (error: unknown, ...codes: string[]): boolean => codes.includes((error as { code?: unknown } | null)?.code as string);

/**
 * A rotated key's expiry: the old key's lifetime from `now` (kept as `lifetimeMs` for the next rotation, as `expiresIn`
 * keeps it). A lifetime longer than `expiresIn` takes (an absolute expiry set more than 100 years after creation,
 * which `expiresAt` allows) is carried as an absolute time, within what a Date holds, so such a key can still be
 * rotated.
 */
function successorExpiry(old: KeyRecord, now: number): Pick<KeyRecord, 'expiresAt' | 'lifetimeMs'> {
  const lifetimeMs = old.lifetimeMs ?? (old.expiresAt !== undefined ? old.expiresAt - old.createdAt : undefined);
  if (lifetimeMs === undefined || lifetimeMs <= 0) return {};
  return lifetimeMs <= MAX_DURATION_MS ? { expiresAt: now + lifetimeMs, lifetimeMs } : { expiresAt: Math.min(now + lifetimeMs, MAX_TIME) };
}

/** The fields of a key its successor is built from (see {@link successorOf}). */
const INHERITED = ['name', 'scopes', 'plan', 'restrictions', 'limits', 'metadata', 'expiresAt', 'lifetimeMs', 'createdAt'] as const satisfies readonly (keyof KeyRecord)[];

/**
 * The record of a key replacing `old`: its owner, name, scopes, plan, restrictions, limits and metadata as stored
 * (copies), an expiry of the same length from `now`, linked back to it.
 */
function successorOf(old: KeyRecord, identity: Pick<KeyRecord, 'hash' | 'hashVersion' | 'hint' | 'prefix' | 'env'>, now: number): KeyRecord {
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    id: `key_${randomBase62(16)}`,
    ...identity,
    owner: old.owner,
    ...(old.name !== undefined ? { name: old.name } : {}),
    scopes: [...old.scopes],
    ...(old.plan !== undefined ? { plan: old.plan } : {}),
    ...(old.restrictions !== undefined ? { restrictions: copy(old.restrictions) } : {}),
    ...(old.limits !== undefined ? { limits: copy(old.limits) } : {}),
    status: 'active',
    createdAt: now,
    updatedAt: now,
    ...successorExpiry(old, now),
    rotatedFrom: old.id,
    metadata: copy(old.metadata),
  };
}

/**
 * The look-up cache's key for a presented value: its SHA-256 as a 32-character binary string, whatever the storage
 * scheme. A cache hit then costs one SHA-256 of a short string even with a pepper (whose HMAC is computed only on a
 * miss), and the key is the cheapest string to build and to hash for the map. It is never stored or sent anywhere;
 * invalidation finds cached records by id.
 */
export function cacheKeyOf(presented: string): string {
  return sha256(presented, 'latin1');
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
  /**
   * Counts the invalidations, made here or heard from another instance. A store read that began before one is not
   * cached: it may hold the record as it was before the change (a revoked key still active), and caching it after the
   * invalidation would keep a revoked key working for the cache's TTL.
   */
  private generation = 0;

  constructor(protected readonly deps: KeyManagerDeps) {}

  /**
   * Drops a key from this instance's caches (or every key, without `id`), and keeps any store read already under way
   * from caching what it read. For changes made elsewhere: the invalidation channel's messages.
   */
  forget(id?: string): void {
    this.generation++;
    if (id === undefined) {
      this.deps.cache.clear();
      this.deps.idCache?.clear();
      return;
    }
    this.deps.cache.deleteWhere((r) => r.id === id); // the look-up cache is keyed by presented value, not stored hash
    this.deps.idCache?.delete(id);
  }

  /** The lifecycle policy in force (from the `keyPolicy` and `legacyKeys` options). */
  get policy(): KeyPolicy {
    return this.deps.policy ?? DEFAULT_KEY_POLICY;
  }

  /** Generates a key from the CSPRNG, stores its hash, and returns the plaintext once. */
  async create(input: CreateKeyInput): Promise<CreatedKey> {
    refuseUnknownInput(input, CREATE_FIELDS, 'keys.create()');
    return this.issue(input, {});
  }

  /** Generates a key and stores the record built from `input` plus `extra`, checked as `keys.create` checks it. */
  protected async issue(input: CreateKeyInput, extra: Partial<KeyRecord>): Promise<CreatedKey> {
    const now = this.deps.clock();
    const env = checkEnv(input.env, this.deps.defaultEnv);
    const recoverable = this.checkRecoverable(input.recoverable);
    return this.mint(env, recoverable, (identity) => this.build(input, now, { ...identity, ...extra }));
  }

  /** Generates a key of `env`, stores the record `make` builds around its hash fields, and returns the plaintext once. */
  private async mint(env: string, recoverable: boolean, make: (identity: Pick<KeyRecord, 'hash' | 'hashVersion' | 'hint' | 'prefix' | 'env'>) => KeyRecord): Promise<CreatedKey> {
    const key = generateKey(this.deps.format, env);
    const parsed = parseKey(key, this.deps.format)!;
    const built = make({ hash: this.deps.hasher.hash(key), hashVersion: this.deps.hasher.version, hint: keyHint(key, parsed), prefix: parsed.prefix, env });
    const record: KeyRecord = recoverable ? { ...built, sealed: { key } } : built;
    await this.insert(record, record.rotatedFrom !== undefined ? { rotatedFrom: record.rotatedFrom } : undefined);
    return { key, record: toKeyInfo(record) };
  }

  /** The `recoverable` option: a boolean, true only with a store that encrypts at rest. */
  private checkRecoverable(value: unknown): boolean {
    if (value !== undefined && typeof value !== 'boolean') throw new TypeError('keyward: "recoverable" must be a boolean');
    if (value === true && (this.deps.store as { encryptsAtRest?: boolean }).encryptsAtRest !== true) {
      throw new TypeError('keyward: "recoverable" keys need a store with encryption at rest (RedisKeyStore or PostgresKeyStore with an "encryption" option)');
    }
    return value === true;
  }

  /** Checks `input` and builds a record around a key's hash fields. Never mutates the input. */
  protected build(input: CreateKeyInput, now: number, identity: Pick<KeyRecord, 'hash' | 'hashVersion' | 'hint' | 'prefix' | 'env'> & Partial<KeyRecord>): KeyRecord {
    const owner = checkText(input.owner, 'owner', MAX_OWNER);
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
    return {
      id: `key_${randomBase62(16)}`,
      ...identity,
      owner,
      ...(input.name !== undefined ? { name: checkText(input.name, 'name') } : {}),
      scopes: input.scopes === undefined ? [] : checkScopes(input.scopes),
      ...(input.plan !== undefined ? { plan: this.checkPlan(input.plan) } : {}),
      ...(input.restrictions !== undefined ? { restrictions: validateRestrictions(checkObject(input.restrictions, 'restrictions')) } : {}),
      ...(input.limits !== undefined ? { limits: validateLimitOverrides(checkObject(input.limits, 'limits'), this.deps.limitNames?.limits, this.deps.limitNames?.fields) } : {}),
      status: 'active',
      createdAt: identity.createdAt ?? now,
      updatedAt: now,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      metadata: input.metadata === undefined ? {} : checkObject(input.metadata, 'metadata', MAX_METADATA_BYTES),
    };
  }

  /** Stores a new record and announces it. */
  protected async insert(record: KeyRecord, data?: Record<string, unknown>): Promise<void> {
    await this.deps.store.create(record);
    this.deps.events.emit({ type: 'key.created', keyId: record.id, hint: record.hint, owner: record.owner, ...(data ? { data } : {}) });
  }

  /**
   * Brings an existing key into keyward without reissuing it: plaintext (`key`) or its SHA-256 (`sha256`). Keys in
   * another format are flagged `legacy` — they authenticate only under the `legacyKeys` option and are always due
   * for rotation. The plaintext is hashed at once and never stored, unless `recoverable: true` asks for an encrypted
   * copy as `keys.create` keeps one (a store with encryption at rest, and the plaintext `key`, not its `sha256`).
   *
   * @example
   * ```ts
   * await kw.keys.import({ key: '9b1d…-uuid', owner: 'acme', scopes: ['docs:read'] });
   * await kw.keys.import({ sha256: 'e3b0c442…', owner: 'acme', hint: '…7f3a' });
   * ```
   * @throws TypeError for a bad input; `KeywardError` `KEY_CONFLICT` when the key is already stored
   */
  async import(input: ImportKeyInput): Promise<KeyInfo> {
    refuseUnknownInput(input, IMPORT_FIELDS, 'keys.import()');
    const now = this.deps.clock();
    const id = importedIdentity(input, this.deps.hasher, this.deps.format, this.policy);
    const env = checkEnv(input.env, id.env ?? this.deps.defaultEnv);
    // A keyward key carries its environment: another label would be recorded against it, and its rotation would issue
    // a key of that environment (a live key replaced by a test one).
    if (id.env !== undefined && env !== id.env) throw new TypeError(`keyward: "env" must be the key's own environment label, "${id.env}", or be left out`);
    let createdAt = now;
    if (input.createdAt !== undefined) {
      createdAt = toTime(input.createdAt, 'createdAt');
      if (createdAt > now) throw new TypeError('keyward: "createdAt" must not be in the future');
    }
    // Checked as keys.create checks it (it was ignored: the key was imported, and reveal() then had nothing to show).
    const recoverable = this.checkRecoverable(input.recoverable);
    if (recoverable && typeof input.key !== 'string') throw new TypeError('keyward: "recoverable" needs the plaintext "key"; a key imported by "sha256" cannot be revealed');
    const built = this.build(input, now, { hash: id.hash, hashVersion: id.hashVersion, hint: id.hint, prefix: id.prefix, env, createdAt, ...(id.legacy ? { legacy: true } : {}) });
    const record: KeyRecord = recoverable ? { ...built, sealed: { key: input.key } } : built;
    // The store refuses the same hash twice, but not the same key under another scheme (stored by its SHA-256 before,
    // or under a previous pepper): a second record would keep the key working after the first is revoked.
    if (typeof input.key === 'string' && (await this.storedUnderOtherScheme(input.key, record.hash))) {
      throw new KeywardError('KEY_CONFLICT', 'this key is already stored (under another hash scheme or pepper): rotate or revoke that record instead');
    }
    await this.insert(record, { imported: true, legacy: id.legacy });
    return toKeyInfo(record);
  }

  /**
   * Whether a record matches `presented` under a scheme look-up tries other than the one giving `hash` (a record of
   * that hash is the store's own conflict on create). No cache, no event.
   */
  private async storedUnderOtherScheme(presented: string, hash: string): Promise<boolean> {
    for (const lookup of this.deps.hasher.lookups) {
      const other = lookup.hash(presented);
      if (other === hash) continue;
      const record = await this.deps.store.findByHash(other);
      if (record && record.hashVersion === lookup.version && safeHashEqual(record.hash, other)) return true;
    }
    return false;
  }

  /**
   * The plaintext of a key created with `recoverable: true` (the store decrypts it), or `undefined` when the key is
   * not recoverable. Emits `key.revealed`. A revoked key, a rotated one past its grace period, or an expired one (its
   * expiry, or its maximum age under `keyPolicy.autoExpire`, reached by the injected clock) is never revealed: its
   * plaintext has no use left and showing it again only widens its exposure (a rotated key still in its grace period,
   * or a disabled one, is revealed: it works, or may again).
   * @throws KeywardError `KEY_NOT_FOUND`; `KEY_REVOKED` for a revoked key or a rotated one past its grace period;
   *   `KEY_EXPIRED` for an expired key
   */
  async reveal(id: string): Promise<string | undefined> {
    const r = await this.require(id);
    const now = this.deps.clock();
    if (r.status === 'revoked') throw new KeywardError('KEY_REVOKED', `key ${r.id} is revoked: its plaintext is not revealed`);
    const expiry = effectiveExpiry(r, this.policy);
    if (expiry !== undefined && expiry <= now) throw new KeywardError('KEY_EXPIRED', `key ${r.id} has expired: its plaintext is not revealed`);
    if (r.graceEndsAt !== undefined && r.graceEndsAt <= now) throw new KeywardError('KEY_REVOKED', `key ${r.id} was rotated and its grace period has ended: its plaintext is not revealed`);
    const key = (r.sealed as { key?: unknown } | undefined)?.key;
    if (typeof key !== 'string') return undefined;
    this.deps.events.emit({ type: 'key.revealed', keyId: r.id, hint: r.hint, owner: r.owner });
    return key;
  }

  /** The key with this id, without its hash. */
  async get(id: string): Promise<KeyInfo | undefined> {
    const r = await this.deps.store.get(checkString(id, 'id'));
    return r && toKeyInfo(r);
  }

  /** Keys, optionally of one owner, a page at a time (ordered by id). */
  async list(query: { owner?: string; limit?: number; cursor?: string } = {}): Promise<Page<KeyInfo>> {
    refuseUnknownInput(query, LIST_FIELDS, 'keys.list()');
    const limit = query.limit === undefined ? 100 : query.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TypeError('keyward: "limit" must be an integer from 1 to 1000');
    const page = await this.deps.store.list({
      limit,
      ...(query.owner !== undefined ? { owner: checkString(query.owner, 'owner', MAX_OWNER) } : {}),
      ...(query.cursor !== undefined ? { cursor: checkString(query.cursor, 'cursor') } : {}),
    });
    return page.nextCursor === undefined ? { items: page.items.map(toKeyInfo) } : { items: page.items.map(toKeyInfo), nextCursor: page.nextCursor };
  }

  /** Changes a key's name, scopes, plan, restrictions, limits, metadata or expiry; takes effect at once. */
  async update(id: string, input: UpdateKeyInput): Promise<KeyInfo> {
    refuseUnknownInput(input, UPDATE_FIELDS, 'keys.update()');
    const patch: KeyPatch = { updatedAt: this.deps.clock() };
    if (input.name !== undefined) patch.name = checkText(input.name, 'name');
    if (input.scopes !== undefined) patch.scopes = checkScopes(input.scopes);
    if (input.plan !== undefined) patch.plan = input.plan === null ? undefined : this.checkPlan(input.plan);
    if (input.restrictions !== undefined) patch.restrictions = input.restrictions === null ? undefined : validateRestrictions(checkObject(input.restrictions, 'restrictions'));
    if (input.limits !== undefined) patch.limits = input.limits === null ? undefined : validateLimitOverrides(checkObject(input.limits, 'limits'), this.deps.limitNames?.limits, this.deps.limitNames?.fields);
    if (input.metadata !== undefined) patch.metadata = checkObject(input.metadata, 'metadata', MAX_METADATA_BYTES);
    if (input.expiresAt !== undefined) {
      patch.expiresAt = input.expiresAt === null ? undefined : toTime(input.expiresAt, 'expiresAt');
      patch.lifetimeMs = undefined; // a rotation inherits the expiry as it is now, not the lifetime given at creation
    }
    const r = await this.change(id, patch);
    this.deps.events.emit({ type: 'key.updated', keyId: r.id, hint: r.hint, owner: r.owner });
    return toKeyInfo(r);
  }

  /**
   * Revokes a key at once, on this instance and (through invalidation) on every other. A key revoked already stays as
   * it was revoked (its time and reason: an incident's sweep must not turn "leaked" into "other") and no second
   * `key.revoked` is sent; the other instances are told again all the same.
   */
  async revoke(id: string, options: { reason?: string } = {}): Promise<KeyInfo> {
    refuseUnknownInput(options, REASON_FIELDS, 'keys.revoke()');
    return (await this.revokeOne(id, options.reason)).record;
  }

  /** {@link KeyManager.revoke}, telling whether this call revoked the key (`revoked: false`: it was revoked already). */
  private async revokeOne(id: string, reason: string | undefined): Promise<{ record: KeyInfo; revoked: boolean }> {
    const now = this.deps.clock();
    const patch: KeyPatch = { status: 'revoked', revokedAt: now, updatedAt: now, ...(reason !== undefined ? { revokedReason: checkText(reason, 'reason', 500) } : {}) };
    let r: KeyRecord;
    try {
      r = await this.change(id, patch, { absent: ['revokedAt'] }); // atomic: a revocation landing meanwhile is kept too
    } catch (error) {
      if (!hasCode(error, 'KEY_CONFLICT')) throw error;
      const current = await this.require(id);
      await this.invalidate(current);
      return { record: toKeyInfo(current), revoked: false };
    }
    this.deps.events.emit({ type: 'key.revoked', keyId: r.id, hint: r.hint, owner: r.owner, ...(reason !== undefined ? { reason } : {}) });
    return { record: toKeyInfo(r), revoked: true };
  }

  /**
   * Disables a key until {@link KeyManager.enable}. A key disabled already stays as it was disabled (its reason: an
   * anomaly's automatic suspension must not turn "unpaid invoice" into "anomaly: RATE_SPIKE") and no second
   * `key.disabled` is sent.
   */
  async disable(id: string, options: { reason?: string } = {}): Promise<KeyInfo> {
    refuseUnknownInput(options, REASON_FIELDS, 'keys.disable()');
    const reason = options.reason !== undefined ? checkText(options.reason, 'reason', 500) : undefined;
    const { record: r, changed } = await this.changeUnlessRevoked(id, 'disabled', () => ({ status: 'disabled', updatedAt: this.deps.clock(), ...(reason !== undefined ? { disabledReason: reason } : {}) }));
    if (changed) this.deps.events.emit({ type: 'key.disabled', keyId: r.id, hint: r.hint, owner: r.owner, ...(options.reason !== undefined ? { reason: options.reason } : {}) });
    return toKeyInfo(r);
  }

  /** Enables a disabled key. A revoked key stays revoked; an active key is left as it is, and no `key.enabled` is sent. */
  async enable(id: string): Promise<KeyInfo> {
    const { record: r, changed } = await this.changeUnlessRevoked(id, 'enabled', () => ({ status: 'active', disabledReason: undefined, updatedAt: this.deps.clock() }));
    if (changed) this.deps.events.emit({ type: 'key.enabled', keyId: r.id, hint: r.hint, owner: r.owner });
    return toKeyInfo(r);
  }

  /**
   * Changes the status of a key that is not revoked, by a patch conditional on the status it was read with: a
   * revocation that lands meanwhile is never undone (an `enable()` racing a `revoke()` once made a revoked key work
   * again). Reads and tries again when another change of status came between; a revoked key is refused. A key already
   * in the status asked for is returned as it is (`changed: false`): of two concurrent calls, one changes it.
   */
  protected async changeUnlessRevoked(id: string, verb: 'enabled' | 'disabled', patch: () => KeyPatch): Promise<{ record: KeyRecord; changed: boolean }> {
    const target = verb === 'enabled' ? 'active' : 'disabled';
    for (let attempt = 0; attempt < STATUS_RETRIES; attempt++) {
      const current = await this.require(id);
      if (current.status === 'revoked') throw new KeywardError('INVALID_ARGUMENT', `key ${id} is revoked and cannot be ${verb}`);
      if (current.status === target) {
        await this.invalidate(current); // as revoke() does: the other instances are told again all the same
        return { record: current, changed: false };
      }
      try {
        return { record: await this.change(id, patch(), { status: current.status }), changed: true };
      } catch (error) {
        if (!hasCode(error, 'KEY_CONFLICT')) throw error;
      }
    }
    throw new KeywardError('STORE_FAILURE', `key ${id} kept changing; try again`);
  }

  /** Deletes a key record. Prefer {@link KeyManager.revoke}, which keeps the audit trail. */
  async delete(id: string): Promise<boolean> {
    const r = await this.deps.store.get(checkString(id, 'id'));
    if (!r) {
      // What a store may have left of it (Redis: the indexes of a lost record, or a record an index lost, which get()
      // does not return but delete() removes: then it is dropped from every cache and reported, by its id).
      if (!(await this.deps.store.delete(id))) return false;
      await this.invalidate({ id });
      this.deps.events.emit({ type: 'key.deleted', keyId: id });
      return true;
    }
    const ok = await this.deps.store.delete(id);
    await this.invalidate(r);
    if (ok) this.deps.events.emit({ type: 'key.deleted', keyId: r.id, hint: r.hint, owner: r.owner });
    return ok;
  }

  /**
   * Replaces a key: a new key with the same owner, name, scopes, plan, restrictions, limits, metadata and expiry
   * policy (an expiry of the same length from now), linked both ways (`rotatedFrom` / `rotatedTo`). The old key keeps
   * working for the grace period, with `Deprecation` and `Sunset` headers on its responses; a grace period of 0
   * revokes it at once. Emits `key.created` and `key.rotated`. The settings are taken as the old key has them, not
   * checked again against the configuration of today (a plan renamed since to a near miss does not stop a rotation).
   *
   * @example
   * ```ts
   * const { key, record } = await kw.keys.rotate(oldId, { gracePeriod: '24h' });
   * ```
   * @throws `KeywardError` `KEY_NOT_FOUND`, or `INVALID_ARGUMENT` for a key that is revoked, disabled, expired or
   *   already rotated; the store's error when it fails to claim the old key (the new key is then revoked, unless the
   *   claim is found to have landed, when the rotation completes)
   */
  async rotate(id: string, options: RotateKeyOptions = {}): Promise<RotatedKey> {
    refuseUnknownInput(options, ROTATE_FIELDS, 'keys.rotate()');
    const graceMs = options.gracePeriod === undefined ? this.policy.gracePeriodMs : parseDuration(options.gracePeriod, 'gracePeriod');
    const old = await this.require(id);
    const now = this.deps.clock();
    if (!isLive(old, now, this.policy)) throw new KeywardError('INVALID_ARGUMENT', `key ${id} cannot be rotated: it is ${old.rotatedTo !== undefined || old.graceEndsAt !== undefined ? 'already rotated' : old.status === 'active' ? 'expired' : old.status}`);
    const env = old.legacy !== true && isValidEnv(old.env) ? old.env : this.deps.defaultEnv;
    const recoverable = this.checkRecoverable(typeof (old.sealed as { key?: unknown } | undefined)?.key === 'string');
    // The successor gets the old key's settings as they are stored, not checked again against today's configuration
    // or checks: they are what the old key runs with right now, and a rotation (an incident's tool) must not be
    // stopped by a plan renamed since to a near miss, a limit name gone, or metadata larger than keys.create now takes.
    const created = await this.mint(env, recoverable, (identity) => successorOf(old, identity, now));
    const expiry = effectiveExpiry(old, this.policy);
    const graceEndsAt = expiry === undefined ? now + graceMs : Math.min(now + graceMs, expiry);
    const patch: KeyPatch =
      graceMs === 0
        ? { status: 'revoked', revokedAt: now, revokedReason: 'rotated', rotatedTo: created.record.id, deprecatedAt: now, updatedAt: now }
        : { rotatedTo: created.record.id, graceEndsAt, deprecatedAt: now, updatedAt: now };
    // Claimed only if the key is still active and not rotated: of two concurrent rotations one wins, and a key revoked
    // or disabled meanwhile (an incident's revokeOwner) gets no successor. The loser's new key is revoked at once.
    let previous: KeyRecord;
    try {
      previous = await this.change(old.id, patch, { status: 'active', absent: ['rotatedTo', 'graceEndsAt'] });
    } catch (error) {
      if (hasCode(error, 'KEY_CONFLICT')) {
        await this.revoke(created.record.id, { reason: 'rotation lost to a concurrent change of the old key' }).catch(() => undefined);
        throw new KeywardError('INVALID_ARGUMENT', `key ${id} cannot be rotated: it was rotated, revoked or disabled meanwhile`);
      }
      previous = await this.afterFailedClaim(old.id, created.record.id, error);
    }
    const record = await this.catchUp(old, created.record, now, graceMs > 0);
    const data = { rotatedTo: created.record.id, graceEndsAt: new Date(graceMs === 0 ? now : graceEndsAt).toISOString() };
    this.deps.events.emit({ type: 'key.rotated', keyId: old.id, hint: old.hint, owner: old.owner, data });
    if (graceMs === 0) this.deps.events.emit({ type: 'key.revoked', keyId: old.id, hint: old.hint, owner: old.owner, reason: 'rotated' });
    return { key: created.key, record, previous: toKeyInfo(previous) };
  }

  /**
   * After the claim of the old key failed (not a conflict: the store failed, and may or may not have made the change):
   * the old key read again. When it names the new key as its successor, the claim landed and only its answer was lost,
   * so the rotation completes with it. Otherwise the new key, which no one holds, is revoked (so a rotation that failed
   * never leaves two live keys), and the store's error is thrown. When the old key cannot be read either, nothing is
   * known and the store's error is thrown as it is.
   */
  private async afterFailedClaim(oldId: string, newId: string, error: unknown): Promise<KeyRecord> {
    let current: KeyRecord | undefined;
    try {
      current = await this.deps.store.get(oldId);
    } catch {
      throw error;
    }
    if (current?.rotatedTo === newId) {
      await this.invalidate(current);
      return current;
    }
    await this.revoke(newId, { reason: 'rotation failed: the old key could not be claimed' }).catch(() => undefined);
    throw error;
  }

  /**
   * After a rotation claimed the old key: its settings as they are now, given to the new key when a change landed
   * between the rotation's read and its claim (a `keys.update()` taking a scope away must not be undone by a rotation
   * running at that moment). Before the plaintext is returned, so no one holds the new key meanwhile. Reads the old key
   * once more; a failing read leaves the new key as it was issued. A failing write undoes the rotation, since the new
   * key may hold what was taken from the old one and no one will hold its plaintext: the new key is revoked and, when
   * the old key was claimed with a grace period (`unclaim`), its claim is lifted if it still names the new key and is
   * active, so the old key stays the one live key; then the store's error is thrown.
   */
  private async catchUp(read: KeyRecord, successor: KeyInfo, now: number, unclaim: boolean): Promise<KeyInfo> {
    let current: KeyRecord;
    try {
      current = await this.require(read.id);
    } catch {
      return successor;
    }
    if (INHERITED.every((field) => isDeepStrictEqual(current[field], read[field]))) return successor;
    const fresh = successorOf(current, { hash: '', hashVersion: this.deps.hasher.version, hint: '', prefix: '', env: '' }, now);
    const patch: KeyPatch = { name: fresh.name, scopes: fresh.scopes, plan: fresh.plan, restrictions: fresh.restrictions, limits: fresh.limits, metadata: fresh.metadata, expiresAt: fresh.expiresAt, lifetimeMs: fresh.lifetimeMs };
    try {
      return toKeyInfo(await this.change(successor.id, patch));
    } catch (error) {
      await this.revoke(successor.id, { reason: 'rotation failed: the new key could not be brought up to date' }).catch(() => undefined);
      if (unclaim) {
        const lift: KeyPatch = { rotatedTo: undefined, graceEndsAt: undefined, deprecatedAt: undefined, updatedAt: now };
        await this.change(read.id, lift, { status: 'active', equals: { rotatedTo: successor.id } }).catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * Incident response: revokes every key of `owner` at once, on every instance. Emits `key.revoked` for each.
   *
   * @example
   * ```ts
   * const { ids } = await kw.keys.revokeOwner('acme', { reason: 'account compromised' });
   * ```
   */
  async revokeOwner(owner: string, options: { reason?: string } = {}): Promise<RevokedKeys> {
    refuseUnknownInput(options, REASON_FIELDS, 'keys.revokeOwner()');
    checkString(owner, 'owner', MAX_OWNER);
    return this.revokeWhere(owner, () => true, options.reason);
  }

  /**
   * Incident response: revokes every key created before `date` (e.g. the moment a leak began), optionally only of one
   * owner. Emits `key.revoked` for each.
   */
  async revokeCreatedBefore(date: Date | number, options: { reason?: string; owner?: string } = {}): Promise<RevokedKeys> {
    refuseUnknownInput(options, REVOKE_BEFORE_FIELDS, 'keys.revokeCreatedBefore()');
    const before = toTime(date, 'date');
    if (options.owner !== undefined) checkString(options.owner, 'owner', MAX_OWNER);
    return this.revokeWhere(options.owner, (r) => r.createdAt < before, options.reason);
  }

  /**
   * Revokes the matching keys that are not revoked yet, in passes until a pass finds none left: a key created while
   * the first pass ran (a rotation racing an incident's revocation) is revoked too. A key deleted meanwhile is skipped.
   */
  protected async revokeWhere(owner: string | undefined, match: (record: KeyRecord) => boolean, reason: string | undefined): Promise<RevokedKeys> {
    if (reason !== undefined) checkText(reason, 'reason', 500);
    const ids: string[] = [];
    const tried = new Set<string>();
    for (let pass = 0; pass < MAX_REVOKE_PASSES; pass++) {
      const targets: KeyRecord[] = [];
      for await (const r of this.records(owner)) if (r.status !== 'revoked' && !tried.has(r.id) && match(r)) targets.push(r);
      if (targets.length === 0) break;
      for (const r of targets) {
        tried.add(r.id);
        try {
          if ((await this.revokeOne(r.id, reason)).revoked) ids.push(r.id); // not one another call revoked meanwhile
        } catch (error) {
          if (!hasCode(error, 'KEY_NOT_FOUND')) throw error;
        }
      }
    }
    return { ids };
  }

  /**
   * Keys due for rotation: legacy keys, and keys whose maximum age or expiry is less than the lead time away.
   * Revoked, disabled, expired and already rotated keys are left out. Sorted by `dueAt`.
   *
   * @example
   * ```ts
   * for (const { key, reason } of await kw.keys.dueForRotation({ maxAge: '90d' })) console.log(key.id, reason);
   * ```
   */
  async dueForRotation(query: DueQuery = {}): Promise<DueKey[]> {
    refuseUnknownInput(query, DUE_FIELDS, 'keys.dueForRotation()');
    const maxAgeMs = query.maxAge === undefined ? this.policy.maxAgeMs : parseDuration(query.maxAge, 'maxAge');
    const leadMs = query.lead === undefined ? this.policy.expiringLeadMs : parseDuration(query.lead, 'lead');
    if (query.owner !== undefined) checkString(query.owner, 'owner', MAX_OWNER);
    const now = this.deps.clock();
    const due: DueKey[] = [];
    for await (const r of this.records(query.owner)) {
      if (!isLive(r, now, this.policy)) continue;
      const d = dueFor(r, now, maxAgeMs, leadMs);
      if (d) due.push({ key: toKeyInfo(r), ...d });
    }
    return due.sort((a, b) => a.dueAt - b.dueAt || (a.key.id < b.key.id ? -1 : 1));
  }

  /**
   * Walks every key once and reports lifecycle conditions as events, each once per key and condition:
   * `key.expiring` (within `keyPolicy.expiringLead` of its expiry or, under `autoExpire`, its maximum age),
   * `key.expired`, `key.idle` (unused for `keyPolicy.idleAfter`). Rotated keys whose grace period has ended are marked
   * revoked (`key.revoked`, reason `ROTATION_GRACE_ENDED`). Run it on a timer or from `keyward keys sweep`; subscribe
   * before sweeping — a notice is recorded as sent only while someone listens to its type (or to `'*'`). Uses the
   * injected clock.
   */
  async sweep(): Promise<SweepReport> {
    const now = this.deps.clock();
    const { events } = this.deps;
    const report = { scanned: 0, expiring: [] as string[], expired: [] as string[], idle: [] as string[], revoked: [] as string[] };
    for await (const r of this.records(undefined)) {
      report.scanned++;
      const notified = { ...(r.notified ?? {}) };
      const notices: Array<() => void> = [];
      const base = { keyId: r.id, hint: r.hint, owner: r.owner };
      for (const a of sweepActions(r, now, this.policy)) {
        // Both changes are made only while the key is still active, as the page read it: a revocation that landed
        // since (its reason, its time, its one event) or another sweep's change is left alone, and a key deleted
        // meanwhile is skipped instead of ending the sweep.
        if (a.kind === 'grace-ended') {
          if (await this.changeIfActive(r.id, { status: 'revoked', revokedAt: a.at, revokedReason: 'rotation grace period ended', updatedAt: now })) {
            events.emit({ type: 'key.revoked', ...base, reason: 'ROTATION_GRACE_ENDED' });
            report.revoked.push(r.id);
          }
          continue;
        }
        if (a.kind === 'expired' && a.byAge && !(await this.changeIfActive(r.id, { expiresAt: a.at, updatedAt: now }))) break;
        const type = a.kind === 'idle' ? 'key.idle' : a.kind === 'expired' ? 'key.expired' : 'key.expiring';
        if (!events.wants(type)) continue; // not recorded as sent: a later sweep tells whoever listens then
        if (a.kind === 'idle') {
          notified.idle = a.since;
          notices.push(() => {
            events.emit({ type, ...base, data: { lastUsedAt: new Date(a.since).toISOString(), idleAfterMs: this.policy.idleAfterMs } });
            report.idle.push(r.id);
          });
        } else {
          notified[a.kind] = a.at;
          notices.push(() => {
            events.emit({ type, ...base, reason: a.byAge ? 'MAX_AGE' : 'EXPIRES_AT', data: { expiresAt: new Date(a.at).toISOString() } });
            report[a.kind].push(r.id);
          });
        }
      }
      // Sent only once recorded as sent, and recorded only if no other sweep (here or on another instance) recorded a
      // notice of this key since the page was read: of two sweeps at once, one sends each notice.
      if (notices.length > 0 && (await this.recordNotices(r, notified))) for (const send of notices) send();
    }
    return report;
  }

  /**
   * Records `notified` on a key still active whose notices are still as `read` had them: false, changing nothing, when
   * another sweep recorded some since, or the key changed status or was deleted meanwhile.
   */
  private async recordNotices(read: KeyRecord, notified: KeyNotices): Promise<boolean> {
    const condition: UpdateCondition = read.notified === undefined ? { status: 'active', absent: ['notified'] } : { status: 'active', equals: { notified: read.notified } };
    try {
      return (await this.deps.store.update(read.id, { notified }, condition)) !== undefined;
    } catch (error) {
      if (hasCode(error, 'KEY_CONFLICT')) return false;
      throw error;
    }
  }

  /** Patches a key only if it is still active: false, changing nothing, when it changed status or was deleted meanwhile. */
  private async changeIfActive(id: string, patch: KeyPatch): Promise<boolean> {
    try {
      await this.change(id, patch, { status: 'active' });
      return true;
    } catch (error) {
      if (hasCode(error, 'KEY_CONFLICT', 'KEY_NOT_FOUND')) return false;
      throw error;
    }
  }

  /** Every record (optionally of one owner), page by page. */
  protected async *records(owner: string | undefined): AsyncGenerator<KeyRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.list({ limit: 1000, ...(owner !== undefined ? { owner } : {}), ...(cursor !== undefined ? { cursor } : {}) });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /**
   * Looks a presented key up: the cache, then {@link KeyManager.findPresented}. Returns the record or `undefined`.
   * Used by the token endpoint; compares hashes in constant time.
   */
  async lookup(presented: string): Promise<KeyRecord | undefined> {
    return this.cached(presented) ?? this.findPresented(presented);
  }

  /**
   * After a cache miss, the record a presented value authenticates as, by the one rule the pipeline and the token
   * endpoint share: a keyward key of this deployment (prefix and checksum first, so garbage never reaches the store),
   * or a value `legacyKeys` admits, which matches only a record imported as legacy (never a keyward key of another
   * prefix or format). `undefined` at once, without a store call or a promise, for a value that may not be a key.
   */
  findPresented(presented: string): Promise<KeyRecord | undefined> | undefined {
    const wellFormed = this.isWellFormed(presented);
    if (!wellFormed && this.policy.legacy?.(presented) !== true) return undefined;
    return this.findInStore(presented).then((record) => (record && (wellFormed || record.legacy === true) ? record : undefined));
  }

  /**
   * The record of a presented key when this instance's cache holds it: no store call, no promise. The cache is keyed
   * by the SHA-256 of the presented value (see {@link cacheKeyOf}), and only records found by a value that is well
   * formed for this instance (or that are legacy) and that matched in constant time are ever cached, so a hit needs
   * neither the shape check nor a second comparison.
   */
  cached(presented: string): KeyRecord | undefined {
    return this.deps.cache.get(cacheKeyOf(presented));
  }

  /**
   * Asks the store under each hash scheme in turn (current first) and caches what it finds: the request path's look-up
   * after {@link KeyManager.cached} missed.
   */
  async findInStore(presented: string): Promise<KeyRecord | undefined> {
    const { hasher, cache, store } = this.deps;
    const generation = this.generation;
    for (const lookup of hasher.lookups) {
      const hash = lookup.hash(presented);
      const record = await store.findByHash(hash);
      if (record && record.hashVersion === lookup.version && safeHashEqual(record.hash, hash)) {
        // Not cached when an invalidation came while the store answered: the record may predate it (see generation).
        if (generation === this.generation && (record.legacy === true || this.isWellFormed(presented))) cache.set(cacheKeyOf(presented), record); // see cached()
        if (lookup.previousPepper) this.previousPepperUsed(record);
        return record;
      }
    }
    return undefined;
  }

  /** Key ids already reported as stored under a previous pepper (bounded: cleared past 10,000). */
  private readonly stalePeppers = new Set<string>();

  /**
   * Reports, once per key and instance, a key found under a previous pepper (`pepper.previous`): a `key.expiring`
   * event with reason `PREVIOUS_PEPPER`, and one process warning naming the key's id. It works now, and stops working
   * when that pepper is dropped unless it is rotated first. Never names a pepper or a hash. The first time, it is also
   * marked in the store (`previousPepperAt`, unless marked already), so `dueForRotation()` lists it on every instance;
   * the request does not wait for that write, and a write that fails is tried again by the next instance to find it.
   */
  private previousPepperUsed(record: KeyRecord): void {
    if (this.stalePeppers.has(record.id)) return;
    if (this.stalePeppers.size >= 10_000) this.stalePeppers.clear();
    this.stalePeppers.add(record.id);
    if (record.previousPepperAt === undefined) this.deps.store.update(record.id, { previousPepperAt: this.deps.clock() }, { absent: ['previousPepperAt'] }).then(undefined, () => {});
    warnOnce('KEYWARD_PREVIOUS_PEPPER', `keyward: key ${record.id} (and maybe others) is stored under a previous pepper ("pepper.previous"); rotate such keys (key.expiring events with reason PREVIOUS_PEPPER name them) before dropping that pepper, or they will be refused.`);
    this.deps.events.emit({ type: 'key.expiring', keyId: record.id, hint: record.hint, owner: record.owner, reason: 'PREVIOUS_PEPPER' });
  }

  /**
   * Whether the key `id` is in good standing at `now` (not revoked, disabled, expired or past its rotation grace
   * period): the tokens exchanged from a key stop working with it. Answered like {@link KeyManager.usableRecord}, from
   * a cache by id when it can be, with a promise of the store's answer otherwise.
   */
  standing(id: string, now: number): boolean | Promise<boolean> {
    const record = this.usableRecord(id, now);
    return isPromise<KeyRecord | undefined>(record) ? Promise.resolve(record).then(isDefined) : record !== undefined;
  }

  /**
   * The current record of the key `id` when it is in good standing at `now`, else `undefined`: what a token exchanged
   * from the key is judged by (its standing, and the key's restrictions, plan and limit overrides as they are now).
   * Answered at once, without a promise, from a cache by id (dropped on every change, here and through invalidation,
   * like the look-up cache, and bounded by the same `cache` TTL); otherwise a promise of the store's answer, which is
   * then cached. A failing store rejects (or throws). Used by the pipeline's token authenticator; like
   * {@link KeyManager.lookup} it returns the stored record, hash included, which is for keyward's own checks and must
   * never reach a response, an event or a log ({@link KeyManager.get} is the record without its hash).
   */
  usableRecord(id: string, now: number): KeyRecord | undefined | Promise<KeyRecord | undefined> {
    const { idCache, store } = this.deps;
    const cached = idCache?.get(id);
    if (cached) return inGoodStanding(cached, now, this.policy) ? cached : undefined;
    const generation = this.generation;
    return store.get(id).then((record) => {
      if (!record) return undefined;
      if (generation === this.generation) idCache?.set(id, record); // as in findInStore: never a record an invalidation overtook
      return inGoodStanding(record, now, this.policy) ? record : undefined;
    });
  }

  /**
   * The stored record of the key `id` whatever its standing, or `undefined` when there is none: from the cache by id
   * when it can be (see {@link KeyManager.usableRecord}), else a promise of the store's answer, which is then cached. A
   * failing store rejects. For keyward's own checks and for naming the key (id and hint) in the events of a refused
   * token exchanged for it: the record holds the key's hash, which must never reach a response, an event or a log.
   */
  recordOf(id: string): KeyRecord | undefined | Promise<KeyRecord | undefined> {
    const { idCache, store } = this.deps;
    const cached = idCache?.get(id);
    if (cached) return cached;
    const generation = this.generation;
    return store.get(id).then((record) => {
      if (!record) return undefined;
      if (generation === this.generation) idCache?.set(id, record); // as in findInStore: never a record an invalidation overtook
      return record;
    });
  }

  /** True when `value` passes the key format's prefix and checksum test. */
  isWellFormed(value: string): boolean {
    return isWellFormedKey(value, this.deps.format);
  }

  /** A key's plan: a name of at most 64 characters, not a near miss of a configured plan (`proo` for `pro`). */
  private checkPlan(plan: unknown): string {
    const name = checkText(plan, 'plan', 64);
    const plans = this.deps.limitNames?.plans;
    if (plans !== undefined && plans.length > 0) refuseNearMiss(name, plans, 'plan');
    return name;
  }

  /** Fetches a record or fails with `KEY_NOT_FOUND`. */
  protected async require(id: string): Promise<KeyRecord> {
    const r = await this.deps.store.get(checkString(id, 'id'));
    if (!r) throw new KeywardError('KEY_NOT_FOUND', `no key with id ${shownKeyId(id)}`);
    return r;
  }

  /** Patches a record (only if it meets `condition`, when given), then drops it from every cache. */
  protected async change(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord> {
    const r = await (condition === undefined ? this.deps.store.update(checkString(id, 'id'), patch) : this.deps.store.update(checkString(id, 'id'), patch, condition));
    if (!r) throw new KeywardError('KEY_NOT_FOUND', `no key with id ${shownKeyId(id)}`);
    await this.invalidate(r);
    return r;
  }

  /** Drops a record from this instance's cache and tells the other instances. */
  protected async invalidate(record: Pick<KeyRecord, 'id'>): Promise<void> {
    this.forget(record.id);
    if (this.deps.invalidation) {
      try {
        await this.deps.invalidation.publish({ id: record.id }); // ids only: a key's hash never leaves the store
      } catch (error) {
        this.deps.events.emit({ type: 'store.error', keyId: record.id, reason: 'INVALIDATION_PUBLISH_FAILED', data: { message: failureMessage(error) } });
      }
    }
  }
}
