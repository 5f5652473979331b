// The audit_logs table: append-only, apart from the count of an aggregated
// rate-limit entry. Every entry is one insert, compiled once (src/db/precompiled.ts);
// entries are listed by tenant (src/db/repositories/tenant-query.ts, selectTenantAudit).
import type { Kysely } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import { precompiledInsert } from '../precompiled.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { afterPosition, type PagePosition } from './keyset.ts';
import { selectTenantAudit } from './tenant-query.ts';

export type AuditRow = Database['audit_logs'];

export interface AuditRowFilters {
  action?: string;
  outcome?: AuditRow['outcome'];
  actor_id?: string;
  resource_type?: string;
  resource_id?: string;
  request_id?: string;
  /** RFC 3339, inclusive. */
  since?: string;
  /** RFC 3339, exclusive. */
  until?: string;
}

export class AuditLogRepository {
  readonly #insert: (row: AuditRow, executor?: Kysely<Database>) => Promise<void>;

  constructor(private readonly db: Kysely<Database>) {
    this.#insert = precompiledInsert(db, 'audit_logs');
  }

  /** An entry with nothing to commit with (a refusal, a failed login): it commits on its own. */
  insert(row: AuditRow): Promise<void> {
    return this.#insert(row);
  }

  /** An entry that commits with the change it records, in `tx`. */
  insertIn(row: AuditRow, tx: Tx): Promise<void> {
    return this.#insert(row, tx.trx);
  }

  /** A page of the tenant's entries (see selectTenantAudit), newest first. */
  page(tenant: Tenant, filters: AuditRowFilters, position: PagePosition | null, limit: number): Promise<AuditRow[]> {
    let query = selectTenantAudit(this.db, tenant).selectAll();
    if (filters.action) query = query.where('action', '=', filters.action);
    if (filters.outcome) query = query.where('outcome', '=', filters.outcome);
    if (filters.actor_id) query = query.where('actor_id', '=', filters.actor_id);
    if (filters.resource_type) query = query.where('resource_type', '=', filters.resource_type);
    if (filters.resource_id) query = query.where('resource_id', '=', filters.resource_id);
    if (filters.request_id) query = query.where('request_id', '=', filters.request_id);
    if (filters.since) query = query.where('occurred_at', '>=', filters.since);
    if (filters.until) query = query.where('occurred_at', '<', filters.until);
    if (position) query = query.where(afterPosition(position, 'occurred_at'));
    return query.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Rewrites the metadata of the entry `action` written for request `requestId` (a rate-limit entry's final count). */
  async updateMetadata(requestId: string, action: string, metadata: string): Promise<void> {
    await this.db
      .updateTable('audit_logs')
      .set({ metadata })
      .where('request_id', '=', requestId)
      .where('action', '=', action)
      .execute();
  }
}
