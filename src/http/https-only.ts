// HTTPS only: a plain-HTTP request to /v1 or /oauth is refused with 403
// https_required before anything reads it. `req.secure` already reflects
// X-Forwarded-Proto from trusted proxies only (see trust proxy in app.ts).
// Loopback clients are exempt outside production, for local development.
// /health and /.well-known carry no credentials and answer either way.
import type { RequestHandler } from 'express';
import { ApiError, OAuthError } from '../errors.ts';
import { isLoopback } from '../net/cidr.ts';

export function httpsOnly(options: { allowLoopbackHttp: boolean }): RequestHandler {
  return (req, _res, next) => {
    if (req.secure) return next();
    const path = req.path;
    const guarded = path.startsWith('/v1/') || path === '/v1' || path.startsWith('/oauth/');
    if (!guarded) return next();
    // Both the socket peer and the resolved client must be local: a proxy on loopback forwarding a remote client is not exempt.
    if (options.allowLoopbackHttp && isLoopback(req.socket.remoteAddress ?? '') && isLoopback(req.ip ?? ''))
      return next();
    const message = 'Requests must use HTTPS: plain HTTP is refused. Use https://.';
    next(
      path.startsWith('/oauth/') ? new OAuthError('https_required', message) : new ApiError('https_required', message),
    );
  };
}
