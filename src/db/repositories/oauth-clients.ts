// The oauth_clients table: apps are managed by tenant, like API keys; the OAuth
// endpoints find an app by its client_id, which an app presents and which yields the tenant.
import type { Kysely } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { afterPosition, type PagePosition } from './keyset.ts';
import { selectTenant, tenantColumns, updateTenant } from './tenant-query.ts';

export type OAuthClientRow = Database['oauth_clients'];
export type NewOAuthClient = Omit<OAuthClientRow, 'project_id' | 'environment'>;

export class OAuthClientRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(tenant: Tenant, client: NewOAuthClient, tx: Tx): Promise<OAuthClientRow> {
    const { id, account_id, ...rest } = client;
    const row: OAuthClientRow = { id, account_id, ...tenantColumns(tenant), ...rest };
    await tx.trx.insertInto('oauth_clients').values(row).execute();
    return row;
  }

  /** A page of the tenant's undeleted apps, newest first. */
  page(tenant: Tenant, position: PagePosition | null, limit: number): Promise<OAuthClientRow[]> {
    let query = this.ofTenant(this.db, tenant);
    if (position) query = query.where(afterPosition(position));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  find(tenant: Tenant, id: string): Promise<OAuthClientRow | undefined> {
    return this.ofTenant(this.db, tenant).where('id', '=', id).executeTakeFirst();
  }

  findIn(tenant: Tenant, id: string, tx: Tx): Promise<OAuthClientRow | undefined> {
    return this.ofTenant(tx.trx, tenant).where('id', '=', id).executeTakeFirst();
  }

  async softDelete(tenant: Tenant, id: string, deletedAt: string, tx: Tx): Promise<void> {
    await updateTenant(tx.trx, 'oauth_clients', tenant)
      .set({ deleted_at: deletedAt })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .execute();
  }

  /** An undeleted app by the client_id it presents (the OAuth endpoints). */
  byClientId(clientId: string): Promise<OAuthClientRow | undefined> {
    return this.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('id', '=', clientId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  private ofTenant(db: Kysely<Database>, tenant: Tenant) {
    return selectTenant(db, 'oauth_clients', tenant).selectAll().where('deleted_at', 'is', null);
  }
}
