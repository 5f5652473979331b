// Authorization codes: random, stored only as keyed hashes, valid 10 minutes and
// single use. Each is bound to the app, the redirect URI, the user, the project,
// the scopes and the PKCE challenge it was issued for. Using one marks it used and
// records the family it created, so that a replay can revoke what it issued.
import type { KeyedHash } from '../crypto/keyed-hash.ts';
import { randomToken } from '../crypto/random.ts';
import type { AuthorizationCodeRepository, AuthorizationCodeRow } from '../db/repositories/authorization-codes.ts';
import type { Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';
import { AUTHORIZATION_CODE_SECONDS } from './token-lifetimes.ts';

export type AuthorizationCode = AuthorizationCodeRow;

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
    private readonly repository: AuthorizationCodeRepository,
    private readonly hash: KeyedHash,
    private readonly clock: Clock,
  ) {}

  /** In `tx`, the unit of work of the consent that grants it, which commits with its audit entry. */
  async issue(input: NewAuthorizationCode, tx: Tx): Promise<string> {
    const code = randomToken(32);
    const now = this.clock();
    // Expired codes are useless; dropping them here keeps the table small.
    await this.repository.purge(iso(now - AUTHORIZATION_CODE_SECONDS * 1000), tx);
    await this.repository.insert(
      {
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
      },
      tx,
    );
    return code;
  }

  /** The code as `tx` sees it (an exchange). */
  async find(code: string, tx: Tx): Promise<AuthorizationCode | null> {
    return (await this.repository.find(this.hash(code), tx)) ?? null;
  }

  isExpired(code: AuthorizationCode): boolean {
    return Date.parse(code.expires_at) <= this.clock();
  }

  /** Marks the code used by the exchange that created `familyId`; false when another exchange got there first. */
  async markUsed(code: AuthorizationCode, familyId: string, tx: Tx): Promise<boolean> {
    return this.repository.markUsed(code.hash, iso(this.clock()), familyId, tx);
  }
}
