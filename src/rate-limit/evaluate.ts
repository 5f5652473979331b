// The two ways to ask the store about a set of policies, shared by the request limiter
// and the guards so that both decide in exactly the same way.

import type { ApplicablePolicy } from './applicable-policies.ts';
import { decide, everyPolicyHasRoom, standingsOf } from './decide.ts';
import type { PolicyScope, RateLimitDecision } from './policy.ts';
import type { RateLimitStore } from './store.ts';

/** Counts one request on every policy if all have room; otherwise counts nothing. */
export async function consumeAll<Scope extends PolicyScope>(
  store: RateLimitStore,
  applicable: readonly ApplicablePolicy<Scope>[],
  nowMs: number,
): Promise<RateLimitDecision<Scope>> {
  const result = await store.consume(
    applicable.map((entry) => entry.counter),
    nowMs,
  );
  return decide(standingsOf(applicable, result), result.admitted, result.atMs);
}

/** The decision the next request would meet, counting nothing. */
export async function peekAll<Scope extends PolicyScope>(
  store: RateLimitStore,
  applicable: readonly ApplicablePolicy<Scope>[],
  nowMs: number,
): Promise<RateLimitDecision<Scope>> {
  const reading = await store.peek(
    applicable.map((entry) => entry.counter),
    nowMs,
  );
  const standings = standingsOf(applicable, reading);
  return decide(standings, everyPolicyHasRoom(standings), reading.atMs);
}
