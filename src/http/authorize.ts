// The one scope check. The scopes an operation needs are those its contract
// `security` lists under the scheme that carried the credential; coarse
// `read`/`write` grants count as every `*:read`/`*:write`. No handler checks scopes.
import type { RequestHandler } from 'express';
import type { AuditLog } from '../audit/audit-log.ts';
import { requiredScopes } from '../contract/operations.ts';
import { ApiError } from '../errors.ts';
import { contextOf } from './request-context.ts';
import { missingScopes } from '../auth/scopes.ts';

export function authorize(deps: { audit: AuditLog }): RequestHandler {
  return async (_req, res, next) => {
    const context = contextOf(res);
    const { operation, principal } = context;
    if (!operation || operation.isPublic || !principal) return next();
    const required = requiredScopes(operation, principal.scheme);
    const missing = missingScopes(principal.scopes, required);
    if (missing.length === 0) return next();
    try {
      await deps.audit.record(context, {
        action: 'authorization.denied',
        outcome: 'denied',
        metadata: { code: 'insufficient_scope', required_scopes: required, operation: operation.operationId },
      });
      next(
        new ApiError(
          'insufficient_scope',
          `This operation needs the ${missing.join(', ')} scope${missing.length > 1 ? 's' : ''}, which this credential does not hold.`,
          { requiredScopes: required },
        ),
      );
    } catch (error) {
      next(error);
    }
  };
}
