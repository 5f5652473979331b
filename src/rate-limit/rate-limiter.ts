// The request rate limiter: every applicable policy counts, the tightest governs, and a
// refused request counts against none of them (the store checks all, then counts all).

import { applicablePolicies, usagePolicies } from './applicable-policies.ts';
import { byTightness } from './decide.ts';
import { consumeAll, peekAll } from './evaluate.ts';
import type { PolicyStanding, RateLimitConfig, RateLimitDecision, RequestPolicyScope } from './policy.ts';
import type { RateLimitStore } from './store.ts';
import type { RateLimitSubject, UsageSubject } from './subject.ts';

export interface RateLimiterOptions {
  readonly config: RateLimitConfig;
  readonly store: RateLimitStore;
  /** Unix epoch milliseconds; injected so tests (and a shared clock) control time. */
  readonly now: () => number;
}

export type RequestDecision = RateLimitDecision<RequestPolicyScope>;

export class RateLimiter {
  readonly #config: RateLimitConfig;
  readonly #store: RateLimitStore;
  readonly #now: () => number;

  constructor(options: RateLimiterOptions) {
    this.#config = options.config;
    this.#store = options.store;
    this.#now = options.now;
  }

  /**
   * Admits and counts the request, or refuses it without counting it anywhere. Rejects
   * (TypeError) when the subject has an empty id or a client address that is not an IP.
   */
  async consume(subject: RateLimitSubject): Promise<RequestDecision> {
    return consumeAll(this.#store, applicablePolicies(this.#config, subject), this.#now());
  }

  /** The standing a request like this one would meet, without counting anything. */
  async standing(subject: RateLimitSubject): Promise<RequestDecision> {
    return peekAll(this.#store, applicablePolicies(this.#config, subject), this.#now());
  }

  /** Every policy of the caller (all categories, events from its address), tightest first. */
  async usage(subject: UsageSubject): Promise<PolicyStanding<RequestPolicyScope>[]> {
    const decision = await peekAll(this.#store, usagePolicies(this.#config, subject), this.#now());
    return byTightness(decision.policies);
  }
}
