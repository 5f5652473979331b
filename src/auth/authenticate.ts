// Authentication of secured operations: finds the one credential of the request,
// verifies it (API key by keyed hash; JWT and OAuth access tokens by the token
// verifier), and puts the principal in the request context. Which schemes an
// operation accepts comes from its `security` in the contract. Failures are
// audited and counted per client IP, so that guessing keys gets a 429.
import type { Request, RequestHandler } from 'express';
import type { AuditEvent, AuditLog } from '../audit/audit-log.ts';
import { ApiError } from '../errors.ts';
import { contextOf } from '../http/request-context.ts';
import { KeyRefusedError, type ApiKeyService } from './api-keys.ts';
import type { Principal, SchemeName } from './principal.ts';

/** Verifies access tokens (session JWTs and OAuth tokens); throws ApiError 401s. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Counts failed credential attempts per client IP. */
export interface FailedCredentialGuard {
  /** Seconds to wait when the address is blocked, else null. */
  blockedFor(ip: string): Promise<number | null>;
  recordFailure(ip: string): Promise<void>;
}

interface Presented {
  credential: string;
  scheme: 'ApiKeyHeader' | 'Bearer';
}

const API_KEY_SHAPE = /^(sk|rk|ck)_|^wfk_/;

function presentedCredential(req: Request): Presented | null {
  const authorization = req.get('authorization');
  const apiKey = req.get('x-api-key');
  if (authorization !== undefined && apiKey !== undefined) {
    throw new ApiError('validation_failed', 'Send one credential: either Authorization or X-API-Key, not both.', {
      details: [{ location: 'header.authorization', message: 'must not be sent together with X-API-Key' }],
    });
  }
  if (apiKey !== undefined) {
    if (apiKey.trim() === '') throw new ApiError('authentication_required', 'The X-API-Key header is empty: send your API key in it.');
    return { credential: apiKey.trim(), scheme: 'ApiKeyHeader' };
  }
  if (authorization === undefined) return null;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(authorization);
  if (!match) throw new ApiError('authentication_required', 'Send the credential as "Authorization: Bearer <key or token>".');
  return { credential: match[1]!, scheme: 'Bearer' };
}

export function authenticate(deps: { apiKeys: ApiKeyService; tokens: TokenVerifier; guard: FailedCredentialGuard; audit: AuditLog }): RequestHandler {
  return async (req, res, next) => {
    const context = contextOf(res);
    const operation = context.operation;
    if (!operation || operation.isPublic) return next();
    try {
      const presented = presentedCredential(req);
      if (!presented) throw new ApiError('authentication_required', 'This operation needs a credential: send an API key or an access token as "Authorization: Bearer <credential>".');
      const retryAfter = await deps.guard.blockedFor(context.ip);
      if (retryAfter !== null) {
        throw new ApiError('too_many_attempts', 'Too many failed authentication attempts from this address: wait before trying again.', { headers: { 'Retry-After': String(retryAfter) } });
      }
      try {
        context.principal = await verify(deps, presented, operation.schemes, context.ip);
      } catch (error) {
        // A refused key that was found is audited under its id, in its project (see KeyRefusedError).
        const known = error instanceof KeyRefusedError ? refusedKeyOwner(error) : {};
        if (error instanceof ApiError && error.status === 401) {
          await deps.guard.recordFailure(context.ip);
          await deps.audit.record(context, { action: 'auth.failed', outcome: 'failure', metadata: { code: error.code, operation: operation.operationId }, ...known });
        } else if (error instanceof ApiError && error.code === 'ip_not_allowed') {
          await deps.audit.record(context, { action: 'authorization.denied', outcome: 'denied', metadata: { code: error.code, operation: operation.operationId }, ...known });
        }
        throw error;
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

function refusedKeyOwner(error: KeyRefusedError): Pick<AuditEvent, 'actor' | 'tenant'> {
  const { keyId, accountId, projectId, environment } = error.key;
  return { actor: { type: 'api_key', id: keyId, keyId, userId: null, clientId: null }, tenant: { accountId, projectId, environment } };
}

async function verify(deps: { apiKeys: ApiKeyService; tokens: TokenVerifier }, presented: Presented, schemes: string[], ip: string): Promise<Principal> {
  if (presented.scheme === 'ApiKeyHeader') {
    if (!schemes.includes('ApiKeyHeader')) throw new ApiError('invalid_token', 'This operation accepts only an access token, as "Authorization: Bearer <token>".');
    return deps.apiKeys.authenticate(presented.credential, 'ApiKeyHeader', ip);
  }
  if (API_KEY_SHAPE.test(presented.credential)) {
    if (!schemes.includes('ApiKeyHeader')) throw new ApiError('invalid_token', 'This operation does not accept API keys: send a session access token.');
    return deps.apiKeys.authenticate(presented.credential, 'BearerAuth' satisfies SchemeName, ip);
  }
  return deps.tokens.verify(presented.credential);
}
