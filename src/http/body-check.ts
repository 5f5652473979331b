// express-openapi-validator's verdict on a request with a body (JSON, and the OAuth
// endpoints' form bodies alike) or a query string, without the validator's per-request
// preparation around it.
//
// For each request, the validator's request step parses the Content-Type, builds a
// parameter mutator and runs it over the query string, redefines `req.query` twice,
// assembles {query, headers, params, cookies, body}, and then runs two Ajv functions
// that it compiled for the operation and media type on the first such request (kept on
// its Ajv instances under `METHOD-route-mediatype`). The preparation costs several times
// what the two functions cost: in-process, skipping it takes the validation of a POST
// /v1/workflows from 312 to 278 µs (Ajv's validation of the body itself is ~6 µs).
// For an operation whose parameters leave the mutator nothing to do (plain-string path
// and header parameters, optional scalar query parameters: hasPlainParameters in
// parameters-only-check.ts), this check runs the validator's own two compiled functions
// on the object the validator would build, and accepts the request when both pass.
//
// A query string is taken only when the mutator would leave it as Express parsed it and
// refuse none of it: `name=value` pairs, each name one of the operation's query
// parameters declared without a serialisation of their own (plainQueryNames), each raw
// value non-empty and made of unreserved characters and percent escapes. The mutator
// rewrites only names with brackets and parameters with a style, explode or content,
// and refuses raw values with a reserved character, unknown names and empty values; the
// rest (coercion of `limit=20` to a number, formats, patterns, defaults) is the compiled
// functions' work, on the same `req.query`.
//
// Anything else goes to the validator's step as before: a first request of an operation
// and media type (the validator compiles the functions then), any other query string,
// cookies, multipart bodies, a top-level discriminator, and every request the functions
// refuse, so that refusals are the validator's own.
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
   * `queryNames`: the operation's plainQueryNames, null when it has none (then no query string is taken).
   */
  accepts(req: Request, pathParams: Record<string, string>, expressRoute: string, queryNames: ReadonlySet<string> | null): boolean;
}

export function bodyCheckFor(validator: () => ValidatorInternals | null): BodyCheck {
  return {
    accepts(req, pathParams, expressRoute, queryNames) {
      if ((req as { cookies?: unknown }).cookies !== undefined) return false;
      const mark = req.originalUrl.indexOf('?');
      if (mark !== -1 && !(queryNames && isPlainQuery(req.originalUrl.slice(mark + 1), queryNames))) return false;
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

// A pair of the raw query string: a name of plain characters, and a value of unreserved
// characters (RFC 3986) and percent escapes. Reserved characters, `+` among them, are
// what the validator refuses in raw values, and `[` what it parses as nesting.
const PLAIN_PAIR = /^([A-Za-z0-9_.~-]+)=((?:[A-Za-z0-9_.~-]|%[0-9A-Fa-f]{2})+)$/;

// A name given twice is left to the compiled functions: Express makes it an array, which
// no scalar parameter's schema takes, so they refuse it and the validator answers.
function isPlainQuery(raw: string, names: ReadonlySet<string>): boolean {
  if (raw === '') return false;
  for (const pair of raw.split('&')) {
    const name = PLAIN_PAIR.exec(pair)?.[1];
    if (name === undefined || !names.has(name)) return false;
  }
  return true;
}

function hasTopLevelDiscriminator(schema: unknown): boolean {
  const body = (schema as { properties?: { body?: { _discriminator?: unknown } } } | undefined)?.properties?.body;
  return body?._discriminator !== undefined;
}
