// Runs the request pipeline's stages, in order, as one Express middleware.
//
// Registered one by one with app.use, every stage costs a turn of Express's router
// per request (layer matching, parameter processing, prefix trimming, promise
// detection), a cost paid once per stage (measured: docs/performance.md). Every stage is mounted at the root and none
// uses the router's features (`next('route')`, mount paths), so here they are
// simply called one after the other, with the router's error semantics: a stage
// that throws, passes an error to `next` or returns a rejected promise ends the
// pipeline, and the error goes on to the app's error handler.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export function pipeline(stages: readonly RequestHandler[]): RequestHandler {
  const count = stages.length;
  return (req: Request, res: Response, done: NextFunction) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null)
        return done(error === 'route' || error === 'router' ? undefined : error);
      if (index >= count) return done();
      const stage = stages[index++]!;
      try {
        const returned = stage(req, res, next);
        if (returned instanceof Promise)
          returned.then(undefined, (reason: unknown) => next(reason ?? new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown ?? new Error('A stage threw a nullish value'));
      }
    };
    next();
  };
}
