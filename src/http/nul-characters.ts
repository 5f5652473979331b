// Refuses U+0000 (NUL) anywhere in the path, the query or a body string. PostgreSQL
// text cannot hold it: a client_id of "a\u0000b" made the lookup itself fail (a 500
// on the OAuth endpoints, and on every text a handler binds as a parameter), while
// SQLite stored it. No field of the contract has a use for it, so both databases now
// get the same 400 before anything reads the request. Runs after the body parsers.
import type { RequestHandler } from 'express';
import { ApiError } from '../errors.ts';

function holdsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return true;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        if (key.includes('\u0000')) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

export function refuseNulCharacters(): RequestHandler {
  return (req, _res, next) => {
    const where = /%00/i.test(req.path) ? 'path' : holdsNul(req.query) ? 'query' : holdsNul(req.body) ? 'body' : null;
    if (where === null) return next();
    next(
      new ApiError('validation_failed', `The ${where} holds a NUL character (U+0000), which no field accepts.`, {
        details: [{ location: where, message: 'must not contain the NUL character (U+0000)' }],
      }),
    );
  };
}
