// What each role of a user may do, in one place. A session token carries its
// user's scopes; an OAuth app is never granted more than the authorizing user
// holds. Owners and admins hold every fine-grained scope (which the coarse
// `read` / `write` add nothing to); members work with workflows and runs but do
// not manage credentials, apps or the audit log.
import { ALL_SCOPES, type Scope } from '../auth/scopes.ts';

export type Role = 'owner' | 'admin' | 'member';

export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

const EVERY_FINE_SCOPE: readonly Scope[] = ALL_SCOPES.filter((scope) => scope.includes(':'));

const SCOPES_OF_ROLE: Readonly<Record<Role, readonly Scope[]>> = {
  owner: EVERY_FINE_SCOPE,
  admin: EVERY_FINE_SCOPE,
  member: [
    'workflows:read',
    'workflows:write',
    'workflows:execute',
    'runs:read',
    'connections:read',
    'events:write',
    'usage:read',
  ],
};

export function scopesOfRole(role: Role): Scope[] {
  return [...SCOPES_OF_ROLE[role]];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
