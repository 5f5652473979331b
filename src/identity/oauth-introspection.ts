// Token introspection for apps (RFC 7662). Only the app a token was issued to
// learns anything about it; for every other app, and for any token that is not
// usable right now (unknown, malformed, expired, revoked, not yet valid), the
// answer is `{"active": false}` and nothing more.
import type { components } from '../../generated/api.d.ts';
import type { AccessTokens, TokenAudience } from './access-tokens.ts';
import type { OAuthClient } from './oauth-clients.ts';
import { looksLikeJwt } from './oauth-revocation.ts';
import type { RevocationList } from './revocation.ts';
import { familyScopes, type Family, type TokenFamilies } from './token-families.ts';
import type { UserDirectory } from './user-directory.ts';

export type IntrospectionResponse = components['schemas']['IntrospectionResponse'];

const INACTIVE: IntrospectionResponse = { active: false };

export class OAuthIntrospection {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly families: TokenFamilies,
    private readonly revocations: RevocationList,
    private readonly users: UserDirectory,
    private readonly audience: TokenAudience,
  ) {}

  async introspect(client: OAuthClient, token: string): Promise<IntrospectionResponse> {
    return looksLikeJwt(token) ? this.accessToken(client, token) : this.refreshToken(client, token);
  }

  private async accessToken(client: OAuthClient, token: string): Promise<IntrospectionResponse> {
    const claims = await this.accessTokens.claimsIfValid(token);
    if (!claims || claims.client_id !== client.id) return INACTIVE;
    if (await this.revocations.anyRevoked([claims.jti, claims.sid])) return INACTIVE;
    const family = await this.families.get(claims.sid);
    if (!family || family.revoked_at !== null || family.client_id !== client.id) return INACTIVE;
    return {
      active: true,
      scope: claims.scope,
      client_id: client.id,
      ...(await this.username(family)),
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
      project_id: claims.project_id,
    };
  }

  private async refreshToken(client: OAuthClient, token: string): Promise<IntrospectionResponse> {
    const found = await this.families.findRefreshToken(token);
    if (
      !found ||
      found.family.kind === 'session' ||
      found.family.client_id !== client.id ||
      !this.families.isActive(found)
    )
      return INACTIVE;
    const issuedAt = Math.floor(found.createdAtMs / 1000);
    return {
      active: true,
      scope: familyScopes(found.family).join(' '),
      client_id: client.id,
      ...(await this.username(found.family)),
      exp: Math.floor(found.expiresAtMs / 1000),
      iat: issuedAt,
      nbf: issuedAt,
      sub: found.family.user_id ?? client.id,
      aud: this.audience.audience,
      iss: this.audience.issuer,
      jti: found.id,
      project_id: found.family.project_id,
    };
  }

  private async username(family: Family): Promise<{ username?: string }> {
    const user = family.user_id === null ? null : await this.users.byId(family.user_id);
    return user ? { username: user.email } : {};
  }
}
