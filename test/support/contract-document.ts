// The bundled contract (generated/openapi.json by default) as tests need it:
// its operations with their effective security, internal `$ref`s resolved, and
// validation of response bodies and headers against what an operation documents.
//
// Validation uses Ajv's JSON Schema 2020-12 dialect (OpenAPI 3.1's) with the whole
// document registered once, so every `#/components/...` reference resolves.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** generated/openapi.json, or the file named by the CONTRACT_DOCUMENT environment variable. */
export function contractDocumentPath(): string {
  const override = process.env.CONTRACT_DOCUMENT;
  return override ? path.resolve(override) : path.join(repoRoot, 'generated', 'openapi.json');
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** `{ SchemeName: [scopes] }`; an empty object means "no credential needed". */
export type SecurityRequirement = Record<string, string[]>;

export interface SchemaLocation {
  /** JSON pointer of the schema in the document, e.g. `/components/schemas/Error`. */
  pointer: string;
  schema: Record<string, unknown>;
}

export interface HeaderObject {
  description?: string;
  required?: boolean;
  schema?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface MediaTypeObject {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ResponseObject {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, MediaTypeObject>;
  [key: string]: unknown;
}

export interface ContractOperation {
  operationId: string;
  method: HttpMethod;
  /** The path template as written in the contract, e.g. `/v1/workflows/{workflow_id}`. */
  path: string;
  tags: string[];
  /** The operation's own `security`, else the document's; `[]` when neither says anything. */
  security: SecurityRequirement[];
  /** True when every alternative needs a credential (no empty requirement). */
  secured: boolean;
  /** Every scope named by any of the requirements, deduplicated. */
  scopes: string[];
  /** Status key (`200`, `4XX`, `default`) -> response, `$ref` resolved (nested `$ref`s are not). */
  responses: Record<string, ResponseObject>;
  /** JSON pointer of the operation object, for messages. */
  pointer: string;
}

export interface NamedExample {
  /** The response's status key as written: `200`, `401`, or a range such as `4XX`. */
  status: string;
  mediaType: string;
  /** The key under `examples` (for error responses: the error code). */
  name: string;
  summary?: string;
  /** The example's `value`, `$ref` resolved. */
  value: unknown;
}

interface ResolvedResponse {
  key: string;
  pointer: string;
  response: ResponseObject;
}

const documents = new Map<string, ContractDocument>();

/** The document at `file` (default: contractDocumentPath()), parsed and indexed once per process. */
export function loadContractDocument(file: string = contractDocumentPath()): ContractDocument {
  const absolute = path.resolve(file);
  let document = documents.get(absolute);
  if (!document) {
    document = new ContractDocument(absolute);
    documents.set(absolute, document);
  }
  return document;
}

/** `~` and `/` escaped (RFC 6901), then made safe inside a URI fragment for Ajv. */
function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Ajv error -> `body.data.name: must NOT have fewer than 1 characters`. */
function formatAjvError(subject: string, error: ErrorObject): string {
  const where =
    subject +
    error.instancePath
      .split('/')
      .slice(1)
      .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`))
      .join('');
  const params = error.params as Record<string, unknown>;
  let detail = '';
  if (error.keyword === 'additionalProperties') detail = `: '${String(params.additionalProperty)}'`;
  else if (error.keyword === 'unevaluatedProperties') detail = `: '${String(params.unevaluatedProperty)}'`;
  else if (error.keyword === 'enum') detail = `: ${JSON.stringify(params.allowedValues)}`;
  else if (error.keyword === 'const') detail = `: ${JSON.stringify(params.allowedValue)}`;
  // With `verbose`, Ajv hands over the offending value: show scalars, they say the most.
  const got =
    error.data === null || ['string', 'number', 'boolean'].includes(typeof error.data)
      ? ` (got ${describeValue(error.data)})`
      : '';
  return `${where} ${error.message ?? error.keyword}${detail}${got}`;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** Media type without parameters, lower case: `application/json; charset=utf-8` -> `application/json`. */
export function essenceOf(mediaType: string): string {
  return mediaType.split(';')[0]!.trim().toLowerCase();
}

/** `application/json`, `application/problem+json`, `application/jwk-set+json`... */
export function isJsonMediaType(mediaType: string): boolean {
  const essence = essenceOf(mediaType);
  return essence === 'application/json' || essence.endsWith('+json');
}

const DOCUMENT_ID = 'contract.json';

export class ContractDocument {
  readonly file: string;
  readonly raw: Record<string, unknown>;
  readonly #operations: ContractOperation[];
  readonly #byId = new Map<string, ContractOperation>();
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(file: string) {
    if (!existsSync(file)) {
      throw new Error(
        `The bundled contract ${file} does not exist: run \`npm run generate\`, or set CONTRACT_DOCUMENT to a bundled OpenAPI JSON file.`,
      );
    }
    this.file = file;
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!isObject(parsed) || typeof parsed.openapi !== 'string') {
      throw new Error(`${file} is not an OpenAPI document (no \`openapi\` field)`);
    }
    this.raw = parsed;

    // Strict mode off: the document carries OpenAPI keywords that are not JSON
    // Schema (example, discriminator, xml, externalDocs, x-*); Ajv ignores them.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true, validateSchema: false });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
    addFormats(this.#ajv);
    // The formats OpenAPI defines on top of JSON Schema's.
    this.#ajv.addFormat('int32', {
      type: 'number',
      validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
    });
    this.#ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.#ajv.addFormat('float', { type: 'number', validate: () => true });
    this.#ajv.addFormat('double', { type: 'number', validate: () => true });
    this.#ajv.addFormat('password', true);
    this.#ajv.addFormat('binary', true);
    this.#ajv.addSchema(this.raw, DOCUMENT_ID);

    this.#operations = this.#collectOperations();
    for (const operation of this.#operations) {
      if (this.#byId.has(operation.operationId)) {
        throw new Error(`${file}: operationId ${operation.operationId} is used twice`);
      }
      this.#byId.set(operation.operationId, operation);
    }
  }

  /** Every operation, in document order. */
  operations(): ContractOperation[] {
    return [...this.#operations];
  }

  hasOperation(operationId: string): boolean {
    return this.#byId.has(operationId);
  }

  /** The operation, or an error naming the known ones. */
  operation(operationId: string): ContractOperation {
    const operation = this.#byId.get(operationId);
    if (!operation) throw new Error(`The contract has no operation ${operationId}`);
    return operation;
  }

  /**
   * The operation a request reaches: method and URL path (without the base URL's
   * path), concrete paths winning over templated ones as OpenAPI specifies.
   */
  matchOperation(method: string, pathname: string): ContractOperation | undefined {
    const lower = method.toLowerCase();
    const candidates = this.#operations
      .filter((operation) => operation.method === lower)
      .filter((operation) => templateRegExp(operation.path).test(pathname))
      .sort((a, b) => templateCount(a.path) - templateCount(b.path));
    return candidates[0];
  }

  /** Follows internal `$ref`s (`#/...`), also chains of them; returns the value and where it is. */
  resolve<T = unknown>(value: unknown, pointer = ''): { value: T; pointer: string } {
    let current = value;
    let at = pointer;
    const seen = new Set<string>();
    while (isObject(current) && typeof current.$ref === 'string') {
      const ref = current.$ref;
      if (!ref.startsWith('#/')) {
        throw new Error(`${this.file}: external $ref ${ref} at ${at || '/'}; tests need the bundled document`);
      }
      if (seen.has(ref)) throw new Error(`${this.file}: $ref cycle through ${ref}`);
      seen.add(ref);
      at = ref.slice(1);
      current = this.at(at);
      if (current === undefined) throw new Error(`${this.file}: $ref ${ref} points at nothing`);
    }
    return { value: current as T, pointer: at };
  }

  /** The value at a JSON pointer (`/components/schemas/Error`), or undefined. */
  at(pointer: string): unknown {
    let current: unknown = this.raw;
    for (const part of pointer.split('/').slice(1)) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(current)) current = current[Number(key)];
      else if (isObject(current)) current = current[key];
      else return undefined;
    }
    return current;
  }

  /** `components.schemas[name]`, `$ref` resolved, or undefined. */
  componentSchema(name: string): Record<string, unknown> | undefined {
    const pointer = `/components/schemas/${pointerSegment(name)}`;
    const value = this.at(pointer);
    return value === undefined ? undefined : this.resolve<Record<string, unknown>>(value, pointer).value;
  }

  /** True when the operation documents this status, exactly, as a range (`4XX`) or by `default`. */
  isDocumentedStatus(operationId: string, status: number): boolean {
    return this.#responseFor(this.operation(operationId), status) !== undefined;
  }

  /** The response documented for this status (exact key, then range, then `default`), resolved. */
  response(operationId: string, status: number): ResponseObject | undefined {
    return this.#responseFor(this.operation(operationId), status)?.response;
  }

  /**
   * Checks a response body against what the operation documents for `status` and
   * the body's media type. `body` is the parsed JSON for JSON media types, the text
   * otherwise, and `undefined` (or '') for no body. Returns problems as sentences;
   * an empty array means valid.
   */
  validateBody(operationId: string, status: number, mediaType: string | null | undefined, body: unknown): string[] {
    const operation = this.operation(operationId);
    const found = this.#responseFor(operation, status);
    if (!found)
      return [
        `${operationId} does not document status ${status} (documented: ${Object.keys(operation.responses).join(', ')})`,
      ];
    const content = found.response.content;
    const empty = body === undefined || body === '';
    if (!content || Object.keys(content).length === 0) {
      return empty
        ? []
        : [`${operationId} ${status} declares no content, but the response has a body: ${describeValue(body)}`];
    }
    const declared = Object.keys(content);
    if (!mediaType) {
      return [
        `${operationId} ${status} declares ${declared.join(', ')}, but the response has no Content-Type${empty ? ' and no body' : ''}`,
      ];
    }
    const match = this.#mediaTypeFor(content, mediaType);
    if (!match) {
      return [
        `${operationId} ${status}: Content-Type ${mediaType} is not documented (documented: ${declared.join(', ')})`,
      ];
    }
    if (empty) return [`${operationId} ${status} declares ${match.key}, but the response body is empty`];
    const schema = match.media.schema;
    if (schema === undefined) return [];
    const pointer = `${found.pointer}/content/${pointerSegment(match.key)}/schema`;
    return this.#validate(pointer, body, 'body');
  }

  /**
   * Checks response headers against what the operation documents for `status`:
   * every header with `required: true` is present, and every declared header that is
   * present matches its schema (numbers and booleans arrive as strings and are
   * converted first). Returns problems as sentences.
   */
  validateHeaders(operationId: string, status: number, headers: Headers | Record<string, string>): string[] {
    const operation = this.operation(operationId);
    const found = this.#responseFor(operation, status);
    if (!found) return [`${operationId} does not document status ${status}`];
    const get = (name: string): string | null =>
      headers instanceof Headers
        ? headers.get(name)
        : (Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1] ?? null);
    const problems: string[] = [];
    for (const [name, declared] of Object.entries(found.response.headers ?? {})) {
      // OpenAPI: a Content-Type header definition is ignored.
      if (name.toLowerCase() === 'content-type') continue;
      const headerPointer = `${found.pointer}/headers/${pointerSegment(name)}`;
      const { value: header, pointer } = this.resolve<HeaderObject>(declared, headerPointer);
      const value = get(name);
      if (value === null) {
        if (header.required === true) problems.push(`missing required header ${name}`);
        continue;
      }
      if (header.schema === undefined) continue;
      const schemaPointer = `${pointer}/schema`;
      const schema = this.resolve<Record<string, unknown>>(header.schema, schemaPointer).value;
      problems.push(...this.#validate(schemaPointer, coerceHeader(value, schema), `header ${name}`));
    }
    return problems;
  }

  /** Every named example of every response of the operation, in document order. */
  namedExamples(operationId: string): NamedExample[] {
    const operation = this.operation(operationId);
    const examples: NamedExample[] = [];
    for (const [status, response] of Object.entries(operation.responses)) {
      for (const [mediaType, media] of Object.entries(response.content ?? {})) {
        for (const [name, exampleOrRef] of Object.entries(media.examples ?? {})) {
          const example = this.resolve<{ summary?: string; value?: unknown }>(exampleOrRef).value;
          examples.push({
            status,
            mediaType,
            name,
            ...(example.summary === undefined ? {} : { summary: example.summary }),
            value: example.value,
          });
        }
      }
    }
    return examples;
  }

  /** Validates any value against the schema at `pointer` (e.g. `/components/schemas/Error`). */
  validateAgainst(pointer: string, value: unknown, subject = 'value'): string[] {
    return this.#validate(pointer, value, subject);
  }

  #validate(pointer: string, value: unknown, subject: string): string[] {
    let validator = this.#validators.get(pointer);
    if (!validator) {
      const fragment = pointer
        .split('/')
        .slice(1)
        .map((part) => encodeURIComponent(part))
        .join('/');
      validator = this.#ajv.compile({ $ref: `${DOCUMENT_ID}#/${fragment}` });
      this.#validators.set(pointer, validator);
    }
    if (validator(value)) return [];
    return (validator.errors ?? []).slice(0, 20).map((error) => formatAjvError(subject, error));
  }

  #responseFor(operation: ContractOperation, status: number): ResolvedResponse | undefined {
    const keys = Object.keys(operation.responses);
    const range = `${Math.floor(status / 100)}XX`;
    const key =
      keys.find((candidate) => candidate === String(status)) ??
      keys.find((candidate) => candidate.toUpperCase() === range) ??
      keys.find((candidate) => candidate === 'default');
    if (key === undefined) return undefined;
    const raw = this.at(`${operation.pointer}/responses/${pointerSegment(key)}`);
    const { value, pointer } = this.resolve<ResponseObject>(
      raw,
      `${operation.pointer}/responses/${pointerSegment(key)}`,
    );
    return { key, pointer, response: value };
  }

  #mediaTypeFor(
    content: Record<string, MediaTypeObject>,
    mediaType: string,
  ): { key: string; media: MediaTypeObject } | undefined {
    const essence = essenceOf(mediaType);
    const [type] = essence.split('/');
    const entries = Object.entries(content);
    const found =
      entries.find(([key]) => essenceOf(key) === essence) ??
      entries.find(([key]) => essenceOf(key) === `${type}/*`) ??
      entries.find(([key]) => essenceOf(key) === '*/*');
    return found ? { key: found[0], media: found[1] } : undefined;
  }

  #collectOperations(): ContractOperation[] {
    const operations: ContractOperation[] = [];
    const paths = isObject(this.raw.paths) ? this.raw.paths : {};
    const rootSecurity = Array.isArray(this.raw.security) ? (this.raw.security as SecurityRequirement[]) : [];
    for (const [template, pathItemOrRef] of Object.entries(paths)) {
      const { value: pathItem, pointer: pathPointer } = this.resolve<Record<string, unknown>>(
        pathItemOrRef,
        `/paths/${pointerSegment(template)}`,
      );
      for (const method of HTTP_METHODS) {
        const operation = pathItem[method];
        if (!isObject(operation)) continue;
        const pointer = `${pathPointer}/${method}`;
        if (typeof operation.operationId !== 'string') {
          throw new Error(`${this.file}: ${method.toUpperCase()} ${template} has no operationId`);
        }
        const security = Array.isArray(operation.security)
          ? (operation.security as SecurityRequirement[])
          : rootSecurity;
        const responses: Record<string, ResponseObject> = {};
        for (const [status, responseOrRef] of Object.entries(
          isObject(operation.responses) ? operation.responses : {},
        )) {
          responses[status] = this.resolve<ResponseObject>(responseOrRef).value;
        }
        operations.push({
          operationId: operation.operationId,
          method,
          path: template,
          tags: Array.isArray(operation.tags) ? (operation.tags as string[]) : [],
          security,
          secured: security.length > 0 && security.every((requirement) => Object.keys(requirement).length > 0),
          scopes: [...new Set(security.flatMap((requirement) => Object.values(requirement).flat()))],
          responses,
          pointer,
        });
      }
    }
    return operations;
  }
}

function templateRegExp(template: string): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

function templateCount(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

/** Header values are strings on the wire; convert them when the schema wants a number or boolean. */
function coerceHeader(value: string, schema: Record<string, unknown>): unknown {
  const types = ([] as unknown[]).concat(schema.type ?? []);
  if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.trim())) {
    return Number(value.trim());
  }
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}
