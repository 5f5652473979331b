// Contract validation of every request (and, when configured, of every response) by
// express-openapi-validator, through its public API only: the middleware it returns
// is run as it is, step after step. (Earlier versions replaced some of its steps by
// checks of our own that reached into its private modules to save time; the measured
// gain was inside the benchmark's noise, and the next release could break them
// silently. docs/performance.md keeps the figures.)
//
// Three things are ours around it: each path of the contract has a validator of its own
// (below), whose document leaves out the responses when responses are not validated (a
// validator prepares every schema it is given); and a refused body is explained in full
// (every problem with its place, src/http/validation-problems.ts) instead of the
// validator's first one.
import type { RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { componentRef, type Contract } from '../contract/operations.ts';
import { pipeline } from './pipeline.ts';
import { contextOf } from './request-context.ts';
import { bodyExplainer, jsonBodySchema, withEveryBodyProblem, type BodyExplainer } from './validation-problems.ts';

export function contractValidation(contract: Contract, options: { validateResponses: boolean }): RequestHandler {
  // One validator per path of the contract, each given a document of that path alone and
  // made at the path's first request. A validator finds a request's route by compiling the
  // path-to-regexp of every route of its document, on every request, until one matches
  // (28 for a GET by id on the whole contract); with a document of one path it compiles
  // one. The operation is already known here (operation-match.ts runs first), and its
  // path's validator judges the request as the whole contract's would. Made at first use,
  // the validators cost nothing at start-up, and the paths never called are never prepared.
  const validators = new Map<string, RequestHandler>();
  const validatorFor = (template: string): RequestHandler => {
    let validator = validators.get(template);
    if (!validator) {
      const steps = OpenApiValidator.middleware({
        apiSpec: pathDocument(contract, template, { withResponses: options.validateResponses }) as never,
        validateApiSpec: false,
        // Parameters are always coerced from their string form; bodies never are (a number is not a string).
        validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
        validateResponses: options.validateResponses ? { removeAdditional: false } : false,
        // Authentication and scopes are ours (src/http/authenticate.ts, authorize.ts).
        validateSecurity: false,
        // No operation takes multipart bodies: no multipart step.
        fileUploader: false,
        ignoreUndocumented: false,
      }) as RequestHandler[];
      // Its steps run as the request pipeline runs its stages (a rejected promise ends it too).
      validator = pipeline(steps);
      validators.set(template, validator);
    }
    return validator;
  };
  // Made at the first refused body: it prepares every component schema of the contract.
  let explainer: BodyExplainer | null = null;
  const explain: BodyExplainer = (schema, body) => (explainer ??= bodyExplainer(contract.document))(schema, body);
  const bodySchemas = new Map(
    contract.operations.map((operation) => [
      operation,
      jsonBodySchema(contract.document, operation.path, operation.method),
    ]),
  );

  return (req, res, next) => {
    const operation = contextOf(res).operation;
    // operation-match.ts runs first and answers every request it cannot match.
    if (!operation) return next(new Error('contract validation reached without a matched operation'));
    validatorFor(operation.path)(req, res, (error?: unknown) => {
      if (error === undefined || error === null) return next();
      const schema = req.is('application/json') ? (bodySchemas.get(operation) ?? null) : null;
      next(withEveryBodyProblem(error, explain, schema, req.body));
    });
  };
}

/**
 * A copy of the document for the validator of one path: that path alone (without its
 * operations' responses unless responses are validated), and only the components it
 * reaches. A validator walks and prepares every schema it is given, at its first request.
 * OpenAPI 3.1 makes `responses` optional and the validator skips operations without.
 */
export function pathDocument(
  contract: Contract,
  template: string,
  options: { withResponses: boolean },
): Record<string, unknown> {
  const {
    paths,
    components = {},
    ...rest
  } = contract.document as {
    paths: Record<string, Record<string, unknown>>;
    components?: Record<string, Record<string, unknown>>;
  };
  const item = { ...paths[template] };
  if (!options.withResponses) {
    for (const operation of contract.operations) {
      if (operation.path !== template) continue;
      const { responses: _responses, ...withoutResponses } = item[operation.method] as Record<string, unknown>;
      item[operation.method] = withoutResponses;
    }
  }
  // Components reachable from the path (`type/name`, decoded), following $refs through components.
  const kept: Record<string, Record<string, unknown>> = { securitySchemes: { ...components.securitySchemes } };
  const pending: unknown[] = [item];
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
      if (kept[type] && Object.hasOwn(kept[type], name)) continue;
      (kept[type] ??= {})[name] = components[type]?.[name];
      pending.push(components[type]?.[name]);
    }
  }
  // The validator rewrites the document it is given: it gets its own copy.
  return structuredClone({ ...rest, paths: { [template]: item }, components: kept });
}
