// Rate limiting in the pipeline, in two stages:
//  - `rateLimit`, right after the scope check and before the body is read: every
//    authenticated request counts against every policy that applies (src/rate-limit/),
//    so a caller over its limit gets its 429 without its body being parsed;
//  - `publicGuard`, after validation: public operations (login, refresh, the OAuth
//    endpoints, leaked-key reports) have no principal and are limited by the brute-force
//    guards of their client address, whose standing their headers show (handlers refine
//    it, e.g. login per username and address).
// `rateLimitStanding` gives the headers of answers that neither stage reached (a 401, a
// 403 for a missing scope, a 400 before the guard): every answer of a rate-limited
// operation below 500 carries the standing of the limit that governs its caller.
import type { Request, RequestHandler, Response } from 'express';
import type { Contract } from '../contract/operations.ts';
import { principalId, type Principal } from '../auth/principal.ts';
import { ApiError, OAuthError } from '../errors.ts';
import {
  rateLimitHeaders,
  type BruteForceGuard,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitSubject,
} from '../rate-limit/index.ts';
import type { RateLimitAudit } from './rate-limit-audit.ts';
import { contextOf, type RequestContext } from './request-context.ts';

export function applyRateLimitHeaders(res: Response, decision: RateLimitDecision): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(decision))) res.setHeader(name, value);
}

function subjectOf(context: RequestContext, principal: Principal): RateLimitSubject {
  return {
    category: context.operation!.category,
    plan: principal.plan,
    accountId: principal.accountId,
    authMethod: principal.method,
    principalId: principalId(principal),
    clientIp: context.ip,
  };
}

export function rateLimit(deps: { limiter: RateLimiter; audit: RateLimitAudit }): RequestHandler {
  return async (_req, res, next) => {
    const context = contextOf(res);
    const { operation, principal } = context;
    if (!operation?.rateLimited || !principal) return next();
    try {
      const decision = await deps.limiter.consume(subjectOf(context, principal));
      applyRateLimitHeaders(res, decision);
      context.rateLimit = decision;
      if (decision.allowed) return next();
      deps.audit.rejected(context, decision.governing.name);
      next(
        new ApiError(
          'rate_limit_exceeded',
          `Rate limit "${decision.governing.name}" exceeded (${decision.governing.limit} per ${decision.governing.windowSeconds} s): retry after ${decision.retryAfterSeconds} s.`,
        ),
      );
    } catch (error) {
      next(error);
    }
  };
}

export function publicGuard(deps: { guard: BruteForceGuard }): RequestHandler {
  return async (req, res, next) => {
    const context = contextOf(res);
    const { operation } = context;
    if (!operation?.rateLimited || !operation.isPublic) return next();
    try {
      const decision = await deps.guard.check('failed_credentials', { clientIp: context.ip });
      applyRateLimitHeaders(res, decision);
      if (!decision.allowed) {
        const message = 'Too many failed attempts from this address: wait Retry-After seconds before trying again.';
        return next(
          req.path.startsWith('/oauth/')
            ? new OAuthError('rate_limit_exceeded', message)
            : new ApiError('too_many_attempts', message),
        );
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The standing to show on an answer of a rate-limited operation that no limiting stage
 * reached: the caller's own limits when it authenticated (nothing counted), else its
 * address's failed-credentials guard. Null for operations that are not rate-limited.
 */
export function rateLimitStanding(deps: {
  limiter: RateLimiter;
  guard: BruteForceGuard;
  contract: Contract;
}): (context: RequestContext, req: Request) => Promise<RateLimitDecision | null> {
  return async (context, req) => {
    // Refused before its operation was matched (plain HTTP, a repeated header): matched here.
    const match = context.operation ? null : deps.contract.match(req.method, req.path);
    const operation = context.operation ?? (match && 'operation' in match ? match.operation : null);
    if (!operation?.rateLimited) return null;
    if (context.rateLimit) return context.rateLimit;
    if (context.principal) return deps.limiter.standing(subjectOf(context, context.principal));
    return deps.guard.check('failed_credentials', { clientIp: context.ip });
  };
}
