import { checkEncryption, fieldsOf, isUnreadable, KeywardError, openField, openListedField, refuseUnknownInput, resolveSealedFields, sealField, type Encryption, type KeyPatch, type KeyRecord, type KeyStore, type Page, type PageQuery, type UpdateCondition } from '@keyward/core';
import type { Cluster, Redis } from 'ioredis';
import { checkClient, checkPrefix, warnIfEvicting, warnIfOfflineQueue, type RedisClient } from './client';
import { storeLayout, type StoreLayout } from './layout';
import { run, script } from './script';

/** Options of {@link RedisKeyStore}. */
export interface RedisKeyStoreOptions {
  /** An ioredis client (standalone or Cluster), ideally with {@link boundedRedisOptions}. Never closed by the store. */
  client: RedisClient;
  /** Key prefix; every key is `{prefix}:…` (the braces are a Cluster hash tag). Default `keyward`. */
  prefix?: string;
  /** Encryption at rest of the fields in `sealedFields` (off by default). */
  encryption?: Encryption;
  /** Fields encrypted when `encryption` is given (default `DEFAULT_SEALED_FIELDS` of the core; `sealed` always is). */
  sealedFields?: readonly string[];
}

/** Every field of {@link RedisKeyStoreOptions}: a misspelt `encryption` must not leave keys unencrypted at rest. */
const OPTIONS = fieldsOf<RedisKeyStoreOptions>({ client: true, prefix: true, encryption: true, sealedFields: true });
const REENCRYPT_OPTIONS = fieldsOf<NonNullable<Parameters<RedisKeyStore['reencrypt']>[0]>>({ batchSize: true });

const CREATE = script(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return 1`);

// KEYS: record, id; with an owner change also old owner index, new owner index.
// ARGV: id, hash, expected owner ('' when the owner does not change), required status (its stored JSON, '' for any),
// fields that must be absent (comma-separated, '' for none), fields that must hold a value (a JSON object of field to
// stored value, '' for none), n, n field/value pairs, fields to delete.
// Returns the record, false (no such key), -1 (changed meanwhile: retry) or -2 (the condition does not hold).
const UPDATE = script(`
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
  return false
end
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[4] ~= '' and redis.call('HGET', KEYS[1], 'status') ~= ARGV[4] then return -2 end
if ARGV[5] ~= '' then
  for field in string.gmatch(ARGV[5], '[^,]+') do
    if redis.call('HEXISTS', KEYS[1], field) == 1 then return -2 end
  end
end
if ARGV[6] ~= '' then
  for field, value in pairs(cjson.decode(ARGV[6])) do
    if redis.call('HGET', KEYS[1], field) ~= value then return -2 end
  end
end
if ARGV[3] ~= '' then
  if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[3] then return -1 end
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[4], 0, ARGV[1])
end
local n = tonumber(ARGV[7])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 8, 7 + 2 * n)) end
if #ARGV > 7 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 8 + 2 * n)) end
return redis.call('HGETALL', KEYS[1])`);

// KEYS: id index, ids, then the record when the id index named one (ARGV[2] not ''), then the owner indexes to clean.
// ARGV: id, the hash read from the id index ('' none), the owner read from the record ('' none).
// Removes whatever is left of the key, even when its record is gone: 1 when the record was there, 0 when not, -1 when
// the id index or the owner changed since they were read (read again).
const DELETE = script(`
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return -1 end
local first, found = 3, 0
if ARGV[2] ~= '' then
  if (redis.call('HGET', KEYS[3], 'owner') or '') ~= ARGV[3] then return -1 end
  found = redis.call('DEL', KEYS[3])
  first = 4
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for i = first, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return found`);

// The start both look-up scripts share: the record (KEYS[1]) read whole into `raw`, and its `id` and `owner` fields as
// stored (JSON); a record without them is not found.
const READ_RECORD = `
local raw = redis.call('HGETALL', KEYS[1])
local id, owner
for i = 1, #raw, 2 do
  if raw[i] == 'id' then id = raw[i + 1] elseif raw[i] == 'owner' then owner = raw[i + 1] end
end
if id == nil or owner == nil then return false end`;

// KEYS: record, ids. ARGV: hash, the id index's key without the id, the owner index's key without the owner.
// The record only when every index that kw.keys finds it through holds it: revoke(id) and disable(id) read the id
// index, revokeOwner() the owner index, revokeCreatedBefore() and list() the ids. A record one of them lost (evicted
// under an allkeys-* policy, removed by hand) is not found, so a key that cannot be revoked never authenticates.
// The id and owner indexes are named by the record, so they cannot be in KEYS without a read first (a second round
// trip on every cache miss). Used on a standalone server only, where nothing routes by key; on a Cluster a node whose
// slot is moving fails a script that reads a key it did not declare, so a Cluster client uses FIND_DECLARED.
const FIND_BY_HASH = script(`${READ_RECORD}
id, owner = cjson.decode(id), cjson.decode(owner)
if type(id) ~= 'string' or type(owner) ~= 'string' then return false end
if redis.call('GET', ARGV[2] .. id) ~= ARGV[1] then return false end
if not redis.call('ZSCORE', KEYS[2], id) or not redis.call('ZSCORE', ARGV[3] .. owner, id) then return false end
return raw`);

// The look-up of FIND_BY_HASH for a Cluster client, with every key it reads declared: the id and owner indexes are
// named from the record's id and owner, read first (HMGET), so a node whose slot is moving answers ASK or TRYAGAIN,
// which ioredis follows, instead of failing the script ("attempted to access a non local key").
// KEYS: record, ids, id index, owner index. ARGV: hash, the record's id and owner fields as read (JSON), the id.
// Returns the record, false (not found, or not in every index), or -1 when its id or owner changed since they were read.
const FIND_DECLARED = script(`${READ_RECORD}
if id ~= ARGV[2] or owner ~= ARGV[3] then return -1 end
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return false end
if not redis.call('ZSCORE', KEYS[2], ARGV[4]) or not redis.call('ZSCORE', KEYS[4], ARGV[4]) then return false end
return raw`);

const SWAP_FIELD = script(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`);

const RETRIES = 10;

/** The string a stored field holds (JSON), or `undefined` when there is none or it is not a JSON string. */
function jsonString(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function pairsToObject(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/**
 * The Redis {@link KeyStore}: one hash per record, an id index and sorted-set indexes for pagination (all keys of a
 * store share one Cluster hash tag; see the package README for the layout). Create, update and delete are single Lua
 * scripts, so a record and its indexes never disagree and concurrent patches of different fields both land.
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL!, boundedRedisOptions());
 * const kw = createKeyward({ store: new RedisKeyStore({ client }), invalidation: new RedisInvalidationChannel({ client }) });
 * ```
 */
export class RedisKeyStore implements KeyStore {
  private readonly client: RedisClient;
  private readonly keys: StoreLayout;
  private readonly encryption: Encryption | undefined;
  private readonly sealedFields: ReadonlySet<string>;
  /** The client's ioredis `keyPrefix`: added to KEYS by ioredis, not to key names a script builds or SCAN matches. */
  private readonly clientPrefix: string;
  /** True for an ioredis `Cluster`: look-ups then declare every key they read (see `indexed`). */
  private readonly cluster: boolean;

  constructor(options: RedisKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('keyward: RedisKeyStore takes an options object');
    refuseUnknownInput(options, OPTIONS, 'RedisKeyStore()');
    this.client = checkClient(options.client, 'client');
    warnIfOfflineQueue(this.client, 'RedisKeyStore');
    warnIfEvicting(this.client, 'RedisKeyStore');
    this.keys = storeLayout(checkPrefix(options.prefix, 'prefix', 'keyward'));
    this.clientPrefix = String((this.client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix ?? '');
    this.cluster = (this.client as Cluster).isCluster === true;
    this.encryption = checkEncryption(options.encryption, 'RedisKeyStore');
    this.sealedFields = resolveSealedFields(options.sealedFields);
  }

  /** True when records are encrypted at rest (needed for recoverable keys). */
  get encryptsAtRest(): boolean {
    return this.encryption !== undefined;
  }

  async create(record: KeyRecord): Promise<void> {
    const args: string[] = [record.id, record.hash];
    for (const [field, value] of Object.entries(record)) {
      if (value !== undefined) args.push(field, this.encode(record.id, field, value));
    }
    const k = this.keys;
    const ok = await run(this.client, CREATE, [k.record(record.hash), k.id(record.id), k.ids, k.owner(record.owner)], args);
    if (ok !== 1) throw new KeywardError('KEY_CONFLICT', `a key with id ${record.id} or the same hash exists`);
  }

  /**
   * The record with this id, only if it is in every index, as {@link RedisKeyStore.findByHash} finds it: the standing
   * of tokens exchanged from a key is read by id, and a key that `revokeOwner()` or `revokeCreatedBefore()` cannot
   * reach must not keep its tokens working. `update` (so `revoke(id)`) and `delete` still reach such a record.
   */
  async get(id: string): Promise<KeyRecord | undefined> {
    const hash = await this.client.get(this.keys.id(id));
    if (hash === null) return undefined;
    const raw = await this.indexed(hash);
    const record = raw && this.decode(raw, true);
    return record?.id === id ? record : undefined;
  }

  /** The record with this hash, only if it is in every index (see FIND_BY_HASH): a key that cannot be revoked is not found. */
  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const raw = await this.indexed(hash);
    return raw && this.decode(raw, false);
  }

  /**
   * The fields of the record with this hash when every index holds it. One script on a standalone server (see
   * FIND_BY_HASH: nothing there routes by key); on a Cluster, the record's id and owner first, then a script that
   * declares every key it reads (FIND_DECLARED), so a look-up while the store's slot moves between masters is
   * redirected rather than failed. One round trip more per cache miss, on a Cluster only.
   */
  private async indexed(hash: string): Promise<Record<string, string> | undefined> {
    const k = this.keys;
    if (!this.cluster) {
      const reply = await run(this.client, FIND_BY_HASH, [k.record(hash), k.ids], [hash, this.clientPrefix + k.id(''), this.clientPrefix + k.owner('')]);
      return reply === null || reply === undefined ? undefined : pairsToObject(reply);
    }
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const [rawId, rawOwner] = await this.client.hmget(k.record(hash), 'id', 'owner');
      const id = jsonString(rawId);
      const owner = jsonString(rawOwner);
      if (id === undefined || owner === undefined) return undefined;
      const reply = await run(this.client, FIND_DECLARED, [k.record(hash), k.ids, k.id(id), k.owner(owner)], [hash, rawId!, rawOwner!, id]);
      if (reply === -1) continue;
      return reply === null || reply === undefined ? undefined : pairsToObject(reply);
    }
    throw new KeywardError('STORE_FAILURE', 'a key kept changing during a look-up; try again');
  }

  async list(query: PageQuery): Promise<Page<KeyRecord>> {
    const limit = Math.max(1, Math.min(1000, query.limit));
    const index = query.owner === undefined ? this.keys.ids : this.keys.owner(query.owner);
    const ids = await this.client.zrangebylex(index, query.cursor === undefined ? '-' : `(${query.cursor}`, '+', 'LIMIT', 0, limit + 1);
    const pageIds = ids.slice(0, limit);
    if (pageIds.length === 0) return { items: [] };
    const hashes = await this.client.mget(...pageIds.map((id) => this.keys.id(id)));
    const pipeline = this.client.pipeline();
    for (const h of hashes) if (h !== null) pipeline.hgetall(this.keys.record(h));
    const replies = (await pipeline.exec()) ?? [];
    const items: KeyRecord[] = [];
    for (const [error, value] of replies) {
      if (error) throw error;
      const r = this.decode(value as Record<string, string>, false, true);
      if (r) items.push(r);
    }
    return ids.length > limit ? { items, nextCursor: pageIds[pageIds.length - 1]! } : { items };
  }

  async update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined> {
    if (Object.prototype.hasOwnProperty.call(patch, 'owner') && patch.owner === undefined) {
      throw new TypeError('keyward: a key patch cannot remove "owner"');
    }
    const sets: string[] = [];
    const dels: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (field === 'id' || field === 'hash') continue;
      if (value === undefined) dels.push(field);
      else sets.push(field, this.encode(id, field, value));
    }
    // Each value as the store keeps it (JSON; never sealed, see NEVER_SEALED_FIELDS), compared in the script.
    const expected = Object.entries(condition?.equals ?? {}).filter(([, value]) => value !== undefined);
    const equals = expected.length === 0 ? '' : JSON.stringify(Object.fromEntries(expected.map(([field, value]) => [field, JSON.stringify(value)])));
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const hash = await this.client.get(this.keys.id(id));
      if (hash === null) return undefined;
      const k = this.keys;
      let keys = [k.record(hash), k.id(id)];
      let expectedOwner = '';
      if (patch.owner !== undefined) {
        expectedOwner = (await this.client.hget(k.record(hash), 'owner')) ?? '';
        if (expectedOwner === '') return undefined;
        keys = [...keys, k.owner(JSON.parse(expectedOwner) as string), k.owner(patch.owner)];
      }
      const status = condition?.status === undefined ? '' : JSON.stringify(condition.status); // status is never sealed
      const absent = (condition?.absent ?? []).join(',');
      const reply = await run(this.client, UPDATE, keys, [id, hash, expectedOwner, status, absent, equals, sets.length / 2, ...sets, ...dels]);
      if (reply === -1) continue;
      if (reply === -2) throw new KeywardError('KEY_CONFLICT', `key ${id} changed meanwhile`);
      if (reply === null || reply === undefined) return undefined;
      // The change is made: a sealed field that does not open is left out of the answer rather than failing it (see list()).
      return this.decode(pairsToObject(reply), false, true);
    }
    throw new KeywardError('STORE_FAILURE', `key ${id} kept changing during an update; try again`);
  }

  /**
   * Removes a record and every index entry of its id that is left, also when the record or its id index is gone
   * (evicted, removed by hand): then the owner indexes are scanned for the id. True when the record was there.
   */
  async delete(id: string): Promise<boolean> {
    const k = this.keys;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const hash = await this.client.get(k.id(id));
      const owner = hash === null ? null : await this.client.hget(k.record(hash), 'owner');
      let owners: string[];
      if (owner !== null) owners = [k.owner(JSON.parse(owner) as string)];
      else if (hash === null && (await this.client.zscore(k.ids, id)) === null) owners = [];
      else owners = await this.ownerIndexesHolding(id); // the record is gone: its owner is unknown
      const keys = hash === null ? [k.id(id), k.ids, ...owners] : [k.id(id), k.ids, k.record(hash), ...owners];
      const reply = await run(this.client, DELETE, keys, [id, hash ?? '', owner ?? '']);
      if (reply === -1) continue;
      return reply === 1;
    }
    throw new KeywardError('STORE_FAILURE', `key ${id} kept changing during a delete; try again`);
  }

  /**
   * Moves every sealed field to the current master key (and seals fields stored before encryption was turned on).
   * Safe to run while the store is in use: each field is swapped only if it did not change meanwhile.
   *
   * @returns how many records were read and how many fields were rewritten
   * @throws TypeError (a rejection) for an unknown field of `options`
   */
  async reencrypt(options: { batchSize?: number } = {}): Promise<{ scanned: number; rewritten: number }> {
    refuseUnknownInput(options, REENCRYPT_OPTIONS, 'reencrypt()');
    const encryption = this.encryption;
    if (!encryption) throw new KeywardError('INVALID_ARGUMENT', 'reencrypt() needs the store to have an "encryption" option');
    const batch = options.batchSize ?? 500;
    // 0 would read nothing and report the store done; a negative LIMIT means everything at once in Redis.
    if (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000) throw new TypeError('keyward: option "batchSize" of reencrypt() must be an integer from 1 to 100,000');
    let cursor = '-';
    let scanned = 0;
    let rewritten = 0;
    for (;;) {
      const ids = await this.client.zrangebylex(this.keys.ids, cursor, '+', 'LIMIT', 0, batch);
      if (ids.length === 0) break;
      cursor = `(${ids[ids.length - 1]}`;
      const hashes = await this.client.mget(...ids.map((id) => this.keys.id(id)));
      for (let i = 0; i < ids.length; i++) {
        const hash = hashes[i];
        if (!hash) continue;
        const id = ids[i]!;
        const raw = await this.client.hgetall(this.keys.record(hash));
        scanned++;
        for (const [field, value] of Object.entries(raw)) {
          if (!this.sealedFields.has(field)) continue;
          const sealed = encryption.isSealed(value);
          if (sealed && encryption.keyIdOf(value) === encryption.currentKeyId) continue;
          const plain = sealed ? openField(encryption, id, field, value) : JSON.parse(value);
          const next = sealField(encryption, id, field, plain);
          rewritten += Number(await run(this.client, SWAP_FIELD, [this.keys.record(hash)], [field, value, next]));
        }
      }
    }
    return { scanned, rewritten };
  }

  /** The owner indexes that hold `id` (a SCAN of the store's owner indexes: only when a record is gone). */
  private async ownerIndexesHolding(id: string): Promise<string[]> {
    const client = this.client as Cluster;
    const nodes: Redis[] = client.isCluster === true ? client.nodes('master') : [this.client as Redis];
    // The store's prefix is [A-Za-z0-9:._-] only, nothing in it a glob character; a client keyPrefix is escaped.
    // SCAN's pattern and answer are the names in Redis, keyPrefix included; the client adds it to a command's keys.
    const pattern = `${this.clientPrefix.replace(/[*?[\]\\]/g, '\\$&')}${this.keys.owner('*')}`;
    const found: string[] = [];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, names] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const name of names) {
          const key = name.slice(this.clientPrefix.length);
          if ((await this.client.zscore(key, id)) !== null) found.push(key);
        }
      } while (cursor !== '0');
    }
    return found;
  }

  private encode(id: string, field: string, value: unknown): string {
    if (this.sealedFields.has(field)) {
      if (this.encryption) return sealField(this.encryption, id, field, value);
      if (field === 'sealed') throw new KeywardError('INVALID_ARGUMENT', 'a recoverable key needs encryption at rest: give the store an "encryption" option');
    }
    return JSON.stringify(value);
  }

  /** A record from its hash fields. `listing` (a page, or an update's answer): a sealed field that does not open is left out (see `openListedField`). */
  private decode(raw: Record<string, string>, withSealed: boolean, listing = false): KeyRecord | undefined {
    if (raw['id'] === undefined) return undefined;
    const id = JSON.parse(raw['id']) as string;
    const out: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(raw)) {
      if (field === 'sealed' && !withSealed) continue;
      if (value.startsWith('kwenc:')) {
        if (listing) {
          const opened = openListedField(this.encryption, id, field, value);
          if (!isUnreadable(opened)) out[field] = opened;
          continue;
        }
        if (!this.encryption) throw new KeywardError('DECRYPTION_FAILED', `key ${id} has encrypted fields but the store has no "encryption" option`);
        out[field] = openField(this.encryption, id, field, value);
      } else {
        out[field] = JSON.parse(value);
      }
    }
    return out as unknown as KeyRecord;
  }
}
