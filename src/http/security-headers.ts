// The security headers of every response (HSTS, CSP, framing, referrer, ...), as
// helmet sets them. Helmet's configuration here is static (no value depends on the
// request), so what it does to a response is recorded once, at start-up, by running
// it on a recording response, and then replayed on each response: the same headers,
// decided by helmet, without running its dozen middlewares per request.
import type { RequestHandler } from 'express';
import helmet from 'helmet';

type Operation = { set: string; value: string | number | readonly string[] } | { remove: string };

function record(middleware: RequestHandler): Operation[] {
  const operations: Operation[] = [];
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      operations.push({ set: name, value });
      return res;
    },
    removeHeader(name: string) {
      operations.push({ remove: name });
    },
  };
  let called = false;
  middleware({ method: 'GET', url: '/', headers: {} } as never, res as never, (error?: unknown) => {
    // helmet's middlewares call next(err?: Error).
    if (error) throw error as Error;
    called = true;
  });
  if (!called) throw new Error('helmet did not finish synchronously: its headers cannot be recorded');
  return operations;
}

export function securityHeaders(options: Parameters<typeof helmet>[0]): RequestHandler {
  const operations = record(helmet(options));
  return (_req, res, next) => {
    for (const operation of operations) {
      if ('set' in operation) res.setHeader(operation.set, operation.value);
      else res.removeHeader(operation.remove);
    }
    next();
  };
}
