import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Feature, PipelineContext, StageResult } from '../pipeline/context';
import type { FeatureDeps } from '../features/deps';
import type { KeywardOptions } from '../config/options';
import { deny } from '../denials';
import { parseDuration } from '../util/duration';
import type { LoadSheddingOptions } from './types';
import { fieldsOf, likelyMeant, optionObject, shownName } from '../config/fields';
import { limitNames } from './config';

const LOAD_SHEDDING_FIELDS = fieldsOf<LoadSheddingOptions>({ maxEventLoopDelay: true, planPriority: true, retryAfter: true, sampleInterval: true, signal: true });

/** `loadShedding` after parsing. Internal. */
export interface LoadSheddingConfig {
  readonly thresholdMs: number;
  readonly planPriority: readonly string[];
  readonly retryAfterSeconds: number;
  readonly sampleMs: number;
  readonly signal: (() => number) | undefined;
}

/**
 * Parses `loadShedding` once. Never mutates the input. `plans` are the plans `limits.plans` configures: a
 * `planPriority` entry a letter or two from one of them (`enterprse`) is a typo, whose callers would be shed first.
 *
 * @throws TypeError naming the option for every mistake
 */
export function parseLoadShedding(options: LoadSheddingOptions, plans: readonly string[] = []): LoadSheddingConfig {
  optionObject(options, 'loadShedding', LOAD_SHEDDING_FIELDS);
  const thresholdMs = parseDuration(options.maxEventLoopDelay ?? 100, 'loadShedding.maxEventLoopDelay');
  if (thresholdMs < 1) throw new TypeError('keyward: option "loadShedding.maxEventLoopDelay" must be at least 1 ms');
  const planPriority = options.planPriority ?? [];
  if (!Array.isArray(planPriority) || planPriority.some((p) => typeof p !== 'string')) throw new TypeError('keyward: option "loadShedding.planPriority" must be an array of plan names, lowest first');
  const twice = planPriority.find((p, i) => planPriority.indexOf(p) !== i);
  if (twice !== undefined) throw new TypeError(`keyward: option "loadShedding.planPriority" lists the plan ${shownName(twice)} twice; give each plan one place, lowest first`);
  planPriority.forEach((p: string, i) => {
    const meant = plans.includes(p) ? undefined : likelyMeant(p, plans);
    if (meant !== undefined) throw new TypeError(`keyward: option "loadShedding.planPriority[${i}]" names the plan ${shownName(p)}, which "limits.plans" does not configure (did you mean "${meant}"? known: ${plans.join(', ')})`);
  });
  const retryAfterSeconds = Math.max(1, Math.ceil(parseDuration(options.retryAfter ?? '5s', 'loadShedding.retryAfter') / 1000));
  const sampleMs = parseDuration(options.sampleInterval ?? '500ms', 'loadShedding.sampleInterval');
  if (sampleMs < 10) throw new TypeError('keyward: option "loadShedding.sampleInterval" must be at least 10 ms');
  if (options.signal !== undefined && typeof options.signal !== 'function') throw new TypeError('keyward: option "loadShedding.signal" must be a function returning the current delay in ms');
  return { thresholdMs, planPriority: [...planPriority], retryAfterSeconds, sampleMs, signal: options.signal };
}

/**
 * The default load signal: the p99 event-loop delay (ms) over the last sample interval, or the sampling timer's own
 * lateness when that is larger. The lateness matters after a single long stall: when the sampling timer runs before
 * the histogram's, the histogram has not recorded the stall yet, and resetting it drops the delay that spans the
 * reset (Node's `reset()` forgets the previous tick), so the histogram alone would never show that stall.
 */
export function eventLoopDelaySignal(sampleMs: number): { read: () => number; stop: () => void } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let current = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - sampleMs;
    last = now;
    const p99 = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
    current = late > p99 ? late : p99;
    histogram.reset();
  }, sampleMs);
  timer.unref();
  return {
    read: () => current,
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}

/**
 * Adaptive throttling: while the load signal (event-loop delay) is above the threshold, requests are shed with 503
 * `OVERLOADED` and `Retry-After`, lowest plans first: the plan at position `i` of `planPriority` is shed above
 * `threshold × (i + 1)`, callers with no or an unlisted plan above the threshold itself. It recovers by itself as
 * soon as the signal falls. Runs in the `load` phase, after authentication and scopes, before rate limits (a shed
 * request consumes no quota).
 */
export function loadSheddingFeature(options: KeywardOptions, deps: FeatureDeps): Feature | undefined {
  if (options.loadShedding === undefined) return undefined;
  const config = parseLoadShedding(options.loadShedding, limitNames(options.limits)?.plans);
  const monitor = config.signal ? undefined : eventLoopDelaySignal(config.sampleMs);
  const read = config.signal ?? monitor!.read;
  const rank = new Map(config.planPriority.map((p, i) => [p, i]));

  function shed(ctx: PipelineContext): StageResult {
    const load = read();
    if (!(load > config.thresholdMs)) return undefined;
    const plan = ctx.principal?.plan;
    const position = plan !== undefined ? (rank.get(plan) ?? 0) : 0;
    if (load <= config.thresholdMs * (position + 1)) return undefined;
    return deny('OVERLOADED', ctx.requestId, deps.challenge, {
      detail: 'The service is overloaded; try again shortly.',
      headers: { ...ctx.headers, 'Retry-After': String(config.retryAfterSeconds) },
    });
  }

  return {
    name: 'loadShedding',
    stages: { load: shed },
    close() {
      monitor?.stop();
    },
  };
}
