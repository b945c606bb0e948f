import type { Feature, PipelineContext, StageResult } from '../pipeline/context';
import type { FeatureDeps } from '../features/deps';
import type { KeywardOptions } from '../config/options';
import { deny } from '../denials';
import { parseDuration } from '../util/duration';
import { addressBucket, parseSubnet } from './address-key';
import { guardStore, type GuardedStore } from './guarded-store';
import { fixedWindow } from './periods';
import { isMemoryLimiterStore, memoryLimiterStore, storeFromOption, type LimiterStore } from './store';
import type { AuthFailureOptions } from './types';

/** `authFailures` after parsing. Internal. */
export interface AuthFailureConfig {
  readonly max: number;
  readonly windowMs: number;
  readonly blockMs: number;
  readonly ipv6Subnet: number;
  readonly maxEntries: number;
}

/**
 * Parses `authFailures` once. Never mutates the input.
 *
 * @throws TypeError naming the option for every mistake
 */
export function parseAuthFailures(options: AuthFailureOptions): AuthFailureConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('keyward: option "authFailures" must be an object');
  const max = options.max ?? 10;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('keyward: option "authFailures.max" must be a positive integer');
  const windowMs = parseDuration(options.window ?? '15m', 'authFailures.window');
  const blockMs = parseDuration(options.block ?? '15m', 'authFailures.block');
  if (windowMs < 1000) throw new TypeError('keyward: option "authFailures.window" must be at least 1 second');
  if (blockMs < 1000) throw new TypeError('keyward: option "authFailures.block" must be at least 1 second');
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('keyward: option "authFailures.maxEntries" must be a positive integer');
  return { max, windowMs, blockMs, ipv6Subnet: parseSubnet(options.ipv6Subnet, 'authFailures.ipv6Subnet'), maxEntries };
}

/**
 * Failed-authentication blocking. Failures are counted per address bucket (IPv4 address, IPv6 subnet) in fixed
 * windows; the failure that reaches `max` writes a block entry holding its end time (Unix seconds), which the
 * `preauth` stage checks before any credential is read. A request without a credential is not a failure here. If the
 * store fails, counting falls back to memory, so blocking keeps working on this instance.
 */
export function authFailuresFeature(options: KeywardOptions, deps: FeatureDeps): Feature | undefined {
  if (options.authFailures === undefined) return undefined;
  const config = parseAuthFailures(options.authFailures);
  const { clock, events, challenge } = deps;
  const memory = () => memoryLimiterStore({ clock, maxEntries: config.maxEntries });
  const primary: LimiterStore = storeFromOption(options.authFailures.store, 'authFailures.store', memory);
  const inProcess = options.authFailures.store === undefined || isMemoryLimiterStore(primary);
  const local = inProcess ? undefined : memory();
  const store: GuardedStore = inProcess
    ? { increment: (k, a, t) => primary.increment(k, a, t), get: (k) => primary.get(k) }
    : guardStore({ store: primary, policy: 'local', timeoutMs: 250, local: local!, onFailure: (reason) => events.emit({ type: 'store.error', reason, data: { component: 'authFailures' } }) });

  async function blocked(ctx: PipelineContext): Promise<StageResult> {
    const bucket = addressBucket(ctx.clientAddress, config.ipv6Subnet);
    if (bucket === undefined) return undefined;
    const until = await store.get(`ab:${bucket}`);
    if (typeof until !== 'number' || until <= 0) return undefined;
    const endMs = Math.min(until * 1000, ctx.now + config.blockMs);
    if (endMs <= ctx.now) return undefined;
    return deny('AUTH_BLOCKED', ctx.requestId, challenge, {
      detail: 'Too many failed authentication attempts from this address; try again later.',
      headers: { ...ctx.headers, 'Retry-After': String(Math.max(1, Math.ceil((endMs - ctx.now) / 1000))) },
    });
  }

  function onAuthFailure(ctx: PipelineContext, code: string): void {
    if (code === 'CREDENTIALS_MISSING') return;
    const bucket = addressBucket(ctx.clientAddress, config.ipv6Subnet);
    if (bucket === undefined) return;
    const w = fixedWindow(ctx.now, config.windowMs);
    void store.increment(`af:${bucket}:${w.start}`, 1, w.end - ctx.now).then((n) => {
      if (n !== config.max) return;
      const untilSeconds = Math.ceil((ctx.now + config.blockMs) / 1000);
      void store.increment(`ab:${bucket}`, untilSeconds, config.blockMs);
      events.emit({
        type: 'auth.blocked',
        requestId: ctx.requestId,
        ...(ctx.clientAddress !== undefined ? { clientAddress: ctx.clientAddress } : {}),
        reason: 'AUTH_FAILURES',
        data: { bucket, failures: n, windowSeconds: Math.round(config.windowMs / 1000), blockSeconds: Math.round(config.blockMs / 1000), until: new Date(untilSeconds * 1000).toISOString() },
      });
    });
  }

  return {
    name: 'authFailures',
    stages: { preauth: blocked },
    onAuthFailure,
    async close() {
      if (options.authFailures?.store === undefined) await primary.close?.();
      await local?.close?.();
    },
  };
}
