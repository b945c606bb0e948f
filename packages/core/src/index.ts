/**
 * `@keyward/core`: the framework-free core of keyward. Adapters import only from here.
 *
 * @packageDocumentation
 */
export { createKeyward, isKeyward, type Keyward } from './keyward';
export type { KeywardOptions } from './config/options';
export type { KeywardConfig } from './config/config';
export type {
  AuthRequest,
  Principal,
  Requirements,
  ScopeRequirement,
  Decision,
  AllowDecision,
  DenyDecision,
  DenialCode,
  ProblemDetails,
  CompletionInfo,
  ResponseHeaders,
} from './model';
export { KeywardError, isKeywardError, type KeywardErrorCode } from './errors';
export { DENIAL_TABLE, deny, statusOf, problemType, challengeFor, type DenyOptions, type ChallengeConfig } from './denials';
export { EVENT_SCHEMA, type KeywardEvent, type KeywardEventType, type EventListener, type EventInput } from './events/schema';
export { EventBus } from './events/bus';
export { redactHeaders, redactQuery, REDACTED, SENSITIVE_HEADERS, SENSITIVE_QUERY_PARAMS } from './events/redact';
export { KeyManager, type CreateKeyInput, type CreatedKey, type UpdateKeyInput, type KeyManagerDeps } from './keys/manager';
export { generateKey, parseKey, checksum, keyHint, looksLikeKeywardKey, randomLength, CHECKSUM_LENGTH, type KeyFormat, type ParsedKey } from './keys/format';
export { createKeyHasher, sha256Hex, type KeyHasher } from './keys/hash';
export { toKeyInfo, type KeyRecord, type KeyInfo, type KeyPatch, type KeyStatus, type HashVersion } from './keys/record';
export { principalOf, keyStatus } from './keys/authenticator';
export { applyPatch, type KeyStore, type Page, type PageQuery } from './stores/key-store';
export { MemoryKeyStore } from './stores/memory-key-store';
export type { InvalidationChannel, KeyChange } from './stores/invalidation';
export { extractCredential, type Credential, type CredentialSource, type ExtractionConfig, type Extraction } from './credentials/extract';
export { parseScopeExpression, isValidScope, type ScopeExpression } from './scopes/expression';
export { compileScopes, isCompiledScopes, grants, holds, satisfies, scopesOf, type CompiledScopes } from './scopes/match';
export type { PipelineContext, Stage, StageResult, Authenticator, AuthOutcome, Feature, Phase, Completion } from './pipeline/context';
export { normaliseAddress, socketAddress, type AddressResolver } from './pipeline/address';
export { toAuthRequest, writeDenial, denialBody, setHeaders, onResponseDone } from './node/incoming';
export { systemClock, manualClock, type Clock, type ManualClock } from './util/clock';
export { parseDuration } from './util/duration';
export { readSecret } from './util/secret';
export { safeEqual } from './util/time-safe';
export { warnOnce } from './util/warn';
export { LruCache } from './util/lru';
export { randomBase62, BASE62 } from './util/base62';
export type { KeyRestrictions } from './restrictions/types';
export type { KeyLimitOverrides } from './limits/types';
export { readBody, writeEndpointResponse, serveEndpoint, endpointResponse } from './node/incoming';
export { resolveMount, compileRequirements, compileScopeArgs, type MountOptions, type Mount } from './node/incoming';
export { MAX_ENDPOINT_BODY, type Endpoint, type EndpointRequest, type EndpointResponse } from './endpoints/endpoint';
export type { RevocationStore } from './tokens/revocation-store';
export { createEncryption, parseMasterKeys, encryptionFromEnv, DEFAULT_SEALED_FIELDS, fieldAad, sealField, openField, type Encryption, type EncryptionOptions, type MasterKey } from './crypto';
