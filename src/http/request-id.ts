// Gives every request an id (`req_` + 24 base62), answered as X-Request-Id on
// every response and quoted in every error and audit entry. Client-sent ids are
// not trusted: they would let a caller forge entries in our logs' correlation.
import type { RequestHandler } from 'express';
import { newId } from '../domain/ids.ts';
import type { Clock } from '../domain/time.ts';
import { initContext, userAgentOf } from './request-context.ts';

export function requestId(clock: Clock): RequestHandler {
  return (req, res, next) => {
    const id = newId('req');
    res.setHeader('X-Request-Id', id);
    initContext(res, {
      requestId: id,
      ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      userAgent: userAgentOf(req),
      startedAt: clock(),
      operation: null,
      principal: null,
      rateLimit: null,
    });
    next();
  };
}
