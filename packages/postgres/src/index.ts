/**
 * `@keyward/postgres`: a durable key store and token revocation list in PostgreSQL, with its migration.
 * The `pg` pool (a peer dependency) is always injected and never closed by keyward.
 *
 * @packageDocumentation
 */
export { PostgresKeyStore, type PostgresKeyStoreOptions } from './key-store';
export { PostgresRevocationStore, type PostgresRevocationStoreOptions } from './revocation-store';
export { migrate, migrations, MIGRATIONS_DIR, type Migration } from './migrate';
export type { Queryable, PoolLike } from './pg';
