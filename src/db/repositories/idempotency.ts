// The idempotency_keys table: one row per key (the hash of the caller's namespace and
// key), claimed by one conditional insert. Each statement commits on its own: a claim
// must be seen by a concurrent request with the same key before the first one runs.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

export type IdempotencyRow = Database['idempotency_keys'];

export class IdempotencyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Claims the key for a request; false when it is held (by a request running, or done). */
  async claim(row: IdempotencyRow): Promise<boolean> {
    const claimed = await this.db
      .insertInto('idempotency_keys')
      .values(row)
      .onConflict((conflict) => conflict.column('scope_hash').doNothing())
      .executeTakeFirst();
    return Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  find(keyHash: string): Promise<IdempotencyRow | undefined> {
    return this.db.selectFrom('idempotency_keys').selectAll().where('scope_hash', '=', keyHash).executeTakeFirst();
  }

  /** Records the answer of the request that claimed the key. */
  async complete(
    keyHash: string,
    reply: Pick<IdempotencyRow, 'response_status' | 'response_body' | 'response_headers'>,
  ): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({ state: 'done', ...reply })
      .where('scope_hash', '=', keyHash)
      .execute();
  }

  /** Releases the key (its request failed): the client's retry runs again. */
  async release(keyHash: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('scope_hash', '=', keyHash).execute();
  }

  /** Releases an abandoned claim, unless another request took it over first (then its claim is newer). */
  async releaseAbandoned(keyHash: string, claimedAt: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('scope_hash', '=', keyHash)
      .where('state', '=', 'in_progress')
      .where('created_at', '=', claimedAt)
      .execute();
  }

  /** Drops the key's row when it has expired: an expired key no longer counts. */
  async dropExpired(keyHash: string, now: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('scope_hash', '=', keyHash)
      .where('expires_at', '<=', now)
      .execute();
  }

  /** Drops every expired row. */
  async sweep(now: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).execute();
  }
}
