// Limits on what an attacker does before (or instead of) authenticating: guessing one
// user's password from one address, trying credentials from one address, and flooding
// the public leaked-key report endpoint. Same store, same sliding window, same decision
// shape (so the 429 carries the same headers) as the request limits.

import { counterSpec, type ApplicablePolicy } from './applicable-policies.ts';
import { clientIpCounterKey, usernameCounterKey } from './counter-keys.ts';
import { consumeAll, peekAll } from './evaluate.ts';
import type { GuardKind, PolicyScope, RateLimitConfig, RateLimitDecision } from './policy.ts';
import type { RateLimitStore } from './store.ts';

export interface GuardSubjects {
  readonly login: { readonly username: string; readonly clientIp: string };
  readonly failed_credentials: { readonly clientIp: string };
  readonly leaked_key_reports: { readonly clientIp: string };
}

/** The guards that count failures, not every attempt. */
export type FailureGuardKind = 'login' | 'failed_credentials';

export type GuardScope = Extract<PolicyScope, 'client_ip' | 'username_and_client_ip'>;
export type GuardDecision = RateLimitDecision<GuardScope>;

export interface GuardAttempt {
  /** Refused when the attempt must not even be tried; nothing was counted then. */
  readonly decision: GuardDecision;
  /** Takes the attempt back because it succeeded; a no-op when refused or already forgiven. */
  forgive(): Promise<void>;
}

export interface BruteForceGuardOptions {
  readonly config: RateLimitConfig;
  readonly store: RateLimitStore;
  readonly now: () => number;
}

export class BruteForceGuard {
  readonly #config: RateLimitConfig;
  readonly #store: RateLimitStore;
  readonly #now: () => number;

  constructor(options: BruteForceGuardOptions) {
    this.#config = options.config;
    this.#store = options.store;
    this.#now = options.now;
  }

  /** Whether the next attempt may go ahead; counts nothing. */
  async check<Kind extends GuardKind>(kind: Kind, subject: GuardSubjects[Kind]): Promise<GuardDecision> {
    return peekAll(this.#store, [this.#policy(kind, subject)], this.#now());
  }

  /** Counts one event unless the limit is already reached (then refused, counting nothing). */
  async consume<Kind extends GuardKind>(kind: Kind, subject: GuardSubjects[Kind]): Promise<GuardDecision> {
    return consumeAll(this.#store, [this.#policy(kind, subject)], this.#now());
  }

  /** Counts a failed attempt, after check() let it through and it failed. */
  async recordFailure<Kind extends FailureGuardKind>(kind: Kind, subject: GuardSubjects[Kind]): Promise<GuardDecision> {
    return this.consume(kind, subject);
  }

  /**
   * Counts the attempt up front and lets a success take it back. check-then-recordFailure
   * leaves a gap while a slow password hash runs, through which a burst of parallel
   * guesses would all pass the check; counting first closes it, and forgive() keeps the
   * rule that only failures count.
   */
  async attempt<Kind extends FailureGuardKind>(kind: Kind, subject: GuardSubjects[Kind]): Promise<GuardAttempt> {
    const applicable = [this.#policy(kind, subject)];
    const decision = await consumeAll(this.#store, applicable, this.#now());
    let pending = decision.allowed;
    return {
      decision,
      forgive: async () => {
        if (!pending) return;
        pending = false;
        await this.#store.release(
          applicable.map((entry) => entry.counter),
          decision.atMs,
          this.#now(),
        );
      },
    };
  }

  #policy<Kind extends GuardKind>(kind: Kind, subject: GuardSubjects[Kind]): ApplicablePolicy<GuardScope> {
    const policy = this.#config.guards[kind];
    const { appliesTo, key } = GUARD_COUNTERS[kind](policy.name, subject);
    return { policy, appliesTo, counter: counterSpec(this.#config, policy, key) };
  }
}

type GuardCounter<Kind extends GuardKind> = (
  policyName: string,
  subject: GuardSubjects[Kind],
) => { appliesTo: GuardScope; key: string };

const GUARD_COUNTERS: { readonly [Kind in GuardKind]: GuardCounter<Kind> } = {
  login: (name, { username, clientIp }) => ({
    appliesTo: 'username_and_client_ip',
    key: usernameCounterKey(name, username, clientIp),
  }),
  failed_credentials: (name, { clientIp }) => ({ appliesTo: 'client_ip', key: clientIpCounterKey(name, clientIp) }),
  leaked_key_reports: (name, { clientIp }) => ({ appliesTo: 'client_ip', key: clientIpCounterKey(name, clientIp) }),
};
