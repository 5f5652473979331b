// Rate limiting in the pipeline: after the scope check, every rate-limited operation
// counts against every policy that applies (src/rate-limit/), and the answer carries
// the governing policy's headers, whatever its status. Public operations (login,
// refresh, the OAuth endpoints, leaked-key reports) have no principal: they are
// limited by the brute-force guards of their client address, whose standing their
// headers show (handlers refine it, e.g. login per username and address).
import type { RequestHandler, Response } from 'express';
import { principalId } from '../auth/principal.ts';
import { ApiError, OAuthError } from '../errors.ts';
import { rateLimitHeaders, type BruteForceGuard, type RateLimitDecision, type RateLimiter } from '../rate-limit/index.ts';
import type { RateLimitAudit } from './rate-limit-audit.ts';
import { contextOf } from './request-context.ts';

export function applyRateLimitHeaders(res: Response, decision: RateLimitDecision): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(decision))) res.setHeader(name, value);
}

export function rateLimit(deps: { limiter: RateLimiter; guard: BruteForceGuard; audit: RateLimitAudit }): RequestHandler {
  return async (req, res, next) => {
    const context = contextOf(res);
    const { operation, principal } = context;
    if (!operation?.rateLimited) return next();
    try {
      if (!principal) {
        const decision = await deps.guard.check('failed_credentials', { clientIp: context.ip });
        applyRateLimitHeaders(res, decision);
        if (!decision.allowed) {
          const message = 'Too many failed attempts from this address: wait Retry-After seconds before trying again.';
          return next(req.path.startsWith('/oauth/') ? new OAuthError('rate_limit_exceeded', message) : new ApiError('too_many_attempts', message));
        }
        return next();
      }
      const decision = await deps.limiter.consume({
        category: operation.category,
        plan: principal.plan,
        accountId: principal.accountId,
        authMethod: principal.method,
        principalId: principalId(principal),
        clientIp: context.ip,
      });
      applyRateLimitHeaders(res, decision);
      context.rateLimit = decision;
      if (decision.allowed) return next();
      deps.audit.rejected(context, decision.governing.name);
      next(new ApiError('rate_limit_exceeded', `Rate limit "${decision.governing.name}" exceeded (${decision.governing.limit} per ${decision.governing.windowSeconds} s): retry after ${decision.retryAfterSeconds} s.`));
    } catch (error) {
      next(error);
    }
  };
}
