// Turns what the store read into standings and a decision: which policy governs and how
// long to wait. Shared by the request limiter and the brute-force guards.

import type { ApplicablePolicy } from './applicable-policies.ts';
import type { PolicyScope, PolicyStanding, RateLimitDecision } from './policy.ts';
import { countUsed, nextRoomAtMs } from './sliding-window.ts';
import type { StoreReading } from './store.ts';

export function standingsOf<Scope extends PolicyScope>(
  applicable: readonly ApplicablePolicy<Scope>[],
  reading: StoreReading,
): PolicyStanding<Scope>[] {
  return applicable.map(({ policy, appliesTo, counter }, index) => {
    const buckets = reading.counters[index]?.buckets ?? [];
    const used = countUsed(buckets);
    return {
      name: policy.name,
      appliesTo,
      limit: policy.limit,
      windowSeconds: policy.windowSeconds,
      used,
      remaining: Math.max(0, policy.limit - used),
      resetAtMs: nextRoomAtMs(buckets, counter, reading.atMs),
    };
  });
}

/**
 * Tightest first: least remaining; on a tie the one resetting last, because it is the one
 * a client must wait for; then the longer window, then the name, so the order is stable.
 */
export function compareTightness(a: PolicyStanding, b: PolicyStanding): number {
  return (
    a.remaining - b.remaining ||
    b.resetAtMs - a.resetAtMs ||
    b.windowSeconds - a.windowSeconds ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

export function byTightness<Scope extends PolicyScope>(
  standings: readonly PolicyStanding<Scope>[],
): PolicyStanding<Scope>[] {
  return [...standings].sort(compareTightness);
}

/** Rounded up so that a client waiting exactly this long is admitted; at least 1 (RFC 9110 has no 0 wait). */
export function secondsUntil(atMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((atMs - nowMs) / 1000));
}

/**
 * `allowed` is the store's verdict for a consume, or "would the next request pass" for a
 * peek. When it is refused, the governing policy is an exhausted one resetting last, and
 * at its reset every exhausted policy has room again (counters only shrink while nothing
 * is admitted), so `retryAfterSeconds` is truthful for the whole set.
 */
export function decide<Scope extends PolicyScope>(
  standings: readonly PolicyStanding<Scope>[],
  allowed: boolean,
  atMs: number,
): RateLimitDecision<Scope> {
  const [governing] = byTightness(standings);
  if (governing === undefined) throw new Error('a rate-limit decision needs at least one policy');
  return {
    allowed,
    governing,
    policies: standings,
    retryAfterSeconds: allowed ? null : secondsUntil(governing.resetAtMs, atMs),
    atMs,
  };
}

export function everyPolicyHasRoom(standings: readonly PolicyStanding[]): boolean {
  return standings.every((standing) => standing.remaining > 0);
}
