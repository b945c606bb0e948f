/**
 * The key layout of {@link RedisKeyStore}. Every key of one store carries the same hash tag `{prefix}`, so on Redis
 * Cluster they live in one slot and the Lua scripts that change a record and its indexes stay atomic.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `{prefix}:k:<hash>` | hash | one record, a field per record field (JSON, or an encryption envelope) |
 * | `{prefix}:id:<id>` | string | the record's hash (ids → record) |
 * | `{prefix}:ids` | sorted set (score 0) | every id, ordered for pagination |
 * | `{prefix}:owner:<owner>` | sorted set (score 0) | the ids of one owner |
 */
export interface StoreLayout {
  record(hash: string): string;
  id(id: string): string;
  readonly ids: string;
  owner(owner: string): string;
}

/** The layout for a prefix. */
export function storeLayout(prefix: string): StoreLayout {
  const tag = `{${prefix}}`;
  return {
    record: (hash) => `${tag}:k:${hash}`,
    id: (id) => `${tag}:id:${id}`,
    ids: `${tag}:ids`,
    owner: (owner) => `${tag}:owner:${owner}`,
  };
}
