// The TokenVerifier of the authentication seam (src/http/authenticate.ts): turns a
// bearer JWT into the principal it acts as. Session tokens become a UserPrincipal
// (scheme BearerAuth), OAuth tokens an OAuthPrincipal (scheme OAuth2) whose
// grantId is the token's family. Signature checks are cached per token until its
// `exp`; revocation answers, the family and the account's plan are cached until
// something changes them (a revocation, a family revoked, a plan change invalidate
// them before they answer, see src/cache/invalidation.ts), so a cached token never
// outlives a revocation.
import { LRUCache } from 'lru-cache';
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { TaggedCache } from '../cache/tagged-cache.ts';
import { accountTag, familyTag } from '../cache/tags.ts';
import type { Principal, TokenVerifier } from '../auth/principal.ts';
import { fenceFromStored, UNFENCED, type Fence } from '../auth/reach.ts';
import type { FamilyForVerification, TokenFamilyRepository } from '../db/repositories/token-families.ts';
import type { Clock } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.ts';
import type { RevocationList } from './revocation.ts';
import { CLOCK_SKEW_SECONDS } from './token-lifetimes.ts';

const CACHE_LIMIT = 10_000;

type FamilyRow = Omit<FamilyForVerification, 'allowed_ips' | 'expires_at'> & {
  /** The app's fence (src/auth/reach.ts), which its tokens carry; none for a session. */
  fence: Fence;
};

export class AccessTokenVerifier implements TokenVerifier {
  /** Verified claims by token, the least recently used going first; each checked against the clock on every use. */
  readonly #verified = new LRUCache<string, AccessTokenClaims>({ max: CACHE_LIMIT });
  readonly #families: TaggedCache<FamilyRow>;

  constructor(
    private readonly families: TokenFamilyRepository,
    private readonly accessTokens: AccessTokens,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
    invalidation: Invalidation = noCaching(),
  ) {
    this.#families = new TaggedCache(invalidation, { maxEntries: 10_000, maxAgeMs: 30_000 });
  }

  async verify(token: string): Promise<Principal> {
    const claims = await this.claims(token);
    if (await this.revocations.anyRevoked([claims.jti, claims.sid])) {
      throw new ApiError(
        'token_revoked',
        'The access token has been revoked: log in again (or ask the user to authorize the app again).',
      );
    }
    const family = this.#families.get(claims.sid) ?? (await this.family(claims.sid));
    const consistent =
      family !== undefined &&
      family.project_id === claims.project_id &&
      (family.kind === 'session'
        ? claims.client_id === undefined && family.user_id === claims.sub
        : claims.client_id === family.client_id);
    if (!consistent) throw new ApiError('invalid_token', 'The access token is invalid.');
    if (family.revoked_at !== null)
      throw new ApiError(
        'token_revoked',
        'The access token has been revoked: log in again (or ask the user to authorize the app again).',
      );

    const base = {
      accountId: family.account_id,
      projectId: family.project_id,
      environment: family.environment,
      plan: family.plan,
      scopes: claims.scope.split(' ').filter(Boolean),
      expiresAt: claims.exp * 1000,
      fence: family.fence,
      tokenId: claims.jti,
    };
    if (family.kind === 'session') {
      return { ...base, method: 'jwt', scheme: 'BearerAuth', userId: claims.sub, sessionId: claims.sid };
    }
    return {
      ...base,
      method: 'oauth',
      scheme: 'OAuth2',
      clientId: family.client_id!,
      userId: family.user_id,
      grantId: claims.sid,
    };
  }

  /** The token family with its account's plan and its app's fence, from the database; remembered until invalidated. */
  private async family(id: string): Promise<FamilyRow | undefined> {
    const generation = this.#families.generation;
    const row = await this.families.forVerification(id);
    if (!row) return undefined;
    const { allowed_ips, expires_at, ...rest } = row;
    // A fence never changes once the app is registered, so it is cached with the family.
    const family: FamilyRow = {
      ...rest,
      fence: allowed_ips === null ? UNFENCED : fenceFromStored(allowed_ips, expires_at),
    };
    this.#families.set(id, family, [familyTag(id), accountTag(row.account_id)], generation);
    return family;
  }

  /** Verified claims, from the cache while the token's times still hold. */
  private async claims(token: string): Promise<AccessTokenClaims> {
    const cached = this.#verified.get(token);
    if (cached) {
      const now = this.clock() / 1000;
      if (now < cached.exp + CLOCK_SKEW_SECONDS && now >= cached.nbf - CLOCK_SKEW_SECONDS) return cached;
      this.#verified.delete(token);
    }
    const claims = await this.accessTokens.verify(token);
    this.#verified.set(token, claims);
    return claims;
  }
}
