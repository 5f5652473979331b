// User sessions: login creates a session (a token family) with an access token
// and a refresh token; refresh rotates the refresh token (a reused one revokes
// the session); logout revokes the access token and the session. Sessions act on
// one project of the user's account, in its live environment, with the scopes of
// the user's role. Each change takes the unit of work of its audit entry
// (handlers/sessions.ts).
import type { components } from '../../generated/api.d.ts';
import type { UserPrincipal } from '../auth/principal.ts';
import type { Scope } from '../auth/scopes.ts';
import type { Tx } from '../db/transaction.ts';
import { iso, type Clock } from '../domain/time.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { RevocationList } from './revocation.ts';
import { isRole, scopesOfRole } from './roles.ts';
import { familyScopes, type Family, type TokenFamilies } from './token-families.ts';
import { CLOCK_SKEW_SECONDS } from './token-lifetimes.ts';
import type { User, UserDirectory } from './user-directory.ts';

export type SessionTokens = components['schemas']['SessionTokens'];

/** Sessions see the project's live data; test data is reached with test API keys. */
export const SESSION_ENVIRONMENT = 'live';

export type SessionRefresh =
  | { outcome: 'refreshed'; tokens: SessionTokens; family: Family; jti: string }
  | { outcome: 'invalid' }
  | { outcome: 'reused'; family: Family };

export class SessionService {
  constructor(
    private readonly families: TokenFamilies,
    private readonly accessTokens: AccessTokens,
    private readonly revocations: RevocationList,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
  ) {}

  async start(user: User, projectId: string, tx: Tx): Promise<{ tokens: SessionTokens; family: Family; jti: string }> {
    const scopes = isRole(user.role) ? scopesOfRole(user.role) : [];
    const family = await this.families.create(
      {
        kind: 'session',
        accountId: user.account_id,
        projectId,
        environment: SESSION_ENVIRONMENT,
        userId: user.id,
        clientId: null,
        scopes,
      },
      tx,
    );
    const refresh = await this.families.issueRefreshToken(family.id, tx);
    return { ...(await this.tokens(tx, family, user.id, scopes, refresh)), family };
  }

  /** A reused token's session is revoked when `tx` commits, whatever the caller answers. */
  async refresh(refreshToken: string, tx: Tx): Promise<SessionRefresh> {
    const redemption = await this.families.redeem(refreshToken, (family) => family.kind === 'session', tx);
    if (redemption.outcome !== 'rotated') return redemption;
    const { family, refresh } = redemption;
    const user = family.user_id === null ? null : await this.users.byIdIn(family.user_id, tx);
    if (!user) {
      await this.families.revoke(family.id, 'user_deleted', tx);
      return { outcome: 'invalid' };
    }
    // The session keeps its scopes, except any the user's role no longer has.
    const held = new Set<string>(isRole(user.role) ? scopesOfRole(user.role) : []);
    const scopes = familyScopes(family).filter((scope) => held.has(scope)) as Scope[];
    return { outcome: 'refreshed', family, ...(await this.tokens(tx, family, user.id, scopes, refresh)) };
  }

  /** Ends the session of `principal`, and the session of `refreshToken` too when it is the same user's. */
  async end(principal: UserPrincipal, refreshToken: string | undefined, tx: Tx): Promise<void> {
    await this.revocations.revoke(
      principal.tokenId,
      (principal.expiresAt ?? this.clock()) + CLOCK_SKEW_SECONDS * 1000,
      tx,
    );
    await this.families.revoke(principal.sessionId, 'logout', tx);
    if (refreshToken === undefined) return;
    const found = await this.families.findRefreshTokenIn(refreshToken, tx);
    if (found && found.family.kind === 'session' && found.family.user_id === principal.userId) {
      await this.families.revoke(found.family.id, 'logout', tx);
    }
  }

  private async tokens(
    tx: Tx,
    family: Family,
    userId: string,
    scopes: Scope[],
    refresh: { token: string; expiresAtMs: number },
  ): Promise<{ tokens: SessionTokens; jti: string }> {
    const access = await this.accessTokens.issue(
      { subject: userId, scopes, projectId: family.project_id, familyId: family.id },
      tx,
    );
    return {
      jti: access.jti,
      tokens: {
        token: access.token,
        token_type: 'Bearer',
        expires_at: iso(access.expiresAtMs),
        refresh_token: refresh.token,
        refresh_token_expires_at: iso(refresh.expiresAtMs),
        scopes,
      },
    };
  }
}
