// Refuses JSON bodies nested deeper than any request of the contract needs. The
// free-form fields (run input, event data, `set` values) take any JSON, and a body
// of 100 000 nested objects fits in the size limit but overflows the stack of
// JSON.stringify when it is stored (an event with such `data` was a 500). The
// check walks the body without recursion, so it cannot overflow itself.
import type { RequestHandler } from 'express';
import { ApiError } from '../errors.ts';

export const MAX_BODY_DEPTH = 64;

export function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const item of Object.values(current)) if (item !== null && typeof item === 'object') stack.push([item, level]);
  }
  return deepest;
}

export function refuseDeepBodies(limit = MAX_BODY_DEPTH): RequestHandler {
  return (req, _res, next) => {
    if (req.body === null || typeof req.body !== 'object' || depthOf(req.body, limit) <= limit) return next();
    next(
      new ApiError('validation_failed', `body is nested more than ${limit} levels deep.`, {
        details: [{ location: 'body', message: `must not be nested more than ${limit} levels deep` }],
      }),
    );
  };
}
