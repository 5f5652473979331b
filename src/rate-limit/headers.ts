// The response fields of a decision: the de-facto `X-RateLimit-*` trio and the IETF
// `RateLimit-Policy` / `RateLimit` structured fields (draft-ietf-httpapi-ratelimit-headers)
// for the governing policy, plus `Retry-After` when refused. Times are rounded UP to whole
// seconds, so a client that waits until the stated moment is never early.

import { secondsUntil } from './decide.ts';
import type { RateLimitDecision } from './policy.ts';

/** `nowMs` defaults to the decision's own instant; pass a later one only to re-render it. */
export function rateLimitHeaders(decision: RateLimitDecision, nowMs: number = decision.atMs): Record<string, string> {
  const { governing } = decision;
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': String(governing.limit),
    'X-RateLimit-Remaining': String(governing.remaining),
    'X-RateLimit-Reset': String(Math.ceil(governing.resetAtMs / 1000)),
    // Policy names match ^[a-z][a-z0-9-]{0,63}$, so they need no escaping as sf-strings.
    'RateLimit-Policy': decision.policies
      .map((policy) => `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`)
      .join(', '),
    RateLimit: `"${governing.name}";r=${governing.remaining};t=${Math.max(0, Math.ceil((governing.resetAtMs - nowMs) / 1000))}`,
  };
  if (!decision.allowed) {
    headers['Retry-After'] = String(secondsUntil(governing.resetAtMs, nowMs));
  }
  return headers;
}
