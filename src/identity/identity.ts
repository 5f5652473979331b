// Builds the identity services (sessions, JWTs, the OAuth authorization server)
// from the database, the clock and the server's secrets, for the composition root
// and the admin command. Each secret-derived key has its own purpose, so a hash
// of one kind of secret is never valid as another.
import type { Kysely } from 'kysely';
import { noCaching, type Invalidation } from '../cache/invalidation.ts';
import { aesGcmEncryptor } from '../crypto/aes-gcm.ts';
import { keyedHasher } from '../crypto/keyed-hash.ts';
import type { Database } from '../db/schema.ts';
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
  db: Kysely<Database>;
  clock: Clock;
  /** The public URL: the issuer of tokens and the base of the OAuth endpoints. */
  publicUrl: string;
  secrets: { hashSecret: Buffer; encryptionKey: Buffer; previousHashSecrets?: Buffer[]; previousEncryptionKeys?: Buffer[] };
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
  const { db, clock, secrets } = options;
  const hasher = (purpose: string) => keyedHasher(secrets.hashSecret, purpose, secrets.previousHashSecrets ?? []);
  const audience: TokenAudience = { issuer: options.publicUrl, audience: `${options.publicUrl}/v1` };

  const signingKeys = new SigningKeys(db, aesGcmEncryptor(secrets.encryptionKey, secrets.previousEncryptionKeys ?? []), clock);
  await signingKeys.ensureKey();
  const accessTokens = new AccessTokens(signingKeys, audience, clock);
  const invalidation = options.invalidation ?? noCaching();
  const revocations = new CachedRevocationList(new SqlRevocationList(db, clock), invalidation);
  const families = new TokenFamilies(db, hasher('refresh-token'), revocations, clock, invalidation);
  const users = new UserDirectory(db);
  const clients = new OAuthClientService(db, hasher('oauth-client-secret'), families, clock);
  const codes = new AuthorizationCodes(db, hasher('authorization-code'), clock);
  return {
    audience,
    signingKeys,
    accessTokens,
    tokenVerifier: new AccessTokenVerifier(db, accessTokens, revocations, clock, invalidation),
    revocations,
    families,
    users,
    passwordLogin: new PasswordLogin(users, new PasswordChecker(), options.guard),
    sessions: new SessionService(db, families, accessTokens, revocations, users, clock),
    clients,
    codes,
    browserSessions: new BrowserSessions(db, hasher('oauth-browser-session'), hasher('oauth-csrf'), clock),
    grants: new OAuthGrants(db, families, codes, accessTokens, users),
    revocation: new OAuthRevocation(db, accessTokens, families, revocations),
    introspection: new OAuthIntrospection(accessTokens, families, revocations, users, audience),
    describeScope: scopeDescriptions(options.contractDocument),
  };
}
