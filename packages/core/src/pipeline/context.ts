import type { AuthRequest, CompletionInfo, DenyDecision, Principal, Requirements, ResponseHeaders } from '../model';
import type { Credential } from '../credentials/extract';
import type { KeyRecord } from '../keys/record';
import type { CompiledScopes } from '../scopes/match';

/** What `done()` hands to completion hooks. */
export interface Completion extends CompletionInfo {
  readonly durationMs: number;
}

/**
 * The state of one request as it moves through the pipeline. Stages read it and add to it; a stage refuses the
 * request by returning a {@link DenyDecision}.
 */
export interface PipelineContext {
  readonly request: AuthRequest;
  readonly requirements: Requirements;
  /** Compiled scope requirement, if any. */
  readonly scopes: CompiledScopes | undefined;
  readonly requestId: string;
  /** Clock reading at the start of the request (ms since epoch). */
  readonly now: number;
  /** Resolved client address (trusted proxies applied), normalised. */
  clientAddress: string | undefined;
  credential?: Credential;
  principal?: Principal;
  /** The key record, when a key authenticated. */
  record?: KeyRecord;
  /** Response headers to send whatever the outcome (rate-limit state, deprecation…). */
  readonly headers: ResponseHeaders;
  /** Feature-private per-request state. */
  readonly state: Map<symbol, unknown>;
  /** Called when the response finished (allowed requests only). */
  readonly onDone: Array<(completion: Completion) => void>;
}

/** What a stage returns: a denial to stop, nothing to go on. */
export type StageResult = DenyDecision | undefined | void;

/** One step of the pipeline. */
export type Stage = (ctx: PipelineContext) => StageResult | Promise<StageResult>;

/**
 * The outcome of an authenticator: a principal, or a denial code with a detail that names no secret. A denial names
 * whom it refused, for its event only (never handed to the application): `keyId`, a key refused for its own status;
 * `token`, a token refused after its signature was verified (revoked, expired, its key gone), named as its accepted
 * requests are — with `record`, the key it was exchanged for. Nothing of a credential that was not verified.
 */
export type AuthOutcome =
  | { readonly principal: Principal; readonly record?: KeyRecord; readonly headers?: ResponseHeaders }
  | { readonly code: 'CREDENTIALS_INVALID' | 'KEY_EXPIRED' | 'KEY_REVOKED' | 'KEY_DISABLED' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'STORE_UNAVAILABLE'; readonly detail: string; readonly keyId?: string; readonly token?: Principal; readonly record?: KeyRecord; readonly headers?: ResponseHeaders };

/** Turns a credential into a principal (API keys, JWTs, …). The first that accepts a credential owns it. */
export interface Authenticator {
  readonly name: string;
  /** True when this authenticator is responsible for the credential. */
  accepts(credential: { readonly value: string; readonly source: string; readonly scheme?: string }): boolean;
  /** Answers synchronously when it can (a cached key or token), so the request costs no microtask. */
  authenticate(credential: { readonly value: string; readonly source: string; readonly scheme?: string }, ctx: PipelineContext): AuthOutcome | Promise<AuthOutcome>;
}

/** The pipeline's phases, in order. A feature contributes stages to any of them. */
export type Phase = 'preauth' | 'postauth' | 'restrictions' | 'load' | 'limits';

/** The phases in pipeline order. */
export const PHASES: readonly Phase[] = ['preauth', 'postauth', 'restrictions', 'load', 'limits'];

/**
 * A capability plugged into the pipeline (limits, restrictions, tokens, metrics…). Built from the options once at
 * start-up by `createKeyward`.
 */
export interface Feature {
  readonly name: string;
  /** Stages by phase. */
  readonly stages?: Partial<Record<Phase, Stage>>;
  /** Authenticators tried before the API-key one. */
  readonly authenticators?: readonly Authenticator[];
  /**
   * Told about every authentication failure (401 or 400), e.g. to block brute force. A returned promise delays the
   * answer until it settles (a failure counted in a remote store is seen by the next request); it never rejects it. A
   * denial it returns (or resolves to) is the answer instead (a block that started while the request was in flight).
   */
  onAuthFailure?(ctx: PipelineContext, code: string): DenyDecision | undefined | void | Promise<DenyDecision | undefined | void>;
  /** Releases timers and connections. */
  close?(): Promise<void> | void;
}
