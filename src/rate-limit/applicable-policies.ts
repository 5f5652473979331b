// Which policies count a request, and under which counter. PRODUCT.md: every applicable
// limit counts. For a request that is the account's plan windows, its category's limit
// (per principal; event ingestion per client IP instead) and its auth method's limit.

import { accountCounterKey, clientIpCounterKey, principalCounterKey } from './counter-keys.ts';
import type { PolicyConfig, RateLimitConfig, RequestPolicyScope } from './policy.ts';
import { bucketMsFor, type CounterSpec } from './sliding-window.ts';
import { PRINCIPAL_CATEGORIES, type RateLimitSubject, type UsageSubject } from './subject.ts';

export interface ApplicablePolicy<Scope extends string = RequestPolicyScope> {
  readonly policy: PolicyConfig;
  readonly appliesTo: Scope;
  readonly counter: CounterSpec;
}

export function counterSpec(config: RateLimitConfig, policy: PolicyConfig, key: string): CounterSpec {
  return {
    key,
    limit: policy.limit,
    windowMs: policy.windowSeconds * 1000,
    bucketMs: bucketMsFor(policy.windowSeconds, config.bucketsPerWindow),
  };
}

export function applicablePolicies(config: RateLimitConfig, subject: RateLimitSubject): ApplicablePolicy[] {
  const categoryPolicy =
    subject.category === 'events'
      ? eventsPolicy(config, subject)
      : principalPolicy(config, config.categories[subject.category], 'category', subject.principalId);
  return [...planPolicies(config, subject), categoryPolicy, authMethodPolicy(config, subject)];
}

/** Every policy the caller has, whatever its current request: what `GET /v1/usage` shows. */
export function usagePolicies(config: RateLimitConfig, subject: UsageSubject): ApplicablePolicy[] {
  return [
    ...planPolicies(config, subject),
    ...PRINCIPAL_CATEGORIES.map((category) =>
      principalPolicy(config, config.categories[category], 'category', subject.principalId),
    ),
    eventsPolicy(config, subject),
    authMethodPolicy(config, subject),
  ];
}

function planPolicies(config: RateLimitConfig, subject: UsageSubject): ApplicablePolicy[] {
  return config.plans[subject.plan].map((policy) => ({
    policy,
    appliesTo: 'plan',
    counter: counterSpec(config, policy, accountCounterKey(policy.name, subject.accountId)),
  }));
}

function eventsPolicy(config: RateLimitConfig, subject: UsageSubject): ApplicablePolicy {
  const policy = config.eventsPerClientIp;
  return {
    policy,
    appliesTo: 'client_ip',
    counter: counterSpec(config, policy, clientIpCounterKey(policy.name, subject.clientIp)),
  };
}

function authMethodPolicy(config: RateLimitConfig, subject: UsageSubject): ApplicablePolicy {
  return principalPolicy(config, config.authMethods[subject.authMethod], 'auth_method', subject.principalId);
}

function principalPolicy(
  config: RateLimitConfig,
  policy: PolicyConfig,
  appliesTo: RequestPolicyScope,
  principalId: string,
): ApplicablePolicy {
  return { policy, appliesTo, counter: counterSpec(config, policy, principalCounterKey(policy.name, principalId)) };
}
