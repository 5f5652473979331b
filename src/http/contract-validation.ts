// Contract validation of every request (and, when configured, of every response) by
// express-openapi-validator, through its public API only: the middleware it returns
// is run as it is, step after step. (Earlier versions replaced some of its steps by
// checks of our own that reached into its private modules to save time; the measured
// gain was inside the benchmark's noise, and the next release could break them
// silently. docs/performance.md keeps the figures.)
//
// Two things are ours around it: the validator gets a copy of the contract without the
// responses when responses are not validated (its start-up prepares every schema it
// is given), and a refused body is explained in full (every problem with its place,
// src/http/validation-problems.ts) instead of the validator's first one.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { componentRef, type Contract } from '../contract/operations.ts';
import { contextOf } from './request-context.ts';
import { bodyExplainer, jsonBodySchema, withEveryBodyProblem } from './validation-problems.ts';

type Step = (req: Request, res: Response, next: NextFunction) => unknown;

export function contractValidation(contract: Contract, options: { validateResponses: boolean }): RequestHandler {
  const steps = OpenApiValidator.middleware({
    // The validator rewrites the document it is given; it gets its own copy.
    apiSpec: (options.validateResponses ? structuredClone(contract.document) : requestsOnlyDocument(contract)) as never,
    validateApiSpec: false,
    // Parameters are always coerced from their string form; bodies never are (a number is not a string).
    validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
    validateResponses: options.validateResponses ? { removeAdditional: false } : false,
    // Authentication and scopes are ours (src/http/authenticate.ts, authorize.ts).
    validateSecurity: false,
    // No operation takes multipart bodies: no multipart step.
    fileUploader: false,
    ignoreUndocumented: false,
  }) as unknown as Step[];
  const explain = bodyExplainer(contract.document);
  const bodySchemas = new Map(
    contract.operations.map((operation) => [
      operation,
      jsonBodySchema(contract.document, operation.path, operation.method),
    ]),
  );

  return (req, res, next) => {
    const operation = contextOf(res).operation;
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) {
        const schema = operation && req.is('application/json') ? (bodySchemas.get(operation) ?? null) : null;
        return next(withEveryBodyProblem(error, explain, schema, req.body));
      }
      if (index === steps.length) return next();
      const current = steps[index++]!;
      try {
        // A step that returns a promise and rejects it is answered like one that throws (never left unhandled).
        const returned = current(req, res, step);
        if (returned instanceof Promise)
          returned.then(undefined, (reason: unknown) => step(reason ?? new Error('Rejected promise')));
      } catch (thrown) {
        step(thrown);
      }
    };
    step();
  };
}

/**
 * A copy of the document for a validator that checks requests only: without the
 * operations' responses, and without the components that only responses used. At
 * start-up the validator walks and prepares every response schema and every component
 * schema (about a fifth of the server's start-up time) for a check that is off here.
 * OpenAPI 3.1 makes `responses` optional and the validator skips operations without.
 */
export function requestsOnlyDocument(contract: Contract): Record<string, unknown> {
  const copy = structuredClone(contract.document) as {
    paths: Record<string, Record<string, { responses?: unknown }>>;
    components?: Record<string, Record<string, unknown>>;
  };
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
