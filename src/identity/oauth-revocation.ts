// Token revocation for apps (RFC 7009). A refresh token takes its whole grant
// with it; an access token only itself. An app can only revoke its own tokens;
// anything else (unknown, malformed, expired, another app's) is left as it is,
// and the endpoint answers the same either way.
import type { Tx } from '../db/transaction.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { OAuthClient } from './oauth-clients.ts';
import type { RevocationList } from './revocation.ts';
import type { TokenFamilies } from './token-families.ts';
import { CLOCK_SKEW_SECONDS } from './token-lifetimes.ts';

export type Revoked =
  { kind: 'access_token'; jti: string; familyId: string } | { kind: 'refresh_token'; familyId: string } | null;

/** JWTs have three dot-separated parts; refresh tokens are base64url without dots. */
export const looksLikeJwt = (token: string): boolean => token.split('.').length === 3;

export class OAuthRevocation {
  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly families: TokenFamilies,
    private readonly revocations: RevocationList,
  ) {}

  /** Commits with `tx` (and its audit entry); the caches hear of it once it has. */
  async revoke(client: OAuthClient, token: string, tx: Tx): Promise<Revoked> {
    if (looksLikeJwt(token)) {
      const claims = await this.accessTokens.claimsIfValidIn(token, tx);
      if (!claims || claims.client_id !== client.id) return null;
      await this.revocations.revoke(claims.jti, (claims.exp + CLOCK_SKEW_SECONDS) * 1000, tx);
      return { kind: 'access_token', jti: claims.jti, familyId: claims.sid };
    }
    const found = await this.families.findRefreshTokenIn(token, tx);
    if (!found || found.family.kind === 'session' || found.family.client_id !== client.id) return null;
    const changed = await this.families.revoke(found.family.id, 'revoked_by_app', tx);
    return changed ? { kind: 'refresh_token', familyId: found.family.id } : null;
  }
}
