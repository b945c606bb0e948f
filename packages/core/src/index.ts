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
export { EVENT_SCHEMA, EVENT_TYPES, isEventType, unknownEventType, type KeywardEvent, type KeywardEventType, type EventListener, type EventInput } from './events/schema';
export { EventBus, EVENTS_CHANNEL } from './events/bus';
export { isCredentialName, redactCredentials, redactHeaders, redactQuery, REDACTED, SENSITIVE_HEADERS, SENSITIVE_QUERY_PARAMS, SENSITIVE_URL_PARAMS } from './events/redact';
export { KeyManager, type CreateKeyInput, type CreatedKey, type UpdateKeyInput, type KeyManagerDeps } from './keys/manager';
export { generateKey, parseKey, checksum, keyHint, isKeyShaped, keywardKeysIn, looksLikeKeywardKey, randomLength, CHECKSUM_LENGTH, type KeyFormat, type ParsedKey } from './keys/format';
export { isStorableText, shownKeyId } from './keys/validate';
export { createKeyHasher, sha256Hex, type KeyHasher, type KeyLookup } from './keys/hash';
export { toKeyInfo, type KeyRecord, type KeyInfo, type KeyPatch, type KeyStatus, type HashVersion } from './keys/record';
export { principalOf, keyStatus } from './keys/authenticator';
export type { RotateKeyOptions, RotatedKey, RevokedKeys } from './keys/manager';
export { parseKeyPolicy, effectiveExpiry, DEFAULT_KEY_POLICY, type KeyPolicy, type KeyPolicyOptions, type KeyLifecycleOptions } from './keys/policy';
export type { DueKey, DueQuery, DueReason, SweepReport } from './keys/lifecycle';
export type { ImportKeyInput } from './keys/import';
export type { KeyNotices } from './keys/record';
export { applyPatch, meetsCondition, type KeyStore, type Page, type PageQuery, type UpdateCondition } from './stores/key-store';
export { MemoryKeyStore } from './stores/memory-key-store';
export type { InvalidationChannel, KeyChange } from './stores/invalidation';
export { extractCredential, type Credential, type CredentialSource, type ExtractionConfig, type Extraction } from './credentials/extract';
export { parseScopeExpression, isValidScope, type ScopeExpression } from './scopes/expression';
export { compileScopes, isCompiledScopes, grants, holds, satisfies, scopesOf, type CompiledScopes } from './scopes/match';
export type { PipelineContext, Stage, StageResult, Authenticator, AuthOutcome, Feature, Phase, Completion } from './pipeline/context';
export { normaliseAddress, socketAddress, createAddressResolver, parseTrustProxy, parseHop, isClientAddressResolver, MAX_HOPS, MAX_FORWARDED_LENGTH, type AddressResolver, type ClientAddressResolver, type AddressOptions, type TrustProxy } from './pipeline/address';
export { toAuthRequest, writeDenial, denialBody, setHeaders } from './node/incoming';
export { onResponseDone, prepareResponseTracking, type NodeResponse } from './node/response-done';
export { prepareRequestAuth, setRequestAuth } from './node/request-auth';
export { systemClock, manualClock, type Clock, type ManualClock } from './util/clock';
export { parseDuration } from './util/duration';
export { fieldsOf, likelyMeant, optionObject, refuseUnknownFields, refuseUnknownInput, type FieldNames } from './config/fields';
export { ENVIRONMENT_NAMES, misspeltEnvironment } from './config/environment';
export { boundedMemo } from './util/memo';
export { readSecret } from './util/secret';
export { safeEqual } from './util/time-safe';
export { warnOnce } from './util/warn';
export { LruCache } from './util/lru';
export { randomBase62, encodeBase62, BASE62 } from './util/base62';
export type { KeyRestrictions, RestrictionPolicy, RestrictionsOptions, IpRestriction, ReferrerRestriction, UserAgentRestriction, TimeRestriction, TimeWindow, Weekday, CountryRestriction, RouteRule } from './restrictions/types';
export { validateRestrictions } from './restrictions/compile';
export { restrictionsFeature, restrictionsControl, type RestrictionsControl, type RestrictionsFeature } from './restrictions/feature';
export { BOT_USER_AGENTS } from './restrictions/bots';
export { parseIp, formatIp, canonicalIp, type IpAddress } from './restrictions/ip-address';
export { compileCidrList, NAMED_RANGES, type CidrList } from './restrictions/cidr';
export type { KeyLimitOverrides, LimitOverride, LimitKeyContext, LimitBy, RateLimitRule, QuotaRule, QuotaPeriod, PlanDefinition, RateLimitHeaderMode, StoreFailurePolicy, LimiterStoreOption, LimitsOptions, AuthFailureOptions, LoadSheddingOptions, LimitsFeatureOptions } from './limits/types';
export { memoryLimiterStore, redisLimiterStore, isLimiterStore, type LimiterStore, type MemoryLimiterStore, type MemoryLimiterStoreOptions, type RedisLimiterStoreOptions, type RedisLikeClient } from './limits/store';
export { addressBucket } from './limits/address-key';
export { QUOTA_EXCEEDED_TYPE } from './limits/feature';
export { readBody, writeEndpointResponse, serveEndpoint, endpointResponse } from './node/incoming';
export { resolveMount, compileRequirements, compileScopeArgs, type MountOptions, type Mount, type CompiledRequirements } from './node/incoming';
export { MAX_ENDPOINT_BODY, type Endpoint, type EndpointRequest, type EndpointResponse } from './endpoints/endpoint';
export { checkRevocation, type RevocationStore } from './tokens/revocation-store';
export { MemoryRevocationStore } from './tokens/memory-revocation-store';
export { UNCONFIGURED_TOKENS, tokensApiOf, type TokenApi, type TokensFeature } from './tokens/feature';
export type { TokenOptions, TrustedIssuerOptions, SigningOptions, SigningKeyOptions, ClaimMappingOptions, RemoteJwksOptions, JwkInput } from './tokens/options';
export type { IssueTokenInput, IssuedToken } from './tokens/issuer';
export type { VerifiedToken, TokenFailure } from './tokens/verifier';
export type { PublicJwks, PublicJwk } from './tokens/jwks';
export type { OAuthErrorCode } from './tokens/exchange';
export { createEncryption, checkEncryption, parseMasterKeys, encryptionFromEnv, DEFAULT_SEALED_FIELDS, NEVER_SEALED_FIELDS, fieldAad, sealField, openField, openListedField, isUnreadable, resolveSealedFields, type Encryption, type EncryptionOptions, type MasterKey } from './crypto';
export { MemoryMetrics, parseTopQuery, metricsFeature, parseMetricsOptions, observationOf, observedKeyId, statusClass, LATENCY_BUCKETS_MS, bucketOf, SpaceSaving, DistinctCounter, EXACT_DISTINCT_MAX, WINDOW_LAYOUT, METRICS_WINDOWS, type MetricsFeature, type MetricsOptions, type MetricsConfig, type Observation, type TopEntry, type MetricsWindow, type WindowMetrics, type KeyMetrics, type DistinctSummary, type TopBy, type TopQuery, type TopKey, type MetricsView } from './metrics';
export { AnomalyDetector, anomalyFeature, parseAnomalyOptions, ANOMALY_KINDS, type AnomalyDetectorDeps, type AnomalyFeature, type AnomalyKind, type AnomalyOptions, type AnomalyConfig, type CountryLookup } from './anomaly';
export { authorizeRoute, decidedBefore, type DecisionSlot } from './node/route-scopes';
