// Authentication of secured operations: finds the one credential of the request,
// verifies it (API key by keyed hash; JWT and OAuth access tokens by the token
// verifier), and puts the principal in the request context. Which schemes an
// operation accepts comes from its `security` in the contract. Every principal is
// then held to its fence (src/auth/reach.ts: allowlist and end), whatever kind of
// credential it came from. Failures are audited and counted per client IP, so that
// guessing keys gets a 429.
import type { RequestHandler } from 'express';
import { actorOf, type AuditEvent, type AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../domain/time.ts';
import { ApiError } from '../errors.ts';
import { contextOf } from './request-context.ts';
import { KeyRefusedError, type ApiKeyVerifier } from '../auth/api-key-verification.ts';
import type { Principal, SchemeName, TokenVerifier } from '../auth/principal.ts';
import { outsideFence } from '../auth/reach.ts';

/** Counts failed credential attempts per client IP. */
export interface FailedCredentialGuard {
  /** Seconds to wait when the address is blocked, else null. */
  blockedFor(ip: string): Promise<number | null>;
  recordFailure(ip: string): Promise<void>;
}

export interface Presented {
  credential: string;
  scheme: 'ApiKeyHeader' | 'Bearer';
}

const API_KEY_SHAPE = /^(sk|rk|ck)_|^wfk_/;

/**
 * The one credential a request presents in its two credential headers, or null for none;
 * throws the precise 400/401 when they are unusable. Also the mock's rule (src/mock/).
 */
export function presentedCredential(headers: {
  authorization: string | undefined;
  apiKey: string | undefined;
}): Presented | null {
  const { authorization, apiKey } = headers;
  // RFC 6750 section 2: one method per request. Two credentials are refused whichever
  // would have been valid, so that no caller learns which of the two the server prefers.
  if (authorization !== undefined && apiKey !== undefined) {
    throw new ApiError('multiple_credentials', 'Send one credential: either Authorization or X-API-Key, not both.');
  }
  if (apiKey !== undefined) {
    if (apiKey.trim() === '')
      throw new ApiError('authentication_required', 'The X-API-Key header is empty: send your API key in it.');
    return { credential: apiKey.trim(), scheme: 'ApiKeyHeader' };
  }
  if (authorization === undefined) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
  if (!match)
    throw new ApiError('authentication_required', 'Send the credential as "Authorization: Bearer <key or token>".');
  return { credential: match[1]!, scheme: 'Bearer' };
}

export function authenticate(deps: {
  apiKeys: ApiKeyVerifier;
  tokens: TokenVerifier;
  guard: FailedCredentialGuard;
  audit: AuditLog;
  clock: Clock;
}): RequestHandler {
  return async (req, res, next) => {
    const context = contextOf(res);
    const operation = context.operation;
    if (!operation || operation.isPublic) return next();
    try {
      const presented = presentedCredential({ authorization: req.get('authorization'), apiKey: req.get('x-api-key') });
      if (!presented)
        throw new ApiError(
          'authentication_required',
          'This operation needs a credential: send an API key or an access token as "Authorization: Bearer <credential>".',
        );
      const retryAfter = await deps.guard.blockedFor(context.ip);
      if (retryAfter !== null) {
        throw new ApiError(
          'too_many_attempts',
          'Too many failed authentication attempts from this address: wait before trying again.',
          { headers: { 'Retry-After': String(retryAfter) } },
        );
      }
      let principal: Principal;
      try {
        principal = await verify(deps, presented, operation.schemes, context.ip);
      } catch (error) {
        // A refused key that was found is audited under its id, in its project (see KeyRefusedError).
        const known = error instanceof KeyRefusedError ? refusedKeyOwner(error) : {};
        if (error instanceof ApiError && error.status === 401) {
          await deps.guard.recordFailure(context.ip);
          await deps.audit.record(context, {
            action: 'auth.failed',
            outcome: 'failure',
            metadata: { code: error.code, operation: operation.operationId },
            ...known,
          });
        }
        throw error;
      }
      const outside = outsideFence(principal.fence, context.ip, deps.clock());
      if (outside === 'ip_not_allowed') {
        await deps.audit.record(context, {
          action: 'authorization.denied',
          outcome: 'denied',
          metadata: { code: 'ip_not_allowed', operation: operation.operationId },
          actor: actorOf(principal),
          tenant: {
            accountId: principal.accountId,
            projectId: principal.projectId,
            environment: principal.environment,
          },
        });
        throw new ApiError(
          'ip_not_allowed',
          principal.method === 'api_key'
            ? "The API key's IP allowlist does not include this address."
            : "This app's tokens may be used only from the networks of the key that registered it; this address is not one of them.",
        );
      }
      if (outside === 'expired') {
        // Keys check their own expiry first (expired_api_key); this is an OAuth app's end.
        await deps.guard.recordFailure(context.ip);
        throw new ApiError(
          'token_expired',
          "The access token has expired: the app's registration ended with the key that registered it.",
        );
      }
      context.principal = principal;
      next();
    } catch (error) {
      next(error);
    }
  };
}

function refusedKeyOwner(error: KeyRefusedError): Pick<AuditEvent, 'actor' | 'tenant'> {
  const { keyId, accountId, projectId, environment } = error.key;
  return {
    actor: { type: 'api_key', id: keyId, keyId, userId: null, clientId: null },
    tenant: { accountId, projectId, environment },
  };
}

async function verify(
  deps: { apiKeys: ApiKeyVerifier; tokens: TokenVerifier },
  presented: Presented,
  schemes: string[],
  ip: string,
): Promise<Principal> {
  if (presented.scheme === 'ApiKeyHeader') {
    if (!schemes.includes('ApiKeyHeader'))
      throw new ApiError(
        'invalid_token',
        'This operation accepts only an access token, as "Authorization: Bearer <token>".',
      );
    return deps.apiKeys.authenticate(presented.credential, 'ApiKeyHeader', ip);
  }
  if (API_KEY_SHAPE.test(presented.credential)) {
    if (!schemes.includes('ApiKeyHeader'))
      throw new ApiError('invalid_token', 'This operation does not accept API keys: send a session access token.');
    return deps.apiKeys.authenticate(presented.credential, 'BearerAuth' satisfies SchemeName, ip);
  }
  return deps.tokens.verify(presented.credential);
}
