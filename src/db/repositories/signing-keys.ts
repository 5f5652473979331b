// The signing_keys table: the keys that sign access tokens, shared by every instance.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';

export type SigningKeyRow = Database['signing_keys'];

export class SigningKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Whether a key is signing or due to (not retired). */
  async anyUnretired(): Promise<boolean> {
    return (
      (await this.db.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst()) !==
      undefined
    );
  }

  /** Inserts a key on its own (the first one, at first start). */
  async insert(key: SigningKeyRow): Promise<void> {
    await this.db.insertInto('signing_keys').values(key).execute();
  }

  /**
   * A rotation, in `tx`: keys not yet signing (activating after `now`) are replaced by
   * `next`, and the signing key retires when `next` activates.
   */
  async rotate(next: SigningKeyRow, now: string, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('signing_keys').where('activates_at', '>', now).execute();
    await tx.trx
      .updateTable('signing_keys')
      .set({ retired_at: next.activates_at })
      .where('retired_at', 'is', null)
      .execute();
    await tx.trx.insertInto('signing_keys').values(next).execute();
  }

  /** Every key not retired before `retiredAfter`, newest activation first. */
  usable(retiredAfter: string): Promise<SigningKeyRow[]> {
    return this.usableOn(this.db, retiredAfter);
  }

  /** The same, as `tx` sees it (a unit of work that signs or verifies: on SQLite's one connection, a read on the database would wait for it). */
  usableIn(retiredAfter: string, tx: Tx): Promise<SigningKeyRow[]> {
    return this.usableOn(tx.trx, retiredAfter);
  }

  /** Every key's sealed private key: an operator's resealing after an encryption key rotation (`npm run admin -- reencrypt`). */
  everySealed(): Promise<Pick<SigningKeyRow, 'kid' | 'private_key_encrypted'>[]> {
    return this.db.selectFrom('signing_keys').select(['kid', 'private_key_encrypted']).execute();
  }

  async reseal(kid: string, sealed: string): Promise<void> {
    await this.db.updateTable('signing_keys').set({ private_key_encrypted: sealed }).where('kid', '=', kid).execute();
  }

  private usableOn(db: Kysely<Database>, retiredAfter: string): Promise<SigningKeyRow[]> {
    return db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', retiredAfter)]))
      .orderBy('activates_at', 'desc')
      .orderBy('created_at', 'desc')
      .execute();
  }
}
