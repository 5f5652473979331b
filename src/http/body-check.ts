// express-openapi-validator's verdict on a request with a body (JSON, and the OAuth
// endpoints' form bodies alike), without the validator's per-request preparation around it.
//
// For each request, the validator's request step parses the Content-Type, builds a
// parameter mutator and runs it over the query string, redefines `req.query` twice,
// assembles {query, headers, params, cookies, body}, and then runs two Ajv functions
// that it compiled for the operation and media type on the first such request (kept on
// its Ajv instances under `METHOD-route-mediatype`). The preparation costs several times
// what the two functions cost: in-process, skipping it takes the validation of a POST
// /v1/workflows from 312 to 278 µs (Ajv's validation of the body itself is ~6 µs).
// For an operation whose parameters leave the mutator nothing to do on a request
// without a query string (plain-string path and header parameters, optional scalar
// query parameters: hasPlainParameters in parameters-only-check.ts), this check runs the validator's own two
// compiled functions on the object the validator would build, and accepts the
// request when both pass. Anything else goes to the validator's step as before:
// a first request of an operation and media type (the validator compiles them
// then), a query string, cookies, multipart bodies, a top-level discriminator,
// and every request the functions refuse, so that refusals are the validator's own.
import type { Request } from 'express';
import { ContentType } from 'express-openapi-validator/dist/middlewares/util.js';

/** The parts of express-openapi-validator's RequestValidator this check reads (private in its types). */
export interface ValidatorInternals {
  middlewareCache: Record<string, unknown>;
  ajv: { getSchema(key: string): CompiledCheck | undefined };
  ajvBody: { getSchema(key: string): CompiledCheck | undefined };
}

type CompiledCheck = ((data: unknown) => boolean) & { schema?: unknown };

export interface BodyCheck {
  /**
   * True when the validator would accept the request as it is, having left on it what
   * the validator leaves (defaults in the body and query, `req.query` a value,
   * `req.params`); false, with `req.query` as it was, when the validator must judge it.
   */
  accepts(req: Request, pathParams: Record<string, string>, expressRoute: string): boolean;
}

export function bodyCheckFor(validator: () => ValidatorInternals | null): BodyCheck {
  return {
    accepts(req, pathParams, expressRoute) {
      if (req.originalUrl.includes('?') || (req as { cookies?: unknown }).cookies !== undefined) return false;
      const internals = validator();
      if (!internals) return false;
      const contentType = ContentType.from(req);
      if (contentType.mediaType === 'multipart/form-data') return false;
      // The validator's own cache key for the operation and media type (RequestValidator.validate).
      const key = `${req.method}-${expressRoute}-${contentType.normalize() ?? 'not_provided'}`;
      if (!internals.middlewareCache[key]) return false;
      const general = internals.ajv.getSchema(key);
      const body = internals.ajvBody.getSchema(key);
      if (!general || !body || hasTopLevelDiscriminator(body.schema)) return false;
      // As the validator leaves it: express 5's req.query getter replaced by its value
      // (configurable, so that a refused request can be handed back to the validator as it came).
      if (Object.hasOwn(req, 'query')) return false;
      const query = req.query;
      Object.defineProperty(req, 'query', { writable: true, configurable: true, value: query });
      const data = { query, headers: req.headers, params: pathParams, cookies: undefined, body: req.body as unknown };
      if (general(data) && body(data)) {
        req.params = pathParams;
        return true;
      }
      delete (req as { query?: unknown }).query;
      return false;
    },
  };
}

function hasTopLevelDiscriminator(schema: unknown): boolean {
  const body = (schema as { properties?: { body?: { _discriminator?: unknown } } } | undefined)?.properties?.body;
  return body?._discriminator !== undefined;
}
