import type { AuthRequest, DenyDecision } from '../model';
import type { Completion, Feature, Phase, PipelineContext, Stage } from './context';

const NO_REQUIREMENTS = Object.freeze({});

/** The stages the features contribute to `phase`, in feature order: the pipeline's stages for that phase. */
export function stagesOf(features: ReadonlyMap<string, Feature>, phase: Phase): Stage[] {
  return [...features.values()].flatMap((f) => (f.stages?.[phase] ? [f.stages[phase]!] : []));
}

/** What a request keyward answers outside the pipeline is known by before any stage runs. */
export interface OutsideRequest {
  readonly request: AuthRequest;
  readonly requestId: string;
  /** The clock read once, at the start of the request (ms since epoch). */
  readonly now: number;
  /** The client address as the pipeline resolves it (trusted proxies applied). */
  readonly clientAddress: string | undefined;
}

/**
 * A pipeline context for a request keyward answers itself, outside the pipeline (the OAuth token endpoint), so the
 * pipeline's stages run on it unchanged, in the same counters and buckets: no requirements (cost 1), no credential,
 * principal or record until the caller sets them, and empty headers, state and completion hooks that the stages it
 * runs share, as they share a pipeline request's. The request is read, never changed.
 */
export function outsideContext({ request, requestId, now, clientAddress }: OutsideRequest): PipelineContext {
  return { request, requirements: NO_REQUIREMENTS, scopes: undefined, requestId, now, clientAddress, headers: {}, state: new Map(), onDone: [] };
}

/**
 * Runs `stages` on `ctx` one after the other, as the pipeline does: the first refusal (the later stages do not run),
 * or `undefined` when every stage let the request go on. Rejects only if a stage does.
 */
export async function firstRefusal(stages: readonly Stage[], ctx: PipelineContext): Promise<DenyDecision | undefined> {
  for (const stage of stages) {
    const denied = await stage(ctx);
    if (denied) return denied;
  }
  return undefined;
}

/** Calls each completion hook with `completion`; a hook that throws never breaks the response or the other hooks. */
export function runCompletionHooks(hooks: ReadonlyArray<(completion: Completion) => void>, completion: Completion): void {
  for (const hook of hooks) {
    try {
      hook(completion);
    } catch {
      // a completion hook never breaks the response
    }
  }
}
