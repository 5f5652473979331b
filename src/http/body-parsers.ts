// The body parsers (JSON and form-encoded, with the size limit), run only for a
// request that has a body. Both parsers do nothing else for one without (they test
// the same two headers, after some work of their own), and most requests are GETs.
import express, { type RequestHandler } from 'express';

/** Exactly type-is's hasBody, which both parsers ask first: a body is framed by Transfer-Encoding or a numeric Content-Length. */
export function hasBody(headers: {
  'transfer-encoding'?: string | undefined;
  'content-length'?: string | undefined;
}): boolean {
  return headers['transfer-encoding'] !== undefined || !Number.isNaN(Number(headers['content-length']));
}

export function bodyParsers(options: { limitBytes: number }): RequestHandler {
  const json = express.json({
    limit: options.limitBytes,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });
  const form = express.urlencoded({
    limit: options.limitBytes,
    extended: false,
    parameterLimit: 100,
    type: 'application/x-www-form-urlencoded',
  });
  return (req, res, next) => {
    if (!hasBody(req.headers)) {
      // What the parsers leave on a request without a body.
      if (!Object.hasOwn(req, 'body')) (req as { body?: unknown }).body = undefined;
      return next();
    }
    json(req, res, (error?: unknown) => (error ? next(error) : form(req, res, next)));
  };
}
