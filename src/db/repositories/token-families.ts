// The token_families and refresh_tokens tables. A family is found by its id (an access
// token's `sid`) or through a refresh token's keyed hash: both are credentials, and the
// family yields the tenant, so none of these queries is by tenant.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';

export type FamilyRow = Database['token_families'];
export type RefreshTokenRow = Database['refresh_tokens'];

/** A refresh token found by its hash, with its family. */
export interface RefreshTokenWithFamily {
  refresh: Pick<RefreshTokenRow, 'id' | 'created_at' | 'expires_at' | 'used_at'>;
  family: FamilyRow;
}

/** What the token verifier reads of a family: with its account's plan and, for an app's, the app's fence. */
export type FamilyForVerification = Pick<
  FamilyRow,
  'kind' | 'account_id' | 'project_id' | 'environment' | 'user_id' | 'client_id' | 'revoked_at'
> &
  Pick<Database['accounts'], 'plan'> & { allowed_ips: string | null; expires_at: string | null };

export class TokenFamilyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(family: FamilyRow, tx: Tx): Promise<void> {
    await tx.trx.insertInto('token_families').values(family).execute();
  }

  /** Removes a family made in `tx` that turned out not to be needed (a lost race). */
  async discard(id: string, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('token_families').where('id', '=', id).execute();
  }

  async find(id: string): Promise<FamilyRow | undefined> {
    return this.db.selectFrom('token_families').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findIn(id: string, tx: Tx): Promise<FamilyRow | undefined> {
    return tx.trx.selectFrom('token_families').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The live client-credentials family of an app (there is one per app). */
  liveClientCredentials(clientId: string, tx: Tx): Promise<FamilyRow | undefined> {
    return tx.trx
      .selectFrom('token_families')
      .selectAll()
      .where('client_id', '=', clientId)
      .where('kind', '=', 'client_credentials')
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  /** The ids of every live family of a user or of an app. */
  async liveOf(owner: { userId: string } | { clientId: string }, tx: Tx): Promise<string[]> {
    let query = tx.trx.selectFrom('token_families').select('id').where('revoked_at', 'is', null);
    query =
      'userId' in owner ? query.where('user_id', '=', owner.userId) : query.where('client_id', '=', owner.clientId);
    return (await query.execute()).map((row) => row.id);
  }

  /** Revokes a family unless revoked already; false when it was. */
  async revoke(id: string, revokedAt: string, reason: string, tx: Tx): Promise<boolean> {
    const result = await tx.trx
      .updateTable('token_families')
      .set({ revoked_at: revokedAt, revoked_reason: reason })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The family for the token verifier, with its account's plan and its app's fence. */
  forVerification(id: string): Promise<FamilyForVerification | undefined> {
    return this.db
      .selectFrom('token_families as f')
      .innerJoin('accounts as a', 'a.id', 'f.account_id')
      .leftJoin('oauth_clients as c', 'c.id', 'f.client_id')
      .select([
        'f.kind',
        'f.account_id',
        'f.project_id',
        'f.environment',
        'f.user_id',
        'f.client_id',
        'f.revoked_at',
        'a.plan',
        'c.allowed_ips',
        'c.expires_at',
      ])
      .where('f.id', '=', id)
      .executeTakeFirst();
  }

  async insertRefreshToken(token: RefreshTokenRow, tx: Tx): Promise<void> {
    await tx.trx.insertInto('refresh_tokens').values(token).execute();
  }

  /** The refresh token stored under one of `hashes`, with its family. */
  refreshToken(hashes: readonly string[]): Promise<RefreshTokenWithFamily | undefined> {
    return this.refreshTokenOn(this.db, hashes);
  }

  /** The same, as `tx` sees it. */
  refreshTokenIn(hashes: readonly string[], tx: Tx): Promise<RefreshTokenWithFamily | undefined> {
    return this.refreshTokenOn(tx.trx, hashes);
  }

  /** Marks a refresh token used, unless it is already: of two concurrent redemptions only one wins. */
  async markUsed(id: string, usedAt: string, tx: Tx): Promise<boolean> {
    const used = await tx.trx
      .updateTable('refresh_tokens')
      .set({ used_at: usedAt })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(used.numUpdatedRows) === 1;
  }

  /** Drops refresh tokens that expired before `now` (used or not, they can no longer be redeemed). */
  async purgeRefreshTokens(now: string, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('refresh_tokens').where('expires_at', '<', now).execute();
  }

  private async refreshTokenOn(
    db: Kysely<Database>,
    hashes: readonly string[],
  ): Promise<RefreshTokenWithFamily | undefined> {
    const row = await db
      .selectFrom('refresh_tokens as r')
      .innerJoin('token_families as f', 'f.id', 'r.family_id')
      .selectAll('f')
      .select([
        'r.id as refresh_id',
        'r.created_at as refresh_created_at',
        'r.expires_at as refresh_expires_at',
        'r.used_at as refresh_used_at',
      ])
      .where('r.hash', 'in', [...hashes])
      .executeTakeFirst();
    if (!row) return undefined;
    const { refresh_id, refresh_created_at, refresh_expires_at, refresh_used_at, ...family } = row;
    return {
      refresh: {
        id: refresh_id,
        created_at: refresh_created_at,
        expires_at: refresh_expires_at,
        used_at: refresh_used_at,
      },
      family,
    };
  }
}
