// The oauth_browser_sessions table: the signed-in sessions of the login and consent
// pages, by the keyed hash of their cookie.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Tx } from '../transaction.ts';

export type BrowserSessionRow = Database['oauth_browser_sessions'];

export class BrowserSessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The user of the session stored under `id`, unless it ended by `now`. */
  async userOf(id: string, now: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('oauth_browser_sessions')
      .select('user_id')
      .where('id', '=', id)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.user_id ?? null;
  }

  /** Starts a session in `tx`, dropping the ones that ended by then and the one it replaces. */
  async start(session: BrowserSessionRow, replaces: string | null, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('oauth_browser_sessions').where('expires_at', '<=', session.created_at).execute();
    if (replaces !== null) await tx.trx.deleteFrom('oauth_browser_sessions').where('id', '=', replaces).execute();
    await tx.trx.insertInto('oauth_browser_sessions').values(session).execute();
  }

  /** Ends every session of a user (a password reset). */
  async endAllOf(userId: string, tx: Tx): Promise<void> {
    await tx.trx.deleteFrom('oauth_browser_sessions').where('user_id', '=', userId).execute();
  }
}
