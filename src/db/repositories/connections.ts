// The connections table: every query by tenant. Credentials are stored sealed (the
// service seals and opens them); a deleted connection's ciphertext is destroyed with it.
import type { Kysely } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { afterPosition, type PagePosition } from './keyset.ts';
import { selectTenant, tenantColumns, updateTenant } from './tenant-query.ts';

export type ConnectionRow = Database['connections'];
export type NewConnection = Omit<ConnectionRow, 'project_id' | 'environment'>;

export class ConnectionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(tenant: Tenant, connection: NewConnection, tx: Tx): Promise<ConnectionRow> {
    const { id, ...rest } = connection;
    const row: ConnectionRow = { id, ...tenantColumns(tenant), ...rest };
    await tx.trx.insertInto('connections').values(row).execute();
    return row;
  }

  /** A page of the tenant's undeleted connections, newest first. */
  page(tenant: Tenant, position: PagePosition | null, limit: number): Promise<ConnectionRow[]> {
    let query = selectTenant(this.db, 'connections', tenant).selectAll().where('deleted_at', 'is', null);
    if (position) query = query.where(afterPosition(position));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  find(tenant: Tenant, id: string): Promise<ConnectionRow | undefined> {
    return selectTenant(this.db, 'connections', tenant)
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /** The sealed credentials of the tenant's undeleted connection. */
  sealed(tenant: Tenant, id: string): Promise<Pick<ConnectionRow, 'id' | 'credentials_encrypted'> | undefined> {
    return selectTenant(this.db, 'connections', tenant)
      .select(['id', 'credentials_encrypted'])
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /** Marks the tenant's connection deleted and destroys its ciphertext; false when it has no such undeleted connection. */
  async softDelete(tenant: Tenant, id: string, deletedAt: string, tx: Tx): Promise<boolean> {
    const result = await updateTenant(tx.trx, 'connections', tenant)
      .set({ deleted_at: deletedAt, credentials_encrypted: '' })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Every connection's sealed credentials, whatever its tenant: an operator's resealing
   * after an encryption key rotation (`npm run admin -- reencrypt`), not a request's.
   */
  everySealed(): Promise<Pick<ConnectionRow, 'id' | 'credentials_encrypted'>[]> {
    return this.db
      .selectFrom('connections')
      .select(['id', 'credentials_encrypted'])
      .where('credentials_encrypted', '!=', '')
      .execute();
  }

  /** Replaces a connection's sealed credentials, unless they changed since they were read (the resealing). */
  async reseal(id: string, was: string, sealed: string): Promise<void> {
    await this.db
      .updateTable('connections')
      .set({ credentials_encrypted: sealed })
      .where('id', '=', id)
      .where('credentials_encrypted', '=', was)
      .execute();
  }
}
