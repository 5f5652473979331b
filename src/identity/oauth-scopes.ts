// Scope parameters of the OAuth endpoints (RFC 6749 section 3.3): space-separated,
// case-sensitive, each one a scope of the contract. What may be granted is
// bounded twice: by what the app is registered for, and by what the user holds.
import { coversAll, isScope, type Scope } from '../auth/scopes.ts';

/** The scopes of a `scope` parameter, or null when one of them is not a scope at all. */
export function parseScopeParameter(text: string): Scope[] | null {
  const names = [...new Set(text.split(' ').filter(Boolean))];
  return names.every(isScope) ? names : null;
}

/** The scopes of `wanted` that `holder` covers (coarse `read`/`write` count as every `*:read`/`*:write`). */
export function coveredBy(holder: readonly string[], wanted: readonly Scope[]): Scope[] {
  return wanted.filter((scope) => coversAll(holder, [scope]));
}
