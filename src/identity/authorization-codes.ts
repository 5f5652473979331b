// Authorization codes: random, stored only as keyed hashes, valid 10 minutes and
// single use. Each is bound to the app, the redirect URI, the user, the project,
// the scopes and the PKCE challenge it was issued for. Using one marks it used and
// records the family it created, so that a replay can revoke what it issued.
import type { Kysely } from 'kysely';
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import { randomToken } from '../crypto/random.ts';
import type { AuthorizationCodesTable, Database } from '../db/schema.ts';
import { iso, type Clock } from '../domain/time.ts';
import { AUTHORIZATION_CODE_SECONDS } from './token-lifetimes.ts';

export type AuthorizationCode = AuthorizationCodesTable;

export interface NewAuthorizationCode {
  clientId: string;
  userId: string;
  accountId: string;
  projectId: string;
  environment: 'live' | 'test';
  redirectUri: string;
  redirectUriSent: boolean;
  scopes: readonly string[];
  codeChallenge: string | null;
}

export class AuthorizationCodes {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly hash: KeyedHash,
    private readonly clock: Clock,
  ) {}

  /** `db`: the transaction of the consent that grants it, which commits with its audit entry. */
  async issue(input: NewAuthorizationCode, db: Kysely<Database> = this.db): Promise<string> {
    const code = randomToken(32);
    const now = this.clock();
    // Expired codes are useless; dropping them here keeps the table small.
    await db.deleteFrom('authorization_codes').where('expires_at', '<', iso(now - AUTHORIZATION_CODE_SECONDS * 1000)).execute();
    await db
      .insertInto('authorization_codes')
      .values({
        hash: this.hash(code),
        client_id: input.clientId,
        user_id: input.userId,
        account_id: input.accountId,
        project_id: input.projectId,
        environment: input.environment,
        redirect_uri: input.redirectUri,
        redirect_uri_sent: input.redirectUriSent ? 1 : 0,
        scopes: JSON.stringify(input.scopes),
        code_challenge: input.codeChallenge,
        created_at: iso(now),
        expires_at: iso(now + AUTHORIZATION_CODE_SECONDS * 1000),
        used_at: null,
        family_id: null,
      })
      .execute();
    return code;
  }

  async find(code: string, db: Kysely<Database> = this.db): Promise<AuthorizationCode | null> {
    return (await db.selectFrom('authorization_codes').selectAll().where('hash', '=', this.hash(code)).executeTakeFirst()) ?? null;
  }

  isExpired(code: AuthorizationCode): boolean {
    return Date.parse(code.expires_at) <= this.clock();
  }

  /** Marks the code used by the exchange that created `familyId`; false when another exchange got there first. */
  async markUsed(trx: Kysely<Database>, code: AuthorizationCode, familyId: string): Promise<boolean> {
    const result = await trx
      .updateTable('authorization_codes')
      .set({ used_at: iso(this.clock()), family_id: familyId })
      .where('hash', '=', code.hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
