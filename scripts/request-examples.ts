// The contract's request examples as HTTP requests: for each operation, one request
// per request-body example (or one when it takes no body), with every parameter's
// example (path, query and header), exactly as documented. The docs' code samples
// are written from them (scripts/code-samples.ts), and tests send them to the server
// (every example is real) and to the mock (`Prefer: dynamic=true`).
import { resolveRef } from '../src/contract/resolve.ts';

type Json = Record<string, unknown>;
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'options';
const METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch', 'options'];

export interface ExampleRequest {
  operationId: string;
  method: HttpMethod;
  /** The path template, e.g. `/v1/workflows/{workflow_id}`. */
  template: string;
  /** The example's name (`order_confirmation`), or `request` when the operation takes no body. */
  name: string;
  /** Path parameters, by name. */
  path: Record<string, string>;
  /** Query parameters, in the contract's order, with their example values as written (numbers stay numbers). */
  query: Array<[string, unknown]>;
  /** Header parameters (not credentials), by name as the contract writes it. */
  headers: Record<string, string>;
  /** The media type, the body as the example gives it (an object for form bodies too), and its schema's component name. */
  body?: { mediaType: string; value: unknown; schema?: string };
  /** The operation's first tag. */
  tag: string;
  /** Whether the operation needs a credential. */
  secured: boolean;
}

interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
  schema?: { example?: unknown; $ref?: string };
}

interface RawOperation {
  operationId?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Json[];
  requestBody?: Json;
}

/** Every operation's example requests, in the document's order. */
export function exampleRequests(document: Json): ExampleRequest[] {
  const requests: ExampleRequest[] = [];
  const resolve = <T>(node: unknown): T => resolveRef(document, node as Json) as T;
  const topSecurity = (document.security ?? []) as Array<Record<string, string[]>>;
  for (const [template, item] of Object.entries(
    (document.paths ?? {}) as Record<string, Record<string, RawOperation>>,
  )) {
    for (const method of METHODS) {
      const raw = item[method];
      if (!raw?.operationId) continue;
      const security = raw.security ?? topSecurity;
      const operation = {
        operationId: raw.operationId,
        method,
        path: template,
        secured: security.length > 0 && security.every((requirement) => Object.keys(requirement).length > 0),
      };
      const parameters = (raw.parameters ?? []).map((parameter) => resolve<ParameterObject>(parameter));
      const path: Record<string, string> = {};
      const query: Array<[string, unknown]> = [];
      const headers: Record<string, string> = {};
      for (const parameter of parameters) {
        const value = parameterExample(resolve, parameter);
        if (value === undefined) {
          if (parameter.required)
            throw new Error(`${operation.operationId}: required parameter ${parameter.name} has no example`);
          continue;
        }
        if (parameter.in === 'path') path[parameter.name] = `${value as string | number | boolean}`;
        else if (parameter.in === 'query') query.push([parameter.name, value]);
        else if (parameter.in === 'header') headers[parameter.name] = `${value as string | number | boolean}`;
      }
      const base = {
        operationId: operation.operationId,
        method: operation.method,
        template: operation.path,
        tag: raw.tags?.[0] ?? '',
        path,
        query,
        headers,
        secured: operation.secured,
      };
      const requestBody = raw.requestBody
        ? resolve<{
            content?: Record<
              string,
              { examples?: Record<string, unknown>; example?: unknown; schema?: { $ref?: string } }
            >;
          }>(raw.requestBody)
        : undefined;
      if (!requestBody?.content) {
        requests.push({ ...base, name: 'request' });
        continue;
      }
      for (const [mediaType, content] of Object.entries(requestBody.content)) {
        const examples = Object.entries(content.examples ?? {}).map(
          ([name, example]) => [name, resolve<{ value?: unknown }>(example).value] as const,
        );
        if (examples.length === 0 && content.example !== undefined) examples.push(['example', content.example]);
        const schema = content.schema?.$ref?.split('/').pop();
        for (const [name, value] of examples) {
          requests.push({
            ...base,
            name: `${name}${Object.keys(requestBody.content).length > 1 ? ` (${mediaType})` : ''}`,
            body: { mediaType, value, ...(schema ? { schema } : {}) },
          });
        }
      }
    }
  }
  return requests;
}

function parameterExample(resolve: <T>(node: unknown) => T, parameter: ParameterObject): unknown {
  if (parameter.example !== undefined) return parameter.example;
  const named = Object.values(parameter.examples ?? {})[0];
  if (named) return resolve<{ value?: unknown }>(named).value;
  return parameter.schema ? resolve<{ example?: unknown }>(parameter.schema).example : undefined;
}

/** The request's URL path and query, e.g. `/v1/workflows/wf_...?limit=20`. */
export function examplePath(
  request: Pick<ExampleRequest, 'template' | 'path' | 'query'>,
  substitute: (value: string) => string = (value) => value,
): string {
  const pathname = request.template.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(substitute(request.path[name] ?? '')),
  );
  const query = new URLSearchParams(
    request.query.map(([name, value]): [string, string] => [name, substitute(String(value))]),
  ).toString();
  return query ? `${pathname}?${query}` : pathname;
}

/** The body as sent over the wire: JSON, or form-encoded for form media types. */
export function exampleBody(
  request: ExampleRequest,
  substitute: (value: string) => string = (value) => value,
): string | undefined {
  if (!request.body) return undefined;
  const value = substituteDeep(request.body.value, substitute);
  if (request.body.mediaType === 'application/x-www-form-urlencoded') {
    return new URLSearchParams(
      Object.entries(value as Record<string, unknown>).map(([name, field]): [string, string] => [name, String(field)]),
    ).toString();
  }
  return JSON.stringify(value);
}

export function substituteDeep(value: unknown, substitute: (value: string) => string): unknown {
  if (typeof value === 'string') return substitute(value);
  if (Array.isArray(value)) return value.map((item) => substituteDeep(item, substitute));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteDeep(item, substitute)]));
  return value;
}
