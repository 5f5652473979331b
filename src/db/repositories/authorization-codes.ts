// The authorization_codes table: codes by their keyed hash (the code is the credential,
// and yields the tenant), issued and redeemed in the units of work of their audit entries.
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';

export type AuthorizationCodeRow = Database['authorization_codes'];

export class AuthorizationCodeRepository {
  // Codes are only ever read and written in a unit of work (a consent, an exchange).

  async insert(code: AuthorizationCodeRow, tx: Tx): Promise<void> {
    await tx.trx.insertInto('authorization_codes').values(code).execute();
  }

  /** Drops the codes that expired before `before`. */
  async purge(before: string, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('authorization_codes').where('expires_at', '<', before).execute();
  }

  find(hash: string, tx: Tx): Promise<AuthorizationCodeRow | undefined> {
    return tx.trx.selectFrom('authorization_codes').selectAll().where('hash', '=', hash).executeTakeFirst();
  }

  /** Marks the code used by the exchange that created `familyId`; false when another exchange got there first. */
  async markUsed(hash: string, usedAt: string, familyId: string, tx: Tx): Promise<boolean> {
    const result = await tx.trx
      .updateTable('authorization_codes')
      .set({ used_at: usedAt, family_id: familyId })
      .where('hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
