// The public types say what callers may do: these assertions are checked by tsc.

import { describe, expectTypeOf, it } from 'vitest';
import type {
  BruteForceGuard,
  GuardDecision,
  PolicyStanding,
  RateLimitDecision,
  RateLimiter,
  RateLimitSubject,
  RequestDecision,
  RequestPolicyScope,
} from '../../src/rate-limit/index.ts';
import { rateLimitHeaders } from '../../src/rate-limit/index.ts';

describe('public types', () => {
  it('a request decision only names the scopes of the contract', () => {
    expectTypeOf<RequestDecision['governing']['appliesTo']>().toEqualTypeOf<RequestPolicyScope>();
    expectTypeOf<RequestPolicyScope>().toEqualTypeOf<'category' | 'plan' | 'auth_method' | 'client_ip'>();
    expectTypeOf<Awaited<ReturnType<RateLimiter['usage']>>>().toEqualTypeOf<PolicyStanding<RequestPolicyScope>[]>();
  });

  it('both kinds of decision render as headers', () => {
    expectTypeOf<RequestDecision>().toMatchTypeOf<RateLimitDecision>();
    expectTypeOf<GuardDecision>().toMatchTypeOf<RateLimitDecision>();
    expectTypeOf(rateLimitHeaders).returns.toEqualTypeOf<Record<string, string>>();
  });

  it('guards take the subject their kind counts by', () => {
    const check = (guard: BruteForceGuard) => {
      void guard.check('login', { username: 'a', clientIp: '192.0.2.1' });
      void guard.check('failed_credentials', { clientIp: '192.0.2.1' });
      // @ts-expect-error login attempts count per username and address
      void guard.check('login', { clientIp: '192.0.2.1' });
      // @ts-expect-error every leaked-key report counts, not failures: there is no failure to record
      void guard.recordFailure('leaked_key_reports', { clientIp: '192.0.2.1' });
    };
    expectTypeOf(check).toBeFunction();
  });

  it('a subject names one category among four', () => {
    expectTypeOf<RateLimitSubject['category']>().toEqualTypeOf<'read' | 'write' | 'execute' | 'events'>();
  });
});
