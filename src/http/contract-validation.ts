// Contract validation of every request (and, when configured, of every response) by
// express-openapi-validator, used so that it does no work twice.
//
// The validator's own first step ("metadata") finds the request's operation by
// compiling the path-to-regexp of every route in the document, one after the other,
// on every request, until one matches: with our ~40 routes that costs more than
// validating the request itself. The operation is already known here (operation-match
// runs first, with regexes compiled once), so after the validator has matched an
// operation once, what it found (the operation's schema, its routes) is remembered,
// and later requests to that operation get the same `req.openapi` with their own path
// parameters, decoded the way the validator decodes them. A request with no query
// string and no body, to an operation whose verdict on such a request can be read off
// the contract (parameters-only-check.ts), is judged by that check instead of the
// validator's request step; a request with a body and no query string, to an operation
// whose parameters leave the validator nothing to parse, is judged by the validator's own
// compiled functions without its per-request preparation (body-check.ts); so is a request
// whose query string the validator would take as Express parsed it (a list's `?limit=`
// and `cursor=`, with or without a body). Any request these checks do not accept goes
// to the validator's step.
// Everything else (parameter parsing and coercion, body and header checks, response
// checks) is the validator's own middleware, unchanged. When it refuses a JSON body,
// its first problem is replaced by every problem of the body (validation-problems.ts).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { RequestValidator } from 'express-openapi-validator/dist/middlewares/openapi.request.validator.js';
import { componentRef, type Contract, type ContractOperation } from '../contract/operations.ts';
import { hasBody } from './body-parsers.ts';
import { contextOf } from './request-context.ts';
import { bodyCheckFor, type ValidatorInternals } from './body-check.ts';
import { hasPlainParameters, parametersOnlyCheck, plainQueryNames, type ParametersOnlyCheck } from './parameters-only-check.ts';
import { bodyExplainer, jsonBodySchema, withEveryBodyProblem } from './validation-problems.ts';

/** What the validator's metadata step puts on `req.openapi` (OpenApiRequestMetadata, plus the response schema it adds). */
interface OpenApiMetadata {
  expressRoute: string;
  openApiRoute: string;
  pathParams: Record<string, string>;
  schema: unknown;
  serial: number;
  _responseSchema?: unknown;
}

type Step = (req: Request, res: Response, next: NextFunction) => unknown;

/** The validator instance behind the middleware (`middleware._oav`), as far as it is used here. */
interface ValidatorInstance {
  ajvOpts: { request: unknown };
  requestValidationMiddleware(apiDoc: unknown): Step;
}

export function contractValidation(contract: Contract, options: { validateResponses: boolean }): RequestHandler {
  const all = OpenApiValidator.middleware({
    // The validator rewrites the document it is given; it gets its own copy.
    apiSpec: (options.validateResponses ? structuredClone(contract.document) : requestsOnlyDocument(contract)) as never,
    validateApiSpec: false,
    // Parameters are always coerced from their string form; bodies never are (a number is not a string).
    validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
    validateResponses: options.validateResponses ? { removeAdditional: false } : false,
    // Authentication and scopes are ours (src/auth/): the validator only sees that a credential is present.
    validateSecurity: false,
    // No operation takes multipart bodies: no multipart step.
    fileUploader: false,
    ignoreUndocumented: false,
  }) as unknown as Step[];
  // The validator's RequestValidator, for body-check.ts: made here instead of inside the
  // validator (which does exactly this, on the document it has prepared, at its first request).
  const instance = (OpenApiValidator.middleware as unknown as { _oav?: Partial<ValidatorInstance> })._oav;
  if (typeof instance?.requestValidationMiddleware !== 'function' || typeof instance.ajvOpts?.request !== 'object') {
    throw new Error("express-openapi-validator's instance is not the expected one (middleware._oav with requestValidationMiddleware and ajvOpts)");
  }
  let requestValidator: ValidatorInternals | null = null;
  instance.requestValidationMiddleware = (apiDoc: unknown) => {
    const made = new RequestValidator(apiDoc as never, instance.ajvOpts!.request as never);
    // Another version of the validator, with other internals, simply gets every request.
    requestValidator = hasExpectedInternals(made) ? made : null;
    return (req, res, next) => made.validate(req as never, res, next);
  };
  // Two steps have nothing to do here, and each costs a promise turn per request: security
  // (validateSecurity is off), and path-parameter coercion for routes registered on the app
  // itself (app.param; operations are answered by one middleware, src/http/routes.ts).
  const steps = all.filter((step) => step.name !== 'securityMiddleware' && step.name !== 'pathParamsMiddleware');
  const metadataStep = steps.findIndex((step) => step.name === 'metadataMiddleware');
  // The steps are known by their names: a build that drops function names (esbuild's minifySyntax
  // without keepNames), or another version of the validator, would silently give every request the
  // slow path. Start-up fails instead.
  const requestStep = steps.findIndex((step) => step.name === 'requestMiddleware');
  const names = all.map((step) => step.name || '(unnamed)').join(', ');
  if (metadataStep === -1 || requestStep === -1 || steps.length !== all.length - 2) throw new Error(`express-openapi-validator's steps are not the expected ones (got: ${names})`);
  // Per operation: how to tell the validator's verdict on a request of path parameters only (parameters-only-check.ts).
  const shortcuts = new Map<ContractOperation, ParametersOnlyCheck | null>(contract.operations.map((operation) => [operation, parametersOnlyCheck(contract.document, operation)]));
  const bodyCheck = bodyCheckFor(() => requestValidator);
  const takesBodies = new Set(contract.operations.filter((operation) => hasPlainParameters(contract.document, operation)));
  const queryNames = new Map(contract.operations.map((operation) => [operation, plainQueryNames(contract.document, operation)]));
  const known = new Map<ContractOperation, Omit<OpenApiMetadata, 'pathParams'>>();
  const explain = bodyExplainer(contract.document);
  const bodySchemas = new Map(contract.operations.map((operation) => [operation, jsonBodySchema(contract.document, operation.path, operation.method)]));

  return (req, res, next) => {
    const operation = contextOf(res).operation;
    const remembered = operation ? known.get(operation) : undefined;
    const pathParams = remembered && operation ? decodedParameters(operation, req) : null;
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) {
        const schema = operation && req.is('application/json') ? (bodySchemas.get(operation) ?? null) : null;
        return next(withEveryBodyProblem(error, explain, schema, req.body));
      }
      if (index === steps.length) {
        // First request of this operation: remember what the validator matched, if it is this operation.
        const found = (req as Request & { openapi?: OpenApiMetadata }).openapi;
        if (operation && !remembered && found?.openApiRoute === operation.path && found.schema) {
          const { pathParams: _ignored, ...rest } = found;
          known.set(operation, rest);
        }
        return next();
      }
      const current = index++;
      if (current === metadataStep && remembered && pathParams) {
        const request = req as Request & { openapi?: OpenApiMetadata };
        request.openapi = { ...remembered, pathParams };
        req.params = pathParams;
        return step();
      }
      if (current === requestStep && remembered && pathParams && operation) {
        const shortcut = shortcuts.get(operation);
        if (shortcut?.accepts(req, pathParams)) {
          shortcut.apply(req);
          return step();
        }
        if (takesBodies.has(operation) && (hasBody(req.headers) || req.originalUrl.includes('?')) && bodyCheck.accepts(req, pathParams, remembered.expressRoute, queryNames.get(operation) ?? null)) {
          return step();
        }
      }
      try {
        // A step that returns a promise and rejects it is answered like one that throws (never left unhandled).
        const returned = steps[current]!(req, res, step) as unknown;
        if (returned instanceof Promise) returned.then(undefined, (reason: unknown) => next(reason ?? new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}

function hasExpectedInternals(validator: unknown): validator is ValidatorInternals {
  const internals = validator as Partial<Record<keyof ValidatorInternals, { getSchema?: unknown } | null>>;
  return (
    typeof internals.middlewareCache === 'object' &&
    internals.middlewareCache !== null &&
    typeof internals.ajv?.getSchema === 'function' &&
    typeof internals.ajvBody?.getSchema === 'function'
  );
}

/**
 * The path parameters as the validator's metadata step computes them: matched on the raw
 * path of `originalUrl`, each passed through decodeURIComponent. Null when the path does
 * not match or a parameter does not decode: then the validator's own step runs, and its
 * answer (400 malformed URI, 404) is the one given.
 */
function decodedParameters(operation: ContractOperation, req: Request): Record<string, string> | null {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  const match = operation.pathPattern.exec(query === -1 ? url : url.slice(0, query));
  if (!match) return null;
  const params: Record<string, string> = {};
  try {
    operation.pathParameters.forEach((name, i) => {
      params[name] = decodeURIComponent(match[i + 1]!);
    });
  } catch {
    return null;
  }
  return params;
}

/**
 * A copy of the document for a validator that checks requests only: without the
 * operations' responses, and without the components that only responses used. At
 * start-up the validator walks and prepares every response schema and every component
 * schema (about a fifth of the server's start-up time) for a check that is off here.
 * OpenAPI 3.1 makes `responses` optional and the validator skips operations without.
 */
export function requestsOnlyDocument(contract: Contract): Record<string, unknown> {
  const copy = structuredClone(contract.document) as { paths: Record<string, Record<string, { responses?: unknown }>>; components?: Record<string, Record<string, unknown>> };
  for (const operation of contract.operations) delete copy.paths[operation.path]![operation.method]!.responses;
  // Components reachable from the paths (`type/name`, decoded), following $refs through components.
  const reachable = new Set<string>();
  const pending: unknown[] = [copy.paths];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      const target = key === '$ref' && typeof value === 'string' ? componentRef(value) : null;
      if (!target) {
        pending.push(value);
        continue;
      }
      const { type, name } = target;
      if (reachable.has(`${type}/${name}`)) continue;
      reachable.add(`${type}/${name}`);
      pending.push(copy.components?.[type]?.[name]);
    }
  }
  for (const type of PRUNED_COMPONENTS) {
    const entries = copy.components?.[type] ?? {};
    for (const name of Object.keys(entries)) if (!reachable.has(`${type}/${name}`)) delete entries[name];
  }
  return copy;
}

// securitySchemes stay whole: the validator reads them by name from operations' security.
const PRUNED_COMPONENTS = ['schemas', 'responses', 'parameters', 'requestBodies', 'headers', 'examples'];
