// The bundled contract as the server needs it: every operation with its method,
// path, security requirement and traits, and a matcher from a request to its
// operation. The server derives its routes, its scope checks, its rate-limit
// categories and its idempotency handling from here, never from hand-kept lists.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { operations } from '../../generated/api.d.ts';

export type OperationId = keyof operations;
export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'options';
export type RateLimitCategory = 'read' | 'write' | 'execute' | 'events';

/**
 * generated/openapi.json of the project this module runs from: found by walking up
 * from the module's folder, which is src/contract/ when run from source and dist/
 * when run from the bundle (`npm run build`).
 */
export const CONTRACT_FILE = findUp(
  path.dirname(fileURLToPath(import.meta.url)),
  path.join('generated', 'openapi.json'),
);

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(from, '..', '..', relative);
  }
}

// `options` is a CORS preflight the contract declares (src/http/cors.ts), not a method every path takes.
const METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch', 'options'];

export interface ContractOperation {
  operationId: OperationId;
  method: HttpMethod;
  /** As written in the contract: `/v1/workflows/{workflow_id}`. */
  path: string;
  /** Express 5 syntax: `/v1/workflows/:workflow_id`. */
  expressPath: string;
  /** Matches a request path of this template, capturing each path parameter (undecoded), in order. */
  pathPattern: RegExp;
  /** The names of the path parameters, in the order `pathPattern` captures them. */
  pathParameters: string[];
  /**
   * Alternatives, each `{scheme: scopes}`. Empty for public operations. Every
   * alternative of our contract lists the same scopes under every scheme.
   */
  security: Array<Record<string, string[]>>;
  /** The schemes that may authenticate it (ApiKeyHeader, BearerAuth, OAuth2). */
  schemes: string[];
  isPublic: boolean;
  /** Rate-limited operations are the ones that document a 429. */
  rateLimited: boolean;
  /** Takes an `Idempotency-Key` header. */
  idempotent: boolean;
  category: RateLimitCategory;
}

export interface Contract {
  document: Record<string, unknown>;
  operations: ContractOperation[];
  byId: ReadonlyMap<string, ContractOperation>;
  /** The operation serving `method path`, or why none does. */
  match(method: string, pathname: string): { operation: ContractOperation } | { allowed: string[] } | null;
}

interface RawOperation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name?: string; in?: string; $ref?: string }>;
  responses?: Record<string, unknown>;
  'x-rate-limit-category'?: RateLimitCategory;
}

export function loadContract(file: string = CONTRACT_FILE): Contract {
  const document = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return indexContract(document);
}

export function indexContract(document: Record<string, unknown>): Contract {
  const paths = (document.paths ?? {}) as Record<string, Record<string, RawOperation>>;
  const components = (document.components ?? {}) as { parameters?: Record<string, { name?: string; in?: string }> };
  const operations: ContractOperation[] = [];
  const templates: Array<{ regex: RegExp; byMethod: Map<string, ContractOperation> }> = [];

  for (const [template, item] of Object.entries(paths)) {
    const byMethod = new Map<string, ContractOperation>();
    for (const method of METHODS) {
      const raw = item[method];
      if (!raw) continue;
      if (!raw.operationId) throw new Error(`${method.toUpperCase()} ${template} has no operationId`);
      const security = raw.security ?? [];
      const parameters = (raw.parameters ?? []).map((p) =>
        p.$ref ? (components.parameters?.[componentRef(p.$ref)?.name ?? ''] ?? {}) : p,
      );
      const operation: ContractOperation = {
        operationId: raw.operationId as OperationId,
        method,
        path: template,
        expressPath: template.replace(/\{([^}]+)\}/g, ':$1'),
        pathPattern: templateRegex(template, true),
        pathParameters: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        security,
        schemes: [...new Set(security.flatMap((requirement) => Object.keys(requirement)))],
        isPublic: security.length === 0 || security.some((requirement) => Object.keys(requirement).length === 0),
        rateLimited: Object.hasOwn(raw.responses ?? {}, '429'),
        idempotent: parameters.some((p) => p.in === 'header' && p.name?.toLowerCase() === 'idempotency-key'),
        category: raw['x-rate-limit-category'] ?? (method === 'get' ? 'read' : 'write'),
      };
      operations.push(operation);
      byMethod.set(method, operation);
    }
    templates.push({ regex: templateRegex(template), byMethod });
  }

  const byId = new Map(operations.map((operation) => [operation.operationId as string, operation]));
  return {
    document,
    operations,
    byId,
    match(method, pathname) {
      for (const { regex, byMethod } of templates) {
        if (!regex.test(pathname)) continue;
        const operation = byMethod.get(method.toLowerCase());
        if (operation) return { operation };
        return { allowed: [...byMethod.keys()].map((m) => m.toUpperCase()) };
      }
      return null;
    },
  };
}

/** `/v1/workflows/{workflow_id}` -> /^\/v1\/workflows\/[^/]+$/ (with `([^/]+)` when `capture`) */
function templateRegex(template: string, capture = false): RegExp {
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) =>
      part.startsWith('{') ? (capture ? '([^/]+)' : '[^/]+') : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Where a local `$ref` into the document's components points: its component type and
 * name (JSON-pointer escapes decoded). Null for any other reference (external, or deeper
 * than a component).
 */
export function componentRef(ref: string): { type: string; name: string } | null {
  if (!ref.startsWith('#/components/')) return null;
  const parts = ref
    .slice('#/components/'.length)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.length === 2 ? { type: parts[0]!, name: parts[1]! } : null;
}

/** The scopes an operation needs when called through `scheme` ([] for none). */
export function requiredScopes(operation: ContractOperation, scheme: string): string[] {
  const requirement = operation.security.find((alternative) => Object.hasOwn(alternative, scheme));
  return requirement?.[scheme] ?? [];
}
