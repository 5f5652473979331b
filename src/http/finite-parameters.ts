// Runs right after request validation. The validator coerces parameters from
// their string form with Ajv, and Ajv's coercion turns `Infinity` or `1e400` into
// the number Infinity and then lets it pass `type: integer` and `maximum`
// (`?limit=1e400` reached the database as LIMIT Infinity: a 500). No parameter
// of the contract can be infinite or NaN, so any such value is the same 400 the
// validator gives for an out-of-range number.
import type { RequestHandler } from 'express';
import { ApiError } from '../errors.ts';

export function refuseNonFiniteParameters(): RequestHandler {
  return (req, _res, next) => {
    for (const [where, values] of [
      ['query', req.query],
      ['path', req.params],
    ] as const) {
      for (const [name, value] of Object.entries(values ?? {})) {
        const numbers = Array.isArray(value) ? value : [value];
        if (numbers.some((item) => typeof item === 'number' && !Number.isFinite(item))) {
          return next(
            new ApiError('validation_failed', `${where}.${name} must be a finite number.`, {
              details: [{ location: `${where}.${name}`, message: 'must be a finite number' }],
            }),
          );
        }
      }
    }
    next();
  };
}
