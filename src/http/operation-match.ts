// Matches every request to its contract operation before anything else can answer
// it: a path the contract does not describe is a 404 `route_not_found`, a known
// path with another method a 405 with `Allow`. (express-openapi-validator lets
// undescribed paths through unvalidated and unauthenticated, so this comes first.)
import type { RequestHandler } from 'express';
import type { Contract } from '../contract/operations.ts';
import { ApiError } from '../errors.ts';
import { contextOf } from './request-context.ts';

export function matchOperation(contract: Contract): RequestHandler {
  return (req, res, next) => {
    const match = contract.match(req.method, req.path);
    // Messages never echo the path: it is client input, and may even hold a pasted secret.
    if (match === null)
      return next(
        new ApiError('route_not_found', 'No operation has this path: check the URL against the API reference.'),
      );
    if ('allowed' in match) {
      return next(
        new ApiError(
          'method_not_allowed',
          `This path does not accept ${req.method}; it accepts ${match.allowed.join(', ')}.`,
          { headers: { Allow: match.allowed.join(', ') } },
        ),
      );
    }
    contextOf(res).operation = match.operation;
    next();
  };
}
