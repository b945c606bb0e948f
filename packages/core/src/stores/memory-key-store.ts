import { inspect } from 'node:util';
import { KeywardError } from '../errors';
import type { KeyPatch, KeyRecord } from '../keys/record';
import { applyPatch, meetsCondition, type KeyStore, type Page, type PageQuery, type UpdateCondition } from './key-store';

const freeze = (r: KeyRecord): KeyRecord => structuredClone(r);

/**
 * The in-memory {@link KeyStore}: the default, for one process and for tests. Records are copied in and out so
 * callers can never mutate what is stored.
 */
export class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<string, KeyRecord>();
  private readonly idByHash = new Map<string, string>();

  /** What `console.log(kw)` and `util.inspect` show: how many keys, never their records (each holds its key's hash). */
  [inspect.custom](): string {
    return `MemoryKeyStore { keys: ${this.byId.size} }`;
  }

  async create(record: KeyRecord): Promise<void> {
    if (this.byId.has(record.id) || this.idByHash.has(record.hash)) {
      throw new KeywardError('KEY_CONFLICT', `a key with id ${record.id} or the same hash exists`);
    }
    this.byId.set(record.id, freeze(record));
    this.idByHash.set(record.hash, record.id);
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const r = this.byId.get(id);
    return r && freeze(r);
  }

  async findByHash(hash: string): Promise<KeyRecord | undefined> {
    const id = this.idByHash.get(hash);
    return id === undefined ? undefined : this.get(id);
  }

  async list(query: PageQuery): Promise<Page<KeyRecord>> {
    const limit = Math.max(1, Math.min(1000, query.limit));
    const ids = [...this.byId.keys()].sort();
    const items: KeyRecord[] = [];
    let nextCursor: string | undefined;
    for (const id of ids) {
      if (query.cursor !== undefined && id <= query.cursor) continue;
      const r = this.byId.get(id)!;
      if (query.owner !== undefined && r.owner !== query.owner) continue;
      if (items.length === limit) {
        nextCursor = items[items.length - 1]!.id;
        break;
      }
      items.push(freeze(r));
    }
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  async update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined> {
    const r = this.byId.get(id);
    if (!r) return undefined;
    if (!meetsCondition(r, condition)) throw new KeywardError('KEY_CONFLICT', `key ${id} changed meanwhile`);
    const next = applyPatch(r, patch);
    this.byId.set(id, freeze(next));
    return freeze(next);
  }

  async delete(id: string): Promise<boolean> {
    const r = this.byId.get(id);
    if (!r) return false;
    this.byId.delete(id);
    this.idByHash.delete(r.hash);
    return true;
  }

  /** Number of records (for tests and benches). */
  get size(): number {
    return this.byId.size;
  }
}
