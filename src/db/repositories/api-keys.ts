// The api_keys and api_key_secrets tables. A key is managed by tenant (every query of
// its owners by project and environment; legacy `wfk_` keys, imported by an operator,
// are never listed or changed through the API); it is found for authentication by the
// keyed hash of a presented secret, which is what yields the tenant.
import type { Kysely } from 'kysely';
import type { Tenant } from '../../tenant.ts';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';
import { afterPosition, type PagePosition } from './keyset.ts';
import { selectTenant, tenantColumns, updateTenant } from './tenant-query.ts';

export type ApiKeyRow = Database['api_keys'];
export type NewApiKey = Omit<ApiKeyRow, 'project_id' | 'environment'>;

/** What authentication reads of the key a secret opens: the key, its secret's end, its account's plan. */
export interface KeyBySecret {
  id: string;
  account_id: string;
  project_id: string;
  environment: ApiKeyRow['environment'];
  type: ApiKeyRow['type'];
  scopes: string;
  allowed_ips: string;
  expires_at: string | null;
  revoked_at: string | null;
  plan: string;
  /** The hash the secret is stored under (a previous hash secret's, during its rotation). */
  hash: string;
  secret_expires_at: string | null;
}

export interface KeyListFilters {
  type?: ApiKeyRow['type'];
  status?: 'active' | 'revoked' | 'expired';
  /** RFC 3339: what `expired` and `active` are measured against. */
  now: string;
}

export class ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The key whose secret is stored under one of `hashes` (the presented secret's hash under
   * the current hash secret and the previous ones), with its account's plan. Not by tenant:
   * the secret is the credential, and the tenant is what it opens.
   */
  async bySecret(hashes: readonly string[]): Promise<KeyBySecret | undefined> {
    return this.db
      .selectFrom('api_key_secrets as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .innerJoin('accounts as a', 'a.id', 'k.account_id')
      .select([
        's.expires_at as secret_expires_at',
        'k.id',
        'k.account_id',
        'k.project_id',
        'k.environment',
        'k.type',
        'k.scopes',
        'k.allowed_ips',
        'k.expires_at',
        'k.revoked_at',
        'a.plan',
        's.hash',
      ])
      .where('s.hash', 'in', [...hashes])
      .executeTakeFirst();
  }

  /** Stores a secret under the current hash secret from now on (it was stored under a previous one). */
  async rehash(from: string, to: string): Promise<void> {
    await this.db.updateTable('api_key_secrets').set({ hash: to }).where('hash', '=', from).execute();
  }

  /** Writes a new key of the tenant and its first secret in `tx`; returns the key's row. */
  async insert(tenant: Tenant, key: NewApiKey, secretHash: string, tx: Tx): Promise<ApiKeyRow> {
    const { id, account_id, ...rest } = key;
    const row: ApiKeyRow = { id, account_id, ...tenantColumns(tenant), ...rest };
    await tx.trx.insertInto('api_keys').values(row).execute();
    await tx.trx
      .insertInto('api_key_secrets')
      .values({ hash: secretHash, key_id: id, expires_at: null, created_at: row.created_at })
      .execute();
    return row;
  }

  /** A page of the tenant's keys (legacy keys never), newest first. */
  page(tenant: Tenant, filters: KeyListFilters, position: PagePosition | null, limit: number): Promise<ApiKeyRow[]> {
    let query = this.ofTenant(this.db, tenant);
    if (filters.type) query = query.where('type', '=', filters.type);
    if (filters.status === 'revoked') query = query.where('revoked_at', 'is not', null);
    if (filters.status === 'expired')
      query = query.where('revoked_at', 'is', null).where('expires_at', '<=', filters.now);
    if (filters.status === 'active') {
      query = query
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', filters.now)]));
    }
    if (position) query = query.where(afterPosition(position));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** The tenant's key `id` (GET). */
  find(tenant: Tenant, id: string): Promise<ApiKeyRow | undefined> {
    return this.ofTenant(this.db, tenant).where('id', '=', id).executeTakeFirst();
  }

  /** The tenant's key `id` as `tx` sees it (a revocation, a rotation). */
  findIn(tenant: Tenant, id: string, tx: Tx): Promise<ApiKeyRow | undefined> {
    return this.ofTenant(tx.trx, tenant).where('id', '=', id).executeTakeFirst();
  }

  /** Revokes the tenant's key unless it is revoked already. */
  async revoke(tenant: Tenant, id: string, revokedAt: string, tx: Tx): Promise<void> {
    await updateTenant(tx.trx, 'api_keys', tenant)
      .set({ revoked_at: revokedAt })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /**
   * Gives the tenant's key a new current secret, and the secret it replaces an end. The
   * key's row first, guarded by the secret read (`seen`): of two concurrent rotations (or a
   * rotation and a revocation) on several instances, the second waits for the row lock and
   * then finds it changed, so a key never ends up with two current secrets. False when it
   * changed: nothing was written. Older rotated secrets end `now`: only the secret being
   * replaced gets a grace period, until `graceEnd`.
   */
  async rotate(
    tenant: Tenant,
    id: string,
    seen: Pick<ApiKeyRow, 'prefix' | 'last4'>,
    next: Pick<ApiKeyRow, 'prefix' | 'last4' | 'previous_secret_expires_at'>,
    secret: { hash: string; now: string; graceEnd: string },
    tx: Tx,
  ): Promise<boolean> {
    const claimed = await updateTenant(tx.trx, 'api_keys', tenant)
      .set(next)
      .where('id', '=', id)
      .where('prefix', '=', seen.prefix)
      .where('last4', '=', seen.last4)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return false;
    await tx.trx
      .updateTable('api_key_secrets')
      .set({ expires_at: secret.now })
      .where('key_id', '=', id)
      .where('expires_at', 'is not', null)
      .where('expires_at', '>', secret.now)
      .execute();
    await tx.trx
      .updateTable('api_key_secrets')
      .set({ expires_at: secret.graceEnd })
      .where('key_id', '=', id)
      .where('expires_at', 'is', null)
      .execute();
    await tx.trx
      .insertInto('api_key_secrets')
      .values({ hash: secret.hash, key_id: id, expires_at: null, created_at: secret.now })
      .execute();
    return true;
  }

  /**
   * The key a reported secret opens, as `tx` sees it: by the secret's hash, like
   * authentication (the reporter is anonymous; the secret yields the tenant).
   */
  bySecretIn(
    hashes: readonly string[],
    tx: Tx,
  ): Promise<
    | (Pick<ApiKeyRow, 'id' | 'account_id' | 'project_id' | 'environment' | 'revoked_at'> & {
        secret_expires_at: string | null;
      })
    | undefined
  > {
    return tx.trx
      .selectFrom('api_key_secrets as s')
      .innerJoin('api_keys as k', 'k.id', 's.key_id')
      .select([
        'k.id',
        'k.account_id',
        'k.project_id',
        'k.environment',
        'k.revoked_at',
        's.expires_at as secret_expires_at',
      ])
      .where('s.hash', 'in', [...hashes])
      .executeTakeFirst();
  }

  /** Writes a key's last use (batched by src/auth/last-used.ts; each commits on its own). */
  async recordUse(id: string, at: string, ip: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at, last_used_ip: ip }).where('id', '=', id).execute();
  }

  private ofTenant(db: Kysely<Database>, tenant: Tenant) {
    return selectTenant(db, 'api_keys', tenant).selectAll().where('type', '!=', 'legacy');
  }
}
