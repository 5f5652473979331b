// Scopes: the list the contract's OAuth2 scheme declares, the coarse `read` /
// `write` of older integrations, and the one check every operation goes through.
import type { components } from '../../generated/api.d.ts';

export type Scope = components['schemas']['Scope'];

export const ALL_SCOPES: readonly Scope[] = [
  'workflows:read',
  'workflows:write',
  'workflows:execute',
  'runs:read',
  'connections:read',
  'connections:write',
  'events:write',
  'keys:read',
  'keys:write',
  'apps:read',
  'apps:write',
  'audit:read',
  'usage:read',
  'read',
  'write',
];

const FINE_SCOPES = ALL_SCOPES.filter((scope) => scope.includes(':'));

/** The fine-grained scopes a set of granted scopes amounts to (`read` -> every `*:read`). */
export function expandScopes(granted: readonly string[]): Set<string> {
  const expanded = new Set<string>();
  for (const scope of granted) {
    if (scope === 'read' || scope === 'write') {
      for (const fine of FINE_SCOPES) if (fine.endsWith(`:${scope}`)) expanded.add(fine);
    } else {
      expanded.add(scope);
    }
  }
  return expanded;
}

/** The required scopes that `granted` does not cover (operations require fine-grained scopes). */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  const have = expandScopes(granted);
  return required.filter((scope) => !have.has(scope));
}

/** Whether every scope of `wanted` is covered by `granted` (no escalation). */
export function coversAll(granted: readonly string[], wanted: readonly string[]): boolean {
  const have = expandScopes(granted);
  return [...expandScopes(wanted)].every((scope) => have.has(scope));
}

export function isScope(value: string): value is Scope {
  return (ALL_SCOPES as readonly string[]).includes(value);
}
