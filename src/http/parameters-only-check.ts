// The validator's verdict on a request that carries nothing but path parameters, for
// the operations where that verdict can be read off the contract without running it.
//
// express-openapi-validator validates a request as one object {query, headers, params,
// cookies, body} with Ajv, after a generic pass that parses the query string, rewrites
// `req.query`, builds a parameter mutator and a data object, on every request: about a
// fifth of a GET's time here (docs/performance.md). For an operation whose parameters
// are only path parameters with plain string schemas (type, pattern, lengths, enum) and
// optional scalar query parameters, with no request body and no header or cookie
// parameters, a request without a query string and without a body passes the validator
// exactly when each path parameter passes its schema; and what the validator leaves on
// the request is then the path parameters in `req.params` and the query parameters'
// defaults in `req.query`. This module builds that check, once per operation, and
// declines (null) for every operation it cannot judge this way. A request that fails the
// check, or has a query string or a body, goes through the validator as before, so its
// refusals are always the validator's own.
import type { Request } from 'express';
import { componentRef, type ContractOperation } from '../contract/operations.ts';
import { hasBody } from './body-parsers.ts';

type Node = Record<string, unknown>;

export interface ParametersOnlyCheck {
  /** True when the validator would accept the request as it is; then `apply` leaves on it what the validator would. */
  accepts(req: Request, pathParams: Record<string, string>): boolean;
  apply(req: Request): void;
}

// Keywords whose meaning on a string is the whole check below; annotations change nothing.
const PLAIN_STRING_KEYWORDS = new Set(['type', 'pattern', 'minLength', 'maxLength', 'enum', 'description', 'title', 'example', 'examples']);
const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);
const ANNOTATIONS = new Set(['description', 'summary']);

export function parametersOnlyCheck(document: Node, operation: ContractOperation): ParametersOnlyCheck | null {
  const parameters = plainParameters(document, operation, { headers: false });
  if (!parameters || parameters.withBody) return null;
  const { tests, defaultEntries } = parameters;
  return {
    accepts(req, pathParams) {
      if (req.originalUrl.includes('?') || hasBody(req.headers)) return false;
      return tests.every(([name, test]) => {
        const value = pathParams[name];
        return value !== undefined && test(value);
      });
    },
    apply(req) {
      // As the validator leaves it (express 5's req.query is a getter; the validator makes it a value).
      const query = req.query as Record<string, unknown>;
      for (const [name, value] of defaultEntries) if (query[name] === undefined) query[name] = value;
      Object.defineProperty(req, 'query', { writable: true, value: query });
    },
  };
}

/**
 * True when the validator's parameter mutator has nothing to parse or coerce in a request
 * of the operation that has no query string: its parameters are plain-string path and
 * header parameters and optional scalar query parameters only (a request body is allowed).
 * The validator's compiled functions still judge every one of them: see body-check.ts.
 */
export function hasPlainParameters(document: Node, operation: ContractOperation): boolean {
  return plainParameters(document, operation, { headers: true }) !== null;
}

/**
 * For an operation with plain parameters (hasPlainParameters), the names of its query
 * parameters when none declares how it is serialised (style, explode, allowReserved,
 * allowEmptyValue): then, on a query string of distinct `name=value` pairs of those names
 * whose raw text holds no reserved character, the validator's parameter mutator leaves
 * Express's `req.query` as it is and refuses nothing (see body-check.ts). Null otherwise.
 */
export function plainQueryNames(document: Node, operation: ContractOperation): ReadonlySet<string> | null {
  const parameters = plainParameters(document, operation, { headers: true });
  return parameters?.plainQuery ? new Set(parameters.queryNames) : null;
}

interface PlainParameters {
  /** The check of each path parameter's value, by name. */
  tests: [string, (value: string) => boolean][];
  /** The defaults of query parameters, as the validator fills them. */
  defaultEntries: [string, unknown][];
  withBody: boolean;
  queryNames: string[];
  /** No query parameter declares its serialisation (style, explode, allowReserved, allowEmptyValue). */
  plainQuery: boolean;
}

const SERIALISATION_KEYWORDS = ['style', 'explode', 'allowReserved', 'allowEmptyValue'];

/** `headers`: whether plain-string header parameters are allowed (their values are then not checked here). */
function plainParameters(document: Node, operation: ContractOperation, options: { headers: boolean }): PlainParameters | null {
  const pathItem = (document.paths as Record<string, Node>)[operation.path];
  const raw = pathItem?.[operation.method] as Node | undefined;
  if (!pathItem || !raw) return null;
  if (Object.keys(raw).some((key) => key.startsWith('x-eov'))) return null;
  // Path-item parameters, overridden by the operation's own of the same name and place.
  const byPlace = new Map<string, Node>();
  for (const list of [pathItem.parameters, raw.parameters]) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) return null;
    for (const entry of list) {
      const parameter = resolve(document, entry);
      if (!parameter || typeof parameter.name !== 'string' || typeof parameter.in !== 'string') return null;
      byPlace.set(`${parameter.in}:${parameter.name}`, parameter);
    }
  }
  const pathTests = new Map<string, (value: string) => boolean>();
  const defaults: Record<string, unknown> = {};
  const queryNames: string[] = [];
  let plainQuery = true;
  for (const parameter of byPlace.values()) {
    if (parameter.content !== undefined) return null;
    const schema = parameter.schema as Node | undefined;
    if (parameter.in === 'path') {
      const test = plainStringTest(resolve(document, schema));
      if (!test) return null;
      pathTests.set(parameter.name as string, test);
    } else if (parameter.in === 'query') {
      if (parameter.required === true || !schema) return null;
      const direct = schema.$ref === undefined;
      const resolved = resolve(document, schema);
      if (!resolved || !SCALAR_TYPES.has(resolved.type as string)) return null;
      queryNames.push(parameter.name as string);
      if (SERIALISATION_KEYWORDS.some((keyword) => parameter[keyword] !== undefined)) plainQuery = false;
      if (resolved.default !== undefined) {
        // Ajv fills a default written on the parameter's schema; one behind a $ref is not judged here.
        if (!direct || (typeof resolved.default === 'object' && resolved.default !== null)) return null;
        defaults[parameter.name as string] = resolved.default;
      }
    } else if (parameter.in === 'header' && options.headers) {
      // The mutator parses only header parameters with a style, explode or content (content is refused above).
      if (parameter.style !== undefined || parameter.explode !== undefined || !plainStringTest(resolve(document, schema))) return null;
    } else {
      return null;
    }
  }
  // Every path parameter of the template must be declared, and no other.
  if (pathTests.size !== operation.pathParameters.length || !operation.pathParameters.every((name) => pathTests.has(name))) return null;
  return { tests: [...pathTests], defaultEntries: Object.entries(defaults), withBody: raw.requestBody !== undefined, queryNames, plainQuery };
}

/** Follows `$ref`s within the document's components; null when a reference goes elsewhere or carries other keywords. */
function resolve(document: Node, node: unknown): Node | null {
  let current = node;
  for (let hops = 0; hops < 8; hops++) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return null;
    const ref = (current as Node).$ref;
    if (ref === undefined) return current as Node;
    const target = typeof ref === 'string' ? componentRef(ref) : null;
    if (!target || Object.keys(current).some((key) => key !== '$ref' && !ANNOTATIONS.has(key))) return null;
    current = ((document.components as Record<string, Node> | undefined)?.[target.type] as Node | undefined)?.[target.name];
  }
  return null;
}

/** Ajv's check of a string against a schema made only of type string, pattern, minLength, maxLength and enum; null for any other schema. */
function plainStringTest(schema: Node | null): ((value: string) => boolean) | null {
  if (!schema || schema.type !== 'string') return null;
  if (Object.keys(schema).some((key) => !PLAIN_STRING_KEYWORDS.has(key))) return null;
  const { pattern, minLength = 0, maxLength = Number.POSITIVE_INFINITY } = schema;
  if ((pattern !== undefined && typeof pattern !== 'string') || typeof minLength !== 'number' || typeof maxLength !== 'number') return null;
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) return null;
  // Ajv compiles patterns with the u flag (unicodeRegExp) and counts length in code points (ucs2length).
  const regex = pattern === undefined ? null : new RegExp(pattern, 'u');
  const allowed = schema.enum as unknown[] | undefined;
  return (value) => {
    const length = [...value].length;
    return length >= minLength && length <= maxLength && (regex === null || regex.test(value)) && (allowed === undefined || allowed.includes(value));
  };
}
