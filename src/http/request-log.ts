// One structured log line per request. It names the operation, its path template
// and the principal by id, and never logs headers, query strings, bodies or the raw
// path (a key pasted into a URL must not reach the logs). Having nothing to redact, it
// is written without pino's redaction (requestLineLogger), which guards every other line.
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Clock } from '../domain/time.ts';
import { principalId } from '../auth/principal.ts';
import { requestLineLogger } from '../logging/logger.ts';
import { contextOf } from './request-context.ts';

export function requestLog(parent: Logger, clock: Clock): RequestHandler {
  const logger = requestLineLogger(parent);
  return (req, res, next) => {
    res.on('finish', () => {
      const context = contextOf(res);
      logger.info(
        {
          req_id: context.requestId,
          method: req.method,
          path: context.operation?.path ?? null,
          operation: context.operation?.operationId ?? null,
          status: res.statusCode,
          ms: clock() - context.startedAt,
          ip: context.ip,
          principal: context.principal ? principalId(context.principal) : null,
        },
        'request',
      );
    });
    next();
  };
}
