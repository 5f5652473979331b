// The grants of the token endpoint (RFC 6749 sections 4.1.3, 6 and 4.4):
// authorization_code (single-use code, PKCE S256, exact redirect URI; a replay
// revokes what the code issued), refresh_token (rotation, reuse revokes the
// grant, down-scoping) and client_credentials (confidential apps, in the project
// they are registered in). Failures are OAuthErrors; a detected theft is also
// reported as an event for the audit log.
import type { components } from '../../generated/api.d.ts';
import type { Scope } from '../auth/scopes.ts';
import type { Tx } from '../db/transaction.ts';
import { OAuthError } from '../errors.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { AuthorizationCodes } from './authorization-codes.ts';
import type { OAuthClient } from './oauth-clients.ts';
import { coveredBy, parseScopeParameter } from './oauth-scopes.ts';
import { verifierMatches } from './pkce.ts';
import { isRole, scopesOfRole } from './roles.ts';
import { familyScopes, type Family, type TokenFamilies } from './token-families.ts';
import type { UserDirectory } from './user-directory.ts';

export type TokenResponse = components['schemas']['TokenResponse'];

export interface TokenParameters {
  code?: string | undefined;
  redirect_uri?: string | undefined;
  code_verifier?: string | undefined;
  refresh_token?: string | undefined;
  scope?: string | undefined;
}

export interface TheftDetected {
  action: 'oauth.code_replayed' | 'token.refresh_reuse_detected';
  family: Family | null;
}

export type GrantOutcome =
  | { ok: true; response: TokenResponse; family: Family; jti: string; refreshId: string | null }
  | { ok: false; error: OAuthError; theft?: TheftDetected };

const refused = (error: OAuthError, theft?: TheftDetected): GrantOutcome =>
  theft ? { ok: false, error, theft } : { ok: false, error };
const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);
const BAD_CODE = 'The authorization code is invalid, expired, already used, or was issued to another app.';
const BAD_REFRESH = 'The refresh token is invalid, expired, revoked, already used, or was issued to another app.';

/**
 * Each grant runs in the unit of work of its audit entry (handlers/oauth-tokens.ts): what
 * it issues, and what a detected theft revokes, commits with the unit.
 * A refusal is returned, never thrown, so that a revocation for a theft is not rolled back.
 */
export class OAuthGrants {
  constructor(
    private readonly families: TokenFamilies,
    private readonly codes: AuthorizationCodes,
    private readonly accessTokens: AccessTokens,
    private readonly users: UserDirectory,
  ) {}

  async authorizationCode(client: OAuthClient, p: TokenParameters, tx: Tx): Promise<GrantOutcome> {
    if (!client.grantTypes.includes('authorization_code'))
      return refused(
        new OAuthError('unauthorized_client', 'This app is not registered for the authorization_code grant.'),
      );
    if (!p.code)
      return refused(new OAuthError('invalid_request', 'code is required with grant_type=authorization_code.'));
    const code = await this.codes.find(p.code, tx);
    // Another app's code is refused and left alone: its owner can still use it.
    if (!code || code.client_id !== client.id) return refused(invalidGrant(BAD_CODE));
    if (code.used_at !== null) return this.replayed(code.family_id, tx);
    if (this.codes.isExpired(code)) return refused(invalidGrant(BAD_CODE));
    if ((code.redirect_uri_sent === 1 || p.redirect_uri !== undefined) && p.redirect_uri !== code.redirect_uri) {
      return refused(invalidGrant('redirect_uri differs from the one of the authorization request.'));
    }
    if (code.code_challenge !== null) {
      if (!p.code_verifier)
        return refused(
          new OAuthError('invalid_request', 'code_verifier is required: the authorization request used PKCE.'),
        );
      if (!verifierMatches(p.code_verifier, code.code_challenge))
        return refused(
          invalidGrant('PKCE verification failed: SHA-256(code_verifier) does not match the code_challenge.'),
        );
    } else if (p.code_verifier !== undefined) {
      return refused(invalidGrant('code_verifier was sent, but the authorization request had no code_challenge.'));
    }
    const user = await this.users.byIdIn(code.user_id, tx);
    if (!user) return refused(invalidGrant(BAD_CODE));

    const scopes = JSON.parse(code.scopes) as Scope[];
    const family = await this.families.create(
      {
        kind: 'authorization_code',
        accountId: code.account_id,
        projectId: code.project_id,
        environment: code.environment,
        userId: user.id,
        clientId: client.id,
        scopes,
      },
      tx,
    );
    if (!(await this.codes.markUsed(code, family.id, tx))) {
      // Lost the race against a concurrent exchange of the same code (which held the row
      // until it committed): the family just made goes again, and this is a replay too.
      await this.families.discard(family.id, tx);
      return this.replayed((await this.codes.find(p.code, tx))?.family_id ?? null, tx);
    }
    const refresh = client.grantTypes.includes('refresh_token')
      ? await this.families.issueRefreshToken(family.id, tx)
      : null;
    return this.respond(tx, client, family, scopes, user.id, refresh);
  }

  async refreshToken(client: OAuthClient, p: TokenParameters, tx: Tx): Promise<GrantOutcome> {
    if (!client.grantTypes.includes('refresh_token'))
      return refused(new OAuthError('unauthorized_client', 'This app is not registered for the refresh_token grant.'));
    if (!p.refresh_token)
      return refused(new OAuthError('invalid_request', 'refresh_token is required with grant_type=refresh_token.'));
    const belongs = (family: Family) => family.kind === 'authorization_code' && family.client_id === client.id;
    let asked: Scope[] | null = null;
    if (p.scope !== undefined && p.scope.trim() !== '') {
      asked = parseScopeParameter(p.scope);
      if (asked === null) return refused(new OAuthError('invalid_scope', 'scope names a scope that does not exist.'));
      // Checked before the token is used, so a refused request does not spend it.
      const found = await this.families.findRefreshTokenIn(p.refresh_token, tx);
      if (found && belongs(found.family) && coveredBy(familyScopes(found.family), asked).length !== asked.length) {
        return refused(
          new OAuthError('invalid_scope', 'scope asks for more than the original grant; it may only narrow it.'),
        );
      }
    }
    const redemption = await this.families.redeem(p.refresh_token, belongs, tx);
    if (redemption.outcome === 'invalid') return refused(invalidGrant(BAD_REFRESH));
    if (redemption.outcome === 'reused') {
      return refused(invalidGrant(BAD_REFRESH), { action: 'token.refresh_reuse_detected', family: redemption.family });
    }
    const { family, refresh } = redemption;
    const user = family.user_id === null ? null : await this.users.byIdIn(family.user_id, tx);
    if (!user) {
      await this.families.revoke(family.id, 'user_deleted', tx);
      return refused(invalidGrant(BAD_REFRESH));
    }
    // Never more than the user holds now: a demoted user's apps lose what the user lost.
    const held = isRole(user.role) ? scopesOfRole(user.role) : [];
    const scopes = coveredBy(held, asked ?? (familyScopes(family) as Scope[]));
    if (scopes.length === 0)
      return refused(new OAuthError('invalid_scope', 'The user no longer holds any of the scopes asked for.'));
    return this.respond(tx, client, family, scopes, user.id, refresh);
  }

  async clientCredentials(client: OAuthClient, p: TokenParameters, tx: Tx): Promise<GrantOutcome> {
    if (client.type !== 'confidential' || !client.grantTypes.includes('client_credentials')) {
      return refused(
        new OAuthError('unauthorized_client', 'This app is not registered for the client_credentials grant.'),
      );
    }
    let scopes: Scope[] = client.scopes;
    if (p.scope !== undefined && p.scope.trim() !== '') {
      const asked = parseScopeParameter(p.scope);
      if (asked === null) return refused(new OAuthError('invalid_scope', 'scope names a scope that does not exist.'));
      if (coveredBy(client.scopes, asked).length !== asked.length)
        return refused(new OAuthError('invalid_scope', 'scope asks for more than this app is registered for.'));
      scopes = asked;
    }
    const family = await this.families.clientCredentialsFamily(
      {
        clientId: client.id,
        accountId: client.accountId,
        projectId: client.projectId,
        environment: client.environment,
        scopes: client.scopes,
      },
      tx,
    );
    return this.respond(tx, client, family, scopes, client.id, null);
  }

  private async replayed(familyId: string | null, tx: Tx): Promise<GrantOutcome> {
    const family = familyId === null ? null : await this.families.getIn(familyId, tx);
    if (family) await this.families.revoke(family.id, 'authorization_code_replayed', tx);
    return refused(invalidGrant(BAD_CODE), { action: 'oauth.code_replayed', family });
  }

  private async respond(
    tx: Tx,
    client: OAuthClient,
    family: Family,
    scopes: Scope[],
    subject: string,
    refresh: { token: string; id: string } | null,
  ): Promise<GrantOutcome> {
    // The app's tokens carry its fence (src/auth/reach.ts): none outlives the key that registered it.
    const access = await this.accessTokens.issue(
      {
        subject,
        scopes,
        projectId: family.project_id,
        familyId: family.id,
        clientId: client.id,
        notAfterMs: client.fence.notAfter,
      },
      tx,
    );
    const response: TokenResponse = {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresInSeconds,
      scope: scopes.join(' '),
      ...(refresh ? { refresh_token: refresh.token } : {}),
    };
    return { ok: true, response, family, jti: access.jti, refreshId: refresh?.id ?? null };
  }
}
