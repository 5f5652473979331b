// Tenant scoping, in one place. A query of a tenant-owned table by tenant starts here,
// with the tenant's project and environment already in its WHERE clause (an insert gets
// them in its row from here too), so a repository cannot build such a query without
// them; nothing above the repositories builds queries at all (.dependency-cruiser.cjs).
// PostgreSQL's row-level security would hold the same line in the database; this holds
// it in the types, on SQLite as well. The few lookups that are not by tenant (a secret's
// hash, a run the runner was handed) are named methods of their repository, each saying
// why it needs no tenant.
import type { Kysely, SelectQueryBuilder, UpdateQueryBuilder, UpdateResult } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import type { Database } from '../schema.ts';

/** The tables whose every row belongs to one tenant. */
export type TenantTable = {
  [T in keyof Database]: Database[T] extends { project_id: string; environment: 'live' | 'test' } ? T : never;
}[keyof Database];

/** `select ... from <table> where project_id = ? and environment = ?`, to be narrowed further. */
export function selectTenant<T extends TenantTable>(
  db: Kysely<Database>,
  table: T,
  tenant: Tenant,
): SelectQueryBuilder<Database, T, object> {
  const query = db.selectFrom(table) as SelectQueryBuilder<Database, TenantTable, object>;
  return query.where('project_id', '=', tenant.projectId).where('environment', '=', tenant.environment);
}

/** `update <table> ... where project_id = ? and environment = ?`, to be narrowed further. */
export function updateTenant<T extends TenantTable>(
  db: Kysely<Database>,
  table: T,
  tenant: Tenant,
): UpdateQueryBuilder<Database, T, T, UpdateResult> {
  const query = db.updateTable(table) as UpdateQueryBuilder<Database, TenantTable, TenantTable, UpdateResult>;
  return query
    .where('project_id', '=', tenant.projectId)
    .where('environment', '=', tenant.environment) as unknown as UpdateQueryBuilder<Database, T, T, UpdateResult>;
}

/** The columns that make a new row the tenant's: spread into the row of every insert. */
export function tenantColumns(tenant: Tenant): { project_id: string; environment: 'live' | 'test' } {
  return { project_id: tenant.projectId, environment: tenant.environment };
}

/**
 * The audit log's entries of a tenant: its project's entries of its environment, and the
 * project's account-level ones (no environment: logins, logouts). Entries with no project
 * at all (a failed login with an unknown email) belong to no tenant and are never listed.
 */
export function selectTenantAudit(
  db: Kysely<Database>,
  tenant: Tenant,
): SelectQueryBuilder<Database, 'audit_logs', object> {
  return db
    .selectFrom('audit_logs')
    .where('project_id', '=', tenant.projectId)
    .where((eb) => eb.or([eb('environment', '=', tenant.environment), eb('environment', 'is', null)]));
}
