import { effectiveExpiry, type KeyPolicy } from './policy';
import type { KeyInfo, KeyNotices, KeyRecord } from './record';

/**
 * Why a key is due for rotation: an imported legacy key, one found stored under a previous pepper (see
 * `KeyRecord.previousPepperAt`), one near or past its maximum age, or one that expires soon.
 */
export type DueReason = 'legacy' | 'previous-pepper' | 'max-age' | 'expiring';

/** A key listed by `keys.dueForRotation()`. */
export interface DueKey {
  readonly key: KeyInfo;
  readonly reason: DueReason;
  /**
   * When the key reaches its maximum age or expires (ms since the epoch); its creation for legacy keys; when it was
   * found under a previous pepper for `previous-pepper`.
   */
  readonly dueAt: number;
}

/** What `keys.dueForRotation()` takes. */
export interface DueQuery {
  /** Maximum age (default `keyPolicy.maxAge`; without one, only legacy and expiring keys are due). */
  maxAge?: number | string;
  /** List keys this long before they are due (default `keyPolicy.expiringLead`). */
  lead?: number | string;
  /** Only keys of this owner. */
  owner?: string;
}

/** True when a key can still be used and rotated: active, not rotated already, not past its expiry. */
export function isLive(record: KeyRecord, now: number, policy: KeyPolicy): boolean {
  if (record.status !== 'active' || record.rotatedTo !== undefined || record.graceEndsAt !== undefined) return false;
  const expiry = effectiveExpiry(record, policy);
  return expiry === undefined || expiry > now;
}

/**
 * Whether (and why) a live key is due for rotation at `now`: legacy keys and keys found under a previous pepper
 * always; others when their maximum age or their expiry is less than `leadMs` away (or passed, for the age).
 */
export function dueFor(record: KeyRecord, now: number, maxAgeMs: number | undefined, leadMs: number): { reason: DueReason; dueAt: number } | undefined {
  if (record.legacy === true) return { reason: 'legacy', dueAt: record.createdAt };
  if (record.previousPepperAt !== undefined) return { reason: 'previous-pepper', dueAt: record.previousPepperAt };
  const candidates: Array<{ reason: DueReason; dueAt: number }> = [];
  if (maxAgeMs !== undefined) candidates.push({ reason: 'max-age', dueAt: record.createdAt + maxAgeMs });
  if (record.expiresAt !== undefined) candidates.push({ reason: 'expiring', dueAt: record.expiresAt });
  candidates.sort((a, b) => a.dueAt - b.dueAt);
  const first = candidates[0];
  return first && first.dueAt - leadMs <= now ? first : undefined;
}

/** One thing `keys.sweep()` does to a key. */
export type SweepAction =
  | { readonly kind: 'grace-ended'; readonly at: number }
  | { readonly kind: 'expired'; readonly at: number; readonly byAge: boolean }
  | { readonly kind: 'expiring'; readonly at: number; readonly byAge: boolean }
  | { readonly kind: 'idle'; readonly since: number };

/**
 * What the sweep should do with one key at `now`. Notices already sent for the same reference time (recorded in
 * `record.notified`) are not repeated, so every event goes out once per key and condition.
 */
export function sweepActions(record: KeyRecord, now: number, policy: KeyPolicy): SweepAction[] {
  if (record.status !== 'active') return [];
  if (record.graceEndsAt !== undefined) return record.graceEndsAt <= now ? [{ kind: 'grace-ended', at: record.graceEndsAt }] : [];
  const sent: KeyNotices = record.notified ?? {};
  const actions: SweepAction[] = [];
  const expiry = effectiveExpiry(record, policy);
  if (expiry !== undefined) {
    const byAge = expiry !== record.expiresAt;
    if (expiry <= now) {
      if (sent.expired !== expiry) actions.push({ kind: 'expired', at: expiry, byAge });
      return actions;
    }
    if (expiry - policy.expiringLeadMs <= now && sent.expiring !== expiry) actions.push({ kind: 'expiring', at: expiry, byAge });
  }
  if (policy.idleAfterMs !== undefined) {
    const since = record.lastUsedAt ?? record.createdAt;
    if (now - since >= policy.idleAfterMs && sent.idle !== since) actions.push({ kind: 'idle', since });
  }
  return actions;
}

/** What `keys.sweep()` did, by key id. */
export interface SweepReport {
  /** Keys looked at. */
  readonly scanned: number;
  /** Keys reported `key.expiring`. */
  readonly expiring: string[];
  /** Keys reported `key.expired`. */
  readonly expired: string[];
  /** Keys reported `key.idle`. */
  readonly idle: string[];
  /** Rotated keys whose grace period ended, now marked revoked. */
  readonly revoked: string[];
}
