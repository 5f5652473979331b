// Access tokens: JWTs (RFC 9068 `at+jwt`) signed with the active signing key and
// checked with the key their `kid` names. The algorithm is pinned to the key's
// own (no `none`, no HMAC with a public key), and issuer, audience, times
// (30 s skew) and required claims are all checked. Session tokens and OAuth
// tokens are the same kind of JWT; OAuth tokens add `client_id`. Every token
// names its family in `sid`, so revoking a session or grant revokes its tokens.
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { randomBase62 } from '../crypto/random.ts';
import type { Tx } from '../db/transaction.ts';
import type { Clock } from '../domain/time.ts';
import { ApiError, DependencyUnavailableError } from '../errors.ts';
import { SIGNING_ALGORITHM, type PublicSigningKey, type SigningKeys } from './signing-keys.ts';
import { ACCESS_TOKEN_SECONDS, CLOCK_SKEW_SECONDS } from './token-lifetimes.ts';

export const TOKEN_TYPE = 'at+jwt';

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** The user id, or the app's client_id for client-credentials tokens. */
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  /** Space-separated. */
  scope: string;
  project_id: string;
  /** The family (session or grant) the token belongs to. */
  sid: string;
  /** OAuth tokens only: the app it was issued to. */
  client_id?: string;
}

export interface IssueAccessToken {
  subject: string;
  scopes: readonly string[];
  projectId: string;
  familyId: string;
  clientId?: string;
  /** The end of the authority behind the token (an app's fence): the token never outlives it. */
  notAfterMs?: number | null;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresAtMs: number;
  /** Seconds from issue to `exp`: the token endpoint's `expires_in`. */
  expiresInSeconds: number;
}

export interface TokenAudience {
  /** config.publicUrl */
  issuer: string;
  /** The API the tokens are for: `${issuer}/v1`. */
  audience: string;
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'iat', 'nbf', 'exp', 'jti', 'scope', 'project_id', 'sid'];

export class AccessTokens {
  constructor(
    private readonly keys: SigningKeys,
    private readonly audience: TokenAudience,
    private readonly clock: Clock,
  ) {}

  /** In `tx`, the unit of work that issues it (the session or grant it belongs to), through which the signing keys are read. */
  async issue(input: IssueAccessToken, tx: Tx): Promise<IssuedAccessToken> {
    const key = await this.keys.activeIn(tx);
    const now = Math.floor(this.clock() / 1000);
    const jti = `jti_${randomBase62(24)}`;
    const end = input.notAfterMs == null ? Infinity : Math.floor(input.notAfterMs / 1000);
    const exp = Math.min(now + ACCESS_TOKEN_SECONDS, end);
    const claims: Record<string, unknown> = {
      scope: input.scopes.join(' '),
      project_id: input.projectId,
      sid: input.familyId,
    };
    if (input.clientId !== undefined) claims.client_id = input.clientId;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.algorithm, kid: key.kid, typ: TOKEN_TYPE })
      .setIssuer(this.audience.issuer)
      .setAudience(this.audience.audience)
      .setSubject(input.subject)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, jti, expiresAtMs: exp * 1000, expiresInSeconds: exp - now };
  }

  /**
   * The token's claims when its signature, header and claims are valid. Throws
   * 401 `token_expired` for an expired token and `invalid_token` for anything
   * else; revocation is the caller's (it needs the database).
   */
  verify(token: string): Promise<AccessTokenClaims> {
    return this.verifyWith(token, (kid) => this.keys.verificationKey(kid));
  }

  /** The claims of a valid token, null for any other; a failure to check it at all (a dependency down) is thrown. */
  claimsIfValid(token: string): Promise<AccessTokenClaims | null> {
    return validOnly(this.verify(token));
  }

  /** The same, in `tx`, the unit of work that verifies it (a revocation), through which the signing keys are read. */
  claimsIfValidIn(token: string, tx: Tx): Promise<AccessTokenClaims | null> {
    return validOnly(this.verifyWith(token, (kid) => this.keys.verificationKeyIn(kid, tx)));
  }

  private async verifyWith(
    token: string,
    keyNamed: (kid: string) => Promise<PublicSigningKey | null>,
  ): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = typeof header.kid === 'string' ? await keyNamed(header.kid) : null;
          if (!key) throw new UnknownKey();
          if (header.alg !== key.algorithm) throw new UnknownKey();
          return key.key;
        },
        {
          algorithms: [SIGNING_ALGORITHM],
          issuer: this.audience.issuer,
          audience: this.audience.audience,
          typ: TOKEN_TYPE,
          clockTolerance: CLOCK_SKEW_SECONDS,
          currentDate: new Date(this.clock()),
          requiredClaims: REQUIRED_CLAIMS,
        },
      );
      return claimsOf(payload);
    } catch (error) {
      // The signing keys could not be read: that says nothing about the token (a 503, not a 401).
      if (error instanceof DependencyUnavailableError) throw error;
      if (error instanceof errors.JWTExpired)
        throw new ApiError('token_expired', 'The access token has expired: refresh it or log in again.');
      throw new ApiError('invalid_token', 'The access token is invalid.', { cause: error });
    }
  }
}

async function validOnly(verifying: Promise<AccessTokenClaims>): Promise<AccessTokenClaims | null> {
  try {
    return await verifying;
  } catch (error) {
    if (error instanceof ApiError) return null;
    throw error;
  }
}

class UnknownKey extends Error {
  constructor() {
    super('the token names no key of this server');
  }
}

function claimsOf(payload: JWTPayload): AccessTokenClaims {
  const text = (name: string): string => {
    const value = payload[name];
    if (typeof value !== 'string' || value === '') throw new Error(`claim ${name} is not a non-empty string`);
    return value;
  };
  const number = (name: string): number => {
    const value = payload[name];
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`claim ${name} is not an integer`);
    return value;
  };
  const clientId = payload.client_id;
  if (clientId !== undefined && typeof clientId !== 'string') throw new Error('claim client_id is not a string');
  if (typeof payload.scope !== 'string') throw new Error('claim scope is not a string');
  return {
    iss: text('iss'),
    aud: text('aud'),
    sub: text('sub'),
    iat: number('iat'),
    nbf: number('nbf'),
    exp: number('exp'),
    jti: text('jti'),
    scope: payload.scope,
    project_id: text('project_id'),
    sid: text('sid'),
    ...(clientId !== undefined ? { client_id: clientId } : {}),
  };
}
