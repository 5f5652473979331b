// The revoked_tokens table: revoked access-token ids (`jti`) and family ids (`sid`),
// each kept until no token naming it can still be valid.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';

export class RevokedTokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Revokes `id` until `expiresAt` (a later end replaces an earlier one), in `tx`. */
  async revoke(id: string, expiresAt: string, tx: Tx): Promise<void> {
    await tx.trx
      .insertInto('revoked_tokens')
      .values({ id, expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ expires_at: expiresAt }))
      .execute();
  }

  async anyRevoked(ids: readonly string[]): Promise<boolean> {
    const row = await this.db
      .selectFrom('revoked_tokens')
      .select('id')
      .where('id', 'in', [...ids])
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Drops the entries that ended before `now`. */
  async purge(now: string, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('revoked_tokens').where('expires_at', '<', now).execute();
  }
}
