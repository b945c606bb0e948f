-- keyward PostgreSQL schema, migration 1.
-- Apply with `migrate(pool)` from @keyward/postgres, or by hand: psql -v ON_ERROR_STOP=1 -f 001_init.sql
-- (in the schema of your choice: SET search_path TO "mySchema"; first, the name quoted as the stores quote it).
-- No plaintext key is ever stored: `hash` is a SHA-256 / HMAC-SHA-256 hex digest; recoverable keys are stored only
-- as an AES-256-GCM envelope inside `data`, and only when encryption at rest is configured.

-- One row per key. `id` and `owner` use the "C" collation so pages are ordered by code point, like every other store.
CREATE TABLE IF NOT EXISTS keyward_keys (
  id         text COLLATE "C" PRIMARY KEY,
  hash       text NOT NULL,
  owner      text COLLATE "C" NOT NULL,
  -- every other record field (name, scopes, status, times, metadata, …); encrypted fields as {"$kwenc": "<envelope>"}
  data       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Look-up by hash on every request (unique: two keys never share a hash).
CREATE UNIQUE INDEX IF NOT EXISTS keyward_keys_hash_idx ON keyward_keys (hash);
-- List by owner, paginated by id.
CREATE INDEX IF NOT EXISTS keyward_keys_owner_id_idx ON keyward_keys (owner, id);

-- Revoked token ids (jti) until the token would have expired anyway.
CREATE TABLE IF NOT EXISTS keyward_revoked_tokens (
  jti      text PRIMARY KEY,
  until_ms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS keyward_revoked_tokens_until_idx ON keyward_revoked_tokens (until_ms);
