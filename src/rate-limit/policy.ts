// The shapes of a validated rate-limit configuration and of a policy's standing.

import type { AuthMethod, Plan, PrincipalCategory } from './subject.ts';

export const POLICY_NAME_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

export interface PolicyConfig {
  /** Shown to clients in `RateLimit-Policy`, `RateLimit` and `GET /v1/usage`. */
  readonly name: string;
  /** Requests (or failures, for guards) allowed per window. */
  readonly limit: number;
  /** Whole seconds, so the `w` of `RateLimit-Policy` is exact. */
  readonly windowSeconds: number;
}

export const GUARD_KINDS = ['login', 'failed_credentials', 'leaked_key_reports'] as const;
export type GuardKind = (typeof GUARD_KINDS)[number];

export interface RateLimitConfig {
  /** How many buckets a window is cut into; see sliding-window.ts for what it buys. */
  readonly bucketsPerWindow: number;
  readonly categories: Readonly<Record<PrincipalCategory, PolicyConfig>>;
  readonly eventsPerClientIp: PolicyConfig;
  readonly plans: Readonly<Record<Plan, readonly PolicyConfig[]>>;
  readonly authMethods: Readonly<Record<AuthMethod, PolicyConfig>>;
  readonly guards: Readonly<Record<GuardKind, PolicyConfig>>;
}

/** What a request policy counts; the values of the contract's `applies_to`. */
export type RequestPolicyScope = 'category' | 'plan' | 'auth_method' | 'client_ip';
/** Guards add one scope of their own: login attempts count per username and address. */
export type PolicyScope = RequestPolicyScope | 'username_and_client_ip';

export interface PolicyStanding<Scope extends PolicyScope = PolicyScope> {
  readonly name: string;
  readonly appliesTo: Scope;
  readonly limit: number;
  readonly windowSeconds: number;
  /** Requests counted in the sliding window at the moment of the decision, this one included. */
  readonly used: number;
  readonly remaining: number;
  /**
   * The earliest moment at which `remaining` grows if no more requests arrive: for an
   * exhausted policy, the moment a request is admitted again; the decision's own moment
   * when nothing is counted. Unix epoch milliseconds, against the injected clock.
   */
  readonly resetAtMs: number;
}

export interface RateLimitDecision<Scope extends PolicyScope = PolicyScope> {
  readonly allowed: boolean;
  /** The tightest policy: least remaining, ties to the one resetting last. */
  readonly governing: PolicyStanding<Scope>;
  /** Every applicable policy, in a stable order (plan, category or client IP, auth method). */
  readonly policies: readonly PolicyStanding<Scope>[];
  /** Whole seconds, at least 1, after which a retry is admitted; null when allowed. */
  readonly retryAfterSeconds: number | null;
  /** The instant the standings describe (Unix epoch ms); headers are computed against it. */
  readonly atMs: number;
}
