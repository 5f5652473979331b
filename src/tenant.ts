// The tenant: a project and one of its environments. Every resource belongs to exactly
// one, and no query of a tenant-owned table is built without it: repositories take a
// Tenant value and scope their queries through src/db/repositories/tenant-query.ts.
// (A "scope" is an OAuth/API scope only: src/auth/scopes.ts.)
export interface Tenant {
  readonly projectId: string;
  readonly environment: 'live' | 'test';
}
