// Who a request acts as, once authenticated. Every credential kind (API key,
// session JWT, OAuth token) produces one of these; nothing after authentication
// looks at the credential itself.
import type { Environment } from './api-key-format.ts';
import type { Cidr } from '../net/cidr.ts';
import { ALL_SCOPES } from './scopes.ts';

export type Plan = 'free' | 'pro' | 'enterprise';

/**
 * Where and until when a credential's authority holds (src/auth/reach.ts): the fence a
 * restricted credential passes on to what it creates. An OAuth app registered by an
 * expiring, address-bound key keeps that key's expiry and allowlist, and so do the
 * tokens it is issued.
 */
export interface Fence {
  /** The networks it may be used from; empty: any address. */
  allowedIps: readonly Cidr[];
  /** When it stops (ms since epoch); null: never. */
  notAfter: number | null;
}

export const UNFENCED: Fence = { allowedIps: [], notAfter: null };
export type AuthMethod = 'api_key' | 'jwt' | 'oauth';
/** Which contract security scheme carried the credential. */
export type SchemeName = 'ApiKeyHeader' | 'BearerAuth' | 'OAuth2';

interface PrincipalBase {
  accountId: string;
  projectId: string;
  environment: Environment;
  plan: Plan;
  /** As granted, coarse scopes unexpanded. */
  scopes: string[];
  /** When the credential stops working (ms since epoch), or null. */
  expiresAt: number | null;
  /**
   * Where and until when the authority behind the credential holds (src/auth/reach.ts):
   * a key's allowlist and expiry, the fence an OAuth app inherited from the key that
   * registered it; none for a user's session.
   */
  fence: Fence;
  scheme: SchemeName;
}

export interface ApiKeyPrincipal extends PrincipalBase {
  method: 'api_key';
  keyId: string;
  keyType: 'secret' | 'restricted' | 'client' | 'legacy';
  /** Set when the secret used is a rotated one in its grace period. */
  graceEndsAt: number | null;
}

export interface UserPrincipal extends PrincipalBase {
  method: 'jwt';
  userId: string;
  tokenId: string;
  sessionId: string;
}

export interface OAuthPrincipal extends PrincipalBase {
  method: 'oauth';
  clientId: string;
  /** null for client-credentials tokens. */
  userId: string | null;
  tokenId: string;
  grantId: string;
}

export type Principal = ApiKeyPrincipal | UserPrincipal | OAuthPrincipal;

/**
 * An account owner's full authority, used where the owner acts outside a request: the
 * first start's test key, `npm run admin`, test and benchmark fixtures. It holds every
 * scope, has no fence, and manages both environments (src/auth/reach.ts).
 */
export function ownerAuthority(owner: {
  userId: string;
  accountId: string;
  projectId: string;
  environment: Environment;
  plan: Plan;
  label: string;
}): UserPrincipal {
  return {
    method: 'jwt',
    scheme: 'BearerAuth',
    userId: owner.userId,
    tokenId: owner.label,
    sessionId: owner.label,
    accountId: owner.accountId,
    projectId: owner.projectId,
    environment: owner.environment,
    plan: owner.plan,
    scopes: [...ALL_SCOPES],
    expiresAt: null,
    fence: UNFENCED,
  };
}

/**
 * The rate-limit and idempotency identity of a principal: the key, the user, or the
 * OAuth grant (an app acting for one user is counted apart from the same app acting
 * for another, and from its own client-credentials tokens).
 */
export function principalId(principal: Principal): string {
  switch (principal.method) {
    case 'api_key':
      return principal.keyId;
    case 'jwt':
      return principal.userId;
    case 'oauth':
      return principal.grantId;
  }
}

/** Verifies access tokens (session JWTs and OAuth tokens); throws ApiError 401s. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
