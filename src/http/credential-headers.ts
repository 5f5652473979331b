// Headers that describe the credential rather than the operation: `Deprecation`
// for a legacy wfk_ key (RFC 9745), `X-Key-Expires-At` for a rotated secret in
// its grace period.
import type { RequestHandler } from 'express';
import { iso } from '../domain/time.ts';
import { contextOf } from './request-context.ts';

/** When legacy keys were deprecated: 2026-01-01T00:00:00Z. */
const LEGACY_DEPRECATED_AT = 1_767_225_600;

export function credentialHeaders(): RequestHandler {
  return (_req, res, next) => {
    const principal = contextOf(res).principal;
    if (principal?.method === 'api_key') {
      if (principal.keyType === 'legacy') res.setHeader('Deprecation', `@${LEGACY_DEPRECATED_AT}`);
      if (principal.graceEndsAt !== null) res.setHeader('X-Key-Expires-At', iso(principal.graceEndsAt));
    }
    next();
  };
}
