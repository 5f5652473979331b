// Refuses requests that repeat a header that must appear once. Node keeps the
// first Authorization, Host or Content-Type and silently drops the others, and a
// proxy or WAF in front of us may read the last one: a request carrying two
// credentials would then be checked as one principal and served as another, so a
// repeated credential header is `multiple_credentials`, as Authorization with
// X-API-Key is in authentication (RFC 6750: one credential per request).
// (HTTP/1.1 also requires exactly one Host: the listener leaves that check to
// us, see src/listen.ts, so the refusal comes in our error form.)
import type { RequestHandler } from 'express';
import { ApiError } from '../errors.ts';

const ONCE = ['authorization', 'x-api-key', 'host', 'content-type', 'idempotency-key'];

export function refuseRepeatedHeaders(): RequestHandler {
  return (req, _res, next) => {
    const counts = new Map<string, number>();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (ONCE.includes(name)) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const repeated = ONCE.filter((name) => (counts.get(name) ?? 0) > 1);
    const hostMissing = req.httpVersion === '1.1' && !counts.has('host');
    if (repeated.length === 0 && !hostMissing) return next();
    if (repeated.includes('authorization') || repeated.includes('x-api-key')) {
      return next(
        new ApiError('multiple_credentials', 'Send one credential, once: the request repeats a credential header.'),
      );
    }
    const details = [
      ...repeated.map((name) => ({ location: `header.${name}`, message: 'must be sent once, not repeated' })),
      ...(hostMissing ? [{ location: 'header.host', message: 'is required in HTTP/1.1' }] : []),
    ];
    next(
      new ApiError(
        'validation_failed',
        `${details[0]!.location} ${details[0]!.message}${details.length > 1 ? ' (and more, see details)' : ''}.`,
        { details },
      ),
    );
  };
}
