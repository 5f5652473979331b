// The composition of the HTTP pipeline, in one place and in this order:
//   request id -> security headers -> HTTPS only -> headers sent once -> operation
//   match (404/405) -> CORS headers (paths with a preflight) -> authentication -> scope
//   check -> rate limit -> credential headers
//   -> body parsers (size and depth limits, no NUL) -> contract validation (requests;
//   responses when configured) -> finite numbers -> public operations' address guard
//   -> handlers (by operationId) -> one error handler.
// Who you are comes before what you sent: on a secured operation, an anonymous caller
// gets its 401, a caller without the scope its 403 and a caller over its limit its 429
// before the body is read or checked (so no schema detail reaches the anonymous).
// Public operations (login, refresh, OAuth, leaked-key reports, health) have no identity
// to check first: their input is validated, then their address's guard decides.
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from './audit/audit-log.ts';
import type { ApiKeyVerifier } from './auth/api-key-verification.ts';
import { authenticate, type FailedCredentialGuard } from './http/authenticate.ts';
import type { TokenVerifier } from './auth/principal.ts';
import { authorize } from './http/authorize.ts';
import type { Config } from './config.ts';
import type { Contract } from './contract/operations.ts';
import type { IdempotencyStore } from './domain/idempotency.ts';
import type { Clock } from './domain/time.ts';
import { bodyParsers } from './http/body-parsers.ts';
import { contractValidation } from './http/contract-validation.ts';
import { corsHeaders } from './http/cors.ts';
import { credentialHeaders } from './http/credential-headers.ts';
import { refuseDeepBodies } from './http/body-depth.ts';
import { errorHandler } from './http/error-handler.ts';
import { refuseNonFiniteParameters } from './http/finite-parameters.ts';
import { refuseNulCharacters } from './http/nul-characters.ts';
import type { Handlers } from './http/handler.ts';
import { httpsOnly } from './http/https-only.ts';
import { matchOperation } from './http/operation-match.ts';
import { pipeline } from './http/pipeline.ts';
import { publicGuard, rateLimit, rateLimitStanding } from './http/rate-limit.ts';
import { refuseRepeatedHeaders } from './http/repeated-headers.ts';
import type { RateLimitAudit } from './http/rate-limit-audit.ts';
import { requestId } from './http/request-id.ts';
import { requestLog } from './http/request-log.ts';
import { securityHeaders } from './http/security-headers.ts';
import { trustedProxy } from './http/trusted-proxies.ts';
import { contractRoutes } from './http/routes.ts';
import type { BruteForceGuard, RateLimiter } from './rate-limit/index.ts';

export interface AppDeps {
  config: Config;
  contract: Contract;
  logger: Logger;
  clock: Clock;
  handlers: Handlers;
  apiKeys: ApiKeyVerifier;
  tokens: TokenVerifier;
  audit: AuditLog;
  idempotency: IdempotencyStore;
  limiter: RateLimiter;
  guard: BruteForceGuard;
  rateLimitAudit: RateLimitAudit;
}

export function createApp(deps: AppDeps): Express {
  const { config, contract, logger, clock } = deps;
  const app = express();
  // Forwarded headers are believed only from the configured proxies.
  app.set('trust proxy', trustedProxy(config.trustedProxies));
  app.set('etag', false);
  app.set('x-powered-by', false);

  const guard: FailedCredentialGuard = {
    blockedFor: async (ip) => {
      const decision = await deps.guard.check('failed_credentials', { clientIp: ip });
      return decision.allowed ? null : decision.retryAfterSeconds;
    },
    recordFailure: async (ip) => {
      await deps.guard.recordFailure('failed_credentials', { clientIp: ip });
    },
  };
  // The stages run as one middleware (src/http/pipeline.ts): no router turn between them.
  app.use(
    pipeline([
      requestId(clock),
      requestLog(logger, clock),
      securityHeaders({
        strictTransportSecurity: { maxAge: 63_072_000, includeSubDomains: true },
        contentSecurityPolicy: {
          useDefaults: false,
          directives: {
            defaultSrc: ["'none'"],
            styleSrc: ["'unsafe-inline'"],
            formAction: ["'self'"],
            frameAncestors: ["'none'"],
            baseUri: ["'none'"],
          },
        },
        frameguard: { action: 'deny' },
        referrerPolicy: { policy: 'no-referrer' },
      }),
      httpsOnly({ allowLoopbackHttp: config.allowLoopbackHttp }),
      refuseRepeatedHeaders(),
      matchOperation(contract),
      corsHeaders(contract),

      authenticate({ apiKeys: deps.apiKeys, tokens: deps.tokens, guard, audit: deps.audit, clock }),
      authorize({ audit: deps.audit }),
      rateLimit({ limiter: deps.limiter, audit: deps.rateLimitAudit }),
      credentialHeaders(),

      bodyParsers({ limitBytes: config.bodyLimitBytes }),
      refuseDeepBodies(),
      refuseNulCharacters(),

      // express-openapi-validator on the bundled contract (requests always; responses when configured).
      contractValidation(contract, { validateResponses: config.validateResponses }),
      refuseNonFiniteParameters(),
      publicGuard({ guard: deps.guard }),

      contractRoutes(contract, deps.handlers, deps.idempotency),
    ]),
  );
  app.use(
    errorHandler(logger, {
      rateLimitStanding: rateLimitStanding({ limiter: deps.limiter, guard: deps.guard, contract }),
    }),
  );
  return app;
}
