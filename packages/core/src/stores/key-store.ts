import { isDeepStrictEqual } from 'node:util';
import type { KeyNotices, KeyPatch, KeyRecord, KeyStatus } from '../keys/record';

/** A page request. */
export interface PageQuery {
  /** Only keys of this owner. */
  readonly owner?: string;
  /** Page size (1–1000). */
  readonly limit: number;
  /** Opaque cursor from the previous page. */
  readonly cursor?: string;
}

/** A page of records. */
export interface Page<T> {
  readonly items: T[];
  /** Present when there are more. */
  readonly nextCursor?: string;
}

/**
 * Where key records live. Small on purpose: memory, Redis and PostgreSQL implement it, and one conformance suite
 * checks all of them. Every method is atomic on its own.
 */
export interface KeyStore {
  /** Adds a record. Fails with `KEY_CONFLICT` when the id or the hash exists. */
  create(record: KeyRecord): Promise<void>;
  /** The record with this id. */
  get(id: string): Promise<KeyRecord | undefined>;
  /** The record with this hash. */
  findByHash(hash: string): Promise<KeyRecord | undefined>;
  /** Records, optionally of one owner, ordered by id, paginated. */
  list(query: PageQuery): Promise<Page<KeyRecord>>;
  /**
   * Applies a shallow patch atomically (fields set to `undefined` are removed) and returns the new record,
   * or `undefined` when there is no such id. Concurrent patches of different fields both land. With `condition`, the
   * patch lands only if the record meets it at that moment, checked atomically with the patch; otherwise it fails
   * with `KEY_CONFLICT` and changes nothing (how two concurrent rotations of one key end with one successor, not two).
   * A store that ignores `condition` leaves such races open.
   */
  update(id: string, patch: KeyPatch, condition?: UpdateCondition): Promise<KeyRecord | undefined>;
  /** Removes a record; true when it existed. */
  delete(id: string): Promise<boolean>;
  /** Releases connections the store opened itself (never an injected client). */
  close?(): Promise<void>;
}

/** What a conditional {@link KeyStore.update} requires of the record it patches. */
export interface UpdateCondition {
  /** The record's status must be this one. */
  readonly status?: KeyStatus;
  /** These fields must be absent from the record. */
  readonly absent?: readonly (keyof KeyRecord)[];
  /**
   * These fields must hold these values, as read from this store (a JSON value compared as the store keeps it). How
   * `keys.sweep()` records a notice as sent only if no other sweep recorded one since it read the key, so two sweeps
   * running at once send it once, and how a failed rotation lifts its claim of the old key only while the claim is its
   * own (`rotatedTo`). A field given as `undefined` is not checked (list it in `absent` instead). Only fields the
   * store keeps as plain JSON: `notified` is never sealed; `rotatedTo` is not unless `sealedFields` names it (then it
   * never compares equal, and the change is refused, which is the safe answer).
   */
  readonly equals?: { readonly notified?: Readonly<KeyNotices>; readonly rotatedTo?: string };
}

/** True when `record` meets `condition` (none: always). */
export function meetsCondition(record: KeyRecord, condition: UpdateCondition | undefined): boolean {
  if (condition === undefined) return true;
  if (condition.status !== undefined && record.status !== condition.status) return false;
  if (!(condition.absent ?? []).every((field) => record[field] === undefined)) return false;
  return Object.entries(condition.equals ?? {}).every(([field, value]) => value === undefined || isDeepStrictEqual(record[field as keyof KeyRecord], value));
}

/** Applies a {@link KeyPatch} to a record, returning a new record. */
export function applyPatch(record: KeyRecord, patch: KeyPatch): KeyRecord {
  const next: Record<string, unknown> = { ...record };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  return next as unknown as KeyRecord;
}
