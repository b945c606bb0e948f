import { checkEncryption, fieldsOf, isUnreadable, KeywardError, openField, openListedField, refuseUnknownInput, resolveSealedFields, sealField, type Encryption, type KeyPatch, type KeyRecord, type KeyStore, type Page, type PageQuery, type UpdateCondition } from '@keyward/core';
import { checkPool, quoteSchema, warnIfNoErrorListener, type Queryable } from './pg';

/** Options of {@link PostgresKeyStore}. */
export interface PostgresKeyStoreOptions {
  /** A `pg` Pool (never closed by the store). Run {@link migrate} once before use. */
  pool: Queryable;
  /** Schema holding the tables (default `public`); the one given to `migrate`. */
  schema?: string;
  /** Encryption at rest of the fields in `sealedFields` (off by default). */
  encryption?: Encryption;
  /** Fields encrypted when `encryption` is given (default the core's `DEFAULT_SEALED_FIELDS`; `sealed` always is). */
  sealedFields?: readonly string[];
}

/** Every field of {@link PostgresKeyStoreOptions}: a misspelt `encryption` must not leave keys unencrypted at rest. */
const OPTIONS = fieldsOf<PostgresKeyStoreOptions>({ pool: true, schema: true, encryption: true, sealedFields: true });
const REENCRYPT_OPTIONS = fieldsOf<NonNullable<Parameters<PostgresKeyStore['reencrypt']>[0]>>({ batchSize: true });

interface Row {
  id: string;
  hash: string;
  owner: string;
  data: Record<string, unknown>;
}

const SEALED = '$kwenc';
const UNIQUE_VIOLATION = '23505';

function isSealedValue(value: unknown): value is { [SEALED]: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Record<string, unknown>)[SEALED] === 'string' && Object.keys(value).length === 1;
}

/**
 * The PostgreSQL {@link KeyStore}: one row per key (`id`, unique `hash`, `owner`, the rest as `jsonb`). Every method
 * is one statement; `update` merges the patch into the row in a single `UPDATE`, so concurrent patches of different
 * fields both land (the row lock serialises them).
 *
 * @example
 * ```ts
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool);
 * const kw = createKeyward({ store: new PostgresKeyStore({ pool }) });
 * ```
 */
export class PostgresKeyStore implements KeyStore {
  private readonly pool: Queryable;
  private readonly table: string;
  private readonly encryption: Encryption | undefined;
  private readonly sealedFields: ReadonlySet<string>;

  constructor(options: PostgresKeyStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('keyward: PostgresKeyStore takes an options object');
    refuseUnknownInput(options, OPTIONS, 'PostgresKeyStore()');
    this.pool = checkPool(options.pool);
    warnIfNoErrorListener(this.pool, 'PostgresKeyStore');
    this.table = `${quoteSchema(options.schema)}.keyward_keys`;
    this.encryption = checkEncryption(options.encryption, 'PostgresKeyStore');
    this.sealedFields = resolveSealedFields(options.sealedFields);
  }

  /** True when records are encrypted at rest (needed for recoverable keys). */
  get encryptsAtRest(): boolean {
    return this.encryption !== undefined;
  }

  async create(record: KeyRecord): Promise<void> {
    const data: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(record)) {
      if (field !== 'id' && field !== 'hash' && field !== 'owner' && value !== undefined) data[field] = this.encode(record.id, field, value);
    }
    try {
      await this.pool.query(`INSERT INTO ${this.table} (id, hash, owner, data) VALUES ($1, $2, $3, $4::jsonb)`, [record.id, record.hash, record.owner, JSON.stringify(data)]);
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new KeywardError('KEY_CONFLICT', `a key with id ${record.id} or the same hash exists`);
      throw error;
    }
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT id, hash, owner, data FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0] && this.decode(rows[0]);
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT id, hash, owner, data - 'sealed' AS data FROM ${this.table} WHERE hash = $1`, [hash]);
    return rows[0] && this.decode(rows[0]);
  }

  async list(query: PageQuery): Promise<Page<KeyRecord>> {
    const limit = Math.max(1, Math.min(1000, query.limit));
    const values: unknown[] = [limit + 1];
    const where: string[] = [];
    if (query.owner !== undefined) {
      values.push(query.owner);
      where.push(`owner = $${values.length}`);
    }
    if (query.cursor !== undefined) {
      values.push(query.cursor);
      where.push(`id > $${values.length}`);
    }
    const { rows } = await this.pool.query<Row>(
      `SELECT id, hash, owner, data - 'sealed' AS data FROM ${this.table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $1`,
      values,
    );
    const items = rows.slice(0, limit).map((r) => this.decode(r, true));
    return rows.length > limit ? { items, nextCursor: items[items.length - 1]!.id } : { items };
  }

  async update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined> {
    if (Object.prototype.hasOwnProperty.call(patch, 'owner') && patch.owner === undefined) throw new TypeError('keyward: a key patch cannot remove "owner"');
    const sets: Record<string, unknown> = {};
    const dels: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (field === 'id' || field === 'hash' || field === 'owner') continue;
      if (value === undefined) dels.push(field);
      else sets[field] = this.encode(id, field, value);
    }
    // The condition is part of the UPDATE's WHERE, so it is checked and the patch applied in one statement. Each
    // "equals" field is a plain comparison of the row, which PostgreSQL checks again on a row a concurrent UPDATE
    // changed meanwhile (written as a NOT EXISTS over jsonb_each, every one of four concurrent claims landed).
    const values: unknown[] = [id, JSON.stringify(sets), dels, patch.owner ?? null, condition?.status ?? null, [...(condition?.absent ?? [])]];
    let equals = '';
    for (const [field, value] of Object.entries(condition?.equals ?? {})) {
      if (value === undefined) continue;
      values.push(field, JSON.stringify(value));
      equals += ` AND data->$${values.length - 1}::text = $${values.length}::jsonb`;
    }
    const { rows } = await this.pool.query<Row>(
      `UPDATE ${this.table} SET data = (data || $2::jsonb) - $3::text[], owner = COALESCE($4, owner), updated_at = now()
       WHERE id = $1 AND ($5::text IS NULL OR data->>'status' = $5) AND NOT (data ?| $6::text[])${equals}
       RETURNING id, hash, owner, data - 'sealed' AS data`,
      values,
    );
    // The change is made: a sealed field that does not open is left out of the answer rather than failing it (see list()).
    if (rows[0]) return this.decode(rows[0], true);
    if (condition === undefined) return undefined;
    const exists = await this.pool.query(`SELECT 1 FROM ${this.table} WHERE id = $1`, [id]);
    if (exists.rows.length > 0) throw new KeywardError('KEY_CONFLICT', `key ${id} changed meanwhile`);
    return undefined;
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Moves every sealed field to the current master key (and seals fields stored before encryption was turned on).
   * Safe while the store is in use: a field is swapped only if it did not change meanwhile.
   *
   * @throws TypeError (a rejection) for an unknown field of `options`
   */
  async reencrypt(options: { batchSize?: number } = {}): Promise<{ scanned: number; rewritten: number }> {
    refuseUnknownInput(options, REENCRYPT_OPTIONS, 'reencrypt()');
    const encryption = this.encryption;
    if (!encryption) throw new KeywardError('INVALID_ARGUMENT', 'reencrypt() needs the store to have an "encryption" option');
    const batch = options.batchSize ?? 500;
    // 0 would read nothing and report the store done; a negative LIMIT means everything at once in Redis.
    if (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000) throw new TypeError('keyward: option "batchSize" of reencrypt() must be an integer from 1 to 100,000');
    let cursor = '';
    let scanned = 0;
    let rewritten = 0;
    for (;;) {
      const { rows } = await this.pool.query<{ id: string; data: Record<string, unknown> }>(`SELECT id, data FROM ${this.table} WHERE id > $1 ORDER BY id LIMIT $2`, [cursor, batch]);
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.id;
      for (const row of rows) {
        scanned++;
        for (const [field, value] of Object.entries(row.data)) {
          if (!this.sealedFields.has(field)) continue;
          const sealed = isSealedValue(value);
          if (sealed && encryption.keyIdOf(value[SEALED]) === encryption.currentKeyId) continue;
          const plain = sealed ? openField(encryption, row.id, field, value[SEALED]) : value;
          const next = { [SEALED]: sealField(encryption, row.id, field, plain) };
          const r = await this.pool.query(`UPDATE ${this.table} SET data = jsonb_set(data, ARRAY[$2::text], $3::jsonb) WHERE id = $1 AND data -> $2::text = $4::jsonb`, [row.id, field, JSON.stringify(next), JSON.stringify(value)]);
          rewritten += r.rowCount ?? 0;
        }
      }
    }
    return { scanned, rewritten };
  }

  private encode(id: string, field: string, value: unknown): unknown {
    if (this.sealedFields.has(field)) {
      if (this.encryption) return { [SEALED]: sealField(this.encryption, id, field, value) };
      if (field === 'sealed') throw new KeywardError('INVALID_ARGUMENT', 'a recoverable key needs encryption at rest: give the store an "encryption" option');
    }
    return value;
  }

  /** A record from its row. `listing` (a page, or an update's answer): a sealed field that does not open is left out (see `openListedField`). */
  private decode(row: Row, listing = false): KeyRecord {
    const out: Record<string, unknown> = { id: row.id, hash: row.hash, owner: row.owner };
    for (const [field, value] of Object.entries(row.data)) {
      if (isSealedValue(value)) {
        if (listing) {
          const opened = openListedField(this.encryption, row.id, field, value[SEALED]);
          if (!isUnreadable(opened)) out[field] = opened;
          continue;
        }
        if (!this.encryption) throw new KeywardError('DECRYPTION_FAILED', `key ${row.id} has encrypted fields but the store has no "encryption" option`);
        out[field] = openField(this.encryption, row.id, field, value[SEALED]);
      } else {
        out[field] = value;
      }
    }
    return out as unknown as KeyRecord;
  }
}
