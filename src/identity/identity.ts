// Builds the identity services (sessions, JWTs, the OAuth authorization server)
// from the repositories, the clock and the server's secrets, for the composition root
// and the admin command. Each secret-derived key has its own purpose, so a hash
// of one kind of secret is never valid as another.
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { aesGcmEncryptor } from '../crypto/aes-gcm.ts';
import { keyedHasher } from '../crypto/keyed-hash.ts';
import type { Repositories } from '../db/repositories/index.ts';
import type { Transaction } from '../db/transaction.ts';
import type { Clock } from '../domain/time.ts';
import type { BruteForceGuard } from '../rate-limit/index.ts';
import { AccessTokens, type TokenAudience } from './access-tokens.ts';
import { AuthorizationCodes } from './authorization-codes.ts';
import { BrowserSessions } from './browser-sessions.ts';
import { OAuthClientService } from './oauth-clients.ts';
import { OAuthGrants } from './oauth-grants.ts';
import { OAuthIntrospection } from './oauth-introspection.ts';
import { OAuthRevocation } from './oauth-revocation.ts';
import { PasswordLogin } from './password-login.ts';
import { PasswordChecker } from './passwords.ts';
import { CachedRevocationList, SqlRevocationList, type RevocationList } from './revocation.ts';
import { scopeDescriptions, type ScopeDescriptions } from './scope-descriptions.ts';
import { SessionService } from './sessions.ts';
import { SigningKeys } from './signing-keys.ts';
import { TokenFamilies } from './token-families.ts';
import { AccessTokenVerifier } from './token-verifier.ts';
import { UserDirectory } from './user-directory.ts';

export interface IdentityOptions {
  repositories: Repositories;
  /** Runs the units of work the identity services start themselves (a signing-key rotation). */
  transaction: Transaction;
  clock: Clock;
  /** The public URL: the issuer of tokens and the base of the OAuth endpoints. */
  publicUrl: string;
  secrets: {
    hashSecret: Buffer;
    encryptionKey: Buffer;
    previousHashSecrets?: Buffer[];
    previousEncryptionKeys?: Buffer[];
  };
  guard: BruteForceGuard;
  /** The bundled contract, for the scopes' descriptions on the consent page. */
  contractDocument: Record<string, unknown>;
  /** How caches of authentication state learn of changes (src/cache/invalidation.ts); nothing is cached without it. */
  invalidation?: Invalidation;
}

export interface Identity {
  audience: TokenAudience;
  signingKeys: SigningKeys;
  accessTokens: AccessTokens;
  tokenVerifier: AccessTokenVerifier;
  revocations: RevocationList;
  families: TokenFamilies;
  users: UserDirectory;
  passwordLogin: PasswordLogin;
  sessions: SessionService;
  clients: OAuthClientService;
  codes: AuthorizationCodes;
  browserSessions: BrowserSessions;
  grants: OAuthGrants;
  revocation: OAuthRevocation;
  introspection: OAuthIntrospection;
  describeScope: ScopeDescriptions;
}

export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const { repositories, clock, secrets } = options;
  const hasher = (purpose: string) => keyedHasher(secrets.hashSecret, purpose, secrets.previousHashSecrets ?? []);
  const audience: TokenAudience = { issuer: options.publicUrl, audience: `${options.publicUrl}/v1` };

  const signingKeys = new SigningKeys(
    repositories.signingKeys,
    aesGcmEncryptor(secrets.encryptionKey, secrets.previousEncryptionKeys ?? []),
    clock,
    options.transaction,
  );
  await signingKeys.ensureKey();
  const accessTokens = new AccessTokens(signingKeys, audience, clock);
  const invalidation = options.invalidation ?? noCaching();
  const revocations = new CachedRevocationList(new SqlRevocationList(repositories.revokedTokens, clock), invalidation);
  const families = new TokenFamilies(
    repositories.tokenFamilies,
    hasher('refresh-token'),
    revocations,
    clock,
    invalidation,
  );
  const users = new UserDirectory(repositories.accounts);
  const clients = new OAuthClientService(repositories.oauthClients, hasher('oauth-client-secret'), families, clock);
  const codes = new AuthorizationCodes(repositories.authorizationCodes, hasher('authorization-code'), clock);
  return {
    audience,
    signingKeys,
    accessTokens,
    tokenVerifier: new AccessTokenVerifier(repositories.tokenFamilies, accessTokens, revocations, clock, invalidation),
    revocations,
    families,
    users,
    passwordLogin: new PasswordLogin(users, new PasswordChecker(), options.guard),
    sessions: new SessionService(families, accessTokens, revocations, users, clock),
    clients,
    codes,
    browserSessions: new BrowserSessions(
      repositories.browserSessions,
      hasher('oauth-browser-session'),
      hasher('oauth-csrf'),
      clock,
    ),
    grants: new OAuthGrants(families, codes, accessTokens, users),
    revocation: new OAuthRevocation(accessTokens, families, revocations),
    introspection: new OAuthIntrospection(accessTokens, families, revocations, users, audience),
    describeScope: scopeDescriptions(options.contractDocument),
  };
}
