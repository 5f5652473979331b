// The rate-limit engine's public surface. Pure logic: no HTTP, no timers, no globals;
// the clock and the counter store are passed in.

export { BruteForceGuard } from './brute-force-guard.ts';
export type {
  BruteForceGuardOptions,
  FailureGuardKind,
  GuardAttempt,
  GuardDecision,
  GuardScope,
  GuardSubjects,
} from './brute-force-guard.ts';
export { clientIpKey } from './client-ip.ts';
export { RateLimitConfigError } from './config-error.ts';
export { rateLimitHeaders } from './headers.ts';
export { loadRateLimitConfig } from './load-config.ts';
export { InMemoryRateLimitStore } from './memory-store.ts';
export type { InMemoryRateLimitStoreOptions } from './memory-store.ts';
export { parseRateLimitConfig } from './parse-config.ts';
export { GUARD_KINDS, POLICY_NAME_PATTERN } from './policy.ts';
export type {
  GuardKind,
  PolicyConfig,
  PolicyScope,
  PolicyStanding,
  RateLimitConfig,
  RateLimitDecision,
  RequestPolicyScope,
} from './policy.ts';
export { RateLimiter } from './rate-limiter.ts';
export type { RateLimiterOptions, RequestDecision } from './rate-limiter.ts';
export type { CounterBucket, CounterSpec } from './sliding-window.ts';
export { bucketExpiresAtMs, bucketStartMs, isBucketLive } from './sliding-window.ts';
export type { ConsumeResult, CounterSnapshot, RateLimitStore, StoreReading } from './store.ts';
export { AUTH_METHODS, PLANS, PRINCIPAL_CATEGORIES, REQUEST_CATEGORIES } from './subject.ts';
export type {
  AuthMethod,
  Plan,
  PrincipalCategory,
  RateLimitSubject,
  RequestCategory,
  UsageSubject,
} from './subject.ts';
