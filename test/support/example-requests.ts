// The contract's request examples as HTTP requests: for each operation, one request
// per request-body example (or one when it takes no body), with every parameter's
// example (path, query and header), exactly as documented. Tests send them to the
// server (every example is real), to the mock (`Prefer: dynamic=true`), and the docs'
// code samples are written from them.
import { loadContractDocument, type ContractDocument, type HttpMethod } from './contract-document.ts';

export interface ExampleRequest {
  operationId: string;
  method: HttpMethod;
  /** The path template, e.g. `/v1/workflows/{workflow_id}`. */
  template: string;
  /** The example's name (`order_confirmation`), or `request` when the operation takes no body. */
  name: string;
  /** Path parameters, by name. */
  path: Record<string, string>;
  /** Query parameters, in the contract's order. */
  query: Array<[string, string]>;
  /** Header parameters (not credentials), by name as the contract writes it. */
  headers: Record<string, string>;
  /** The media type and the body as the example gives it (an object for form bodies too). */
  body?: { mediaType: string; value: unknown };
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

export function exampleRequests(contract: ContractDocument = loadContractDocument()): ExampleRequest[] {
  const requests: ExampleRequest[] = [];
  const document = contract.raw as { paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown }>> };
  for (const operation of contract.operations()) {
    const raw = document.paths[operation.path]?.[operation.method] ?? {};
    const parameters = (raw.parameters ?? []).map((parameter) => contract.resolve<ParameterObject>(parameter).value);
    const path: Record<string, string> = {};
    const query: Array<[string, string]> = [];
    const headers: Record<string, string> = {};
    for (const parameter of parameters) {
      const value = parameterExample(contract, parameter);
      if (value === undefined) {
        if (parameter.required) throw new Error(`${operation.operationId}: required parameter ${parameter.name} has no example`);
        continue;
      }
      if (parameter.in === 'path') path[parameter.name] = String(value);
      else if (parameter.in === 'query') query.push([parameter.name, String(value)]);
      else if (parameter.in === 'header') headers[parameter.name] = String(value);
    }
    const base = { operationId: operation.operationId, method: operation.method, template: operation.path, path, query, headers, secured: operation.secured };
    const requestBody = raw.requestBody ? contract.resolve<{ content?: Record<string, { examples?: Record<string, unknown>; example?: unknown }> }>(raw.requestBody).value : undefined;
    if (!requestBody?.content) {
      requests.push({ ...base, name: 'request' });
      continue;
    }
    for (const [mediaType, content] of Object.entries(requestBody.content)) {
      const examples = Object.entries(content.examples ?? {}).map(([name, example]) => [name, contract.resolve<{ value?: unknown }>(example).value.value] as const);
      if (examples.length === 0 && content.example !== undefined) examples.push(['example', content.example]);
      for (const [name, value] of examples) requests.push({ ...base, name: `${name}${Object.keys(requestBody.content).length > 1 ? ` (${mediaType})` : ''}`, body: { mediaType, value } });
    }
  }
  return requests;
}

function parameterExample(contract: ContractDocument, parameter: ParameterObject): unknown {
  if (parameter.example !== undefined) return parameter.example;
  const named = Object.values(parameter.examples ?? {})[0];
  if (named) return contract.resolve<{ value?: unknown }>(named).value.value;
  const schema = parameter.schema ? contract.resolve<{ example?: unknown }>(parameter.schema).value : undefined;
  return schema?.example;
}

/** The request's URL path and query, e.g. `/v1/workflows/wf_...?limit=20`. */
export function examplePath(request: Pick<ExampleRequest, 'template' | 'path' | 'query'>, substitute: (value: string) => string = (value) => value): string {
  const pathname = request.template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(substitute(request.path[name] ?? '')));
  const query = new URLSearchParams(request.query.map(([name, value]): [string, string] => [name, substitute(value)])).toString();
  return query ? `${pathname}?${query}` : pathname;
}

/** The body as sent over the wire: JSON, or form-encoded for form media types. */
export function exampleBody(request: ExampleRequest, substitute: (value: string) => string = (value) => value): string | undefined {
  if (!request.body) return undefined;
  const value = substituteDeep(request.body.value, substitute);
  if (request.body.mediaType === 'application/x-www-form-urlencoded') {
    return new URLSearchParams(Object.entries(value as Record<string, unknown>).map(([name, field]): [string, string] => [name, String(field)])).toString();
  }
  return JSON.stringify(value);
}

export function substituteDeep(value: unknown, substitute: (value: string) => string): unknown {
  if (typeof value === 'string') return substitute(value);
  if (Array.isArray(value)) return value.map((item) => substituteDeep(item, substitute));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteDeep(item, substitute)]));
  return value;
}
