/**
 * `@keyward/redis`: keyward on Redis — key store, token revocation list, audit stream and cross-instance cache
 * invalidation. Clients (ioredis, a peer dependency) are always injected and never closed by keyward.
 *
 * @packageDocumentation
 */
export { boundedRedisOptions, whenReady, type BoundedRedisOverrides, type RedisClient } from './client';
export { storeLayout, type StoreLayout } from './layout';
export { RedisKeyStore, type RedisKeyStoreOptions } from './key-store';
export { RedisRevocationStore, type RedisRevocationStoreOptions } from './revocation-store';
export { RedisInvalidationChannel, type RedisInvalidationChannelOptions } from './invalidation';
export { createAuditStream, attachAuditStream, type AuditStreamOptions, type AuditStreamSink } from './audit-stream';
