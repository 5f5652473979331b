// State for integration tests, created through the real services (as an admin
// would), never by writing rows by hand: more tenants, more keys, other plans.
import type { ApiKeyCreate } from '../../src/auth/api-key-management.ts';
import { ownerAuthority, type UserPrincipal } from '../../src/auth/principal.ts';
import type { TestServer } from './server.ts';

export interface Tenant {
  accountId: string;
  projectId: string;
  /** Creates a key in this tenant as its owner would (every scope), returning the secret. */
  key(input?: Partial<ApiKeyCreate>): Promise<{ id: string; secret: string }>;
}

/** The owner principal of a tenant: what a logged-in owner's session amounts to. */
function ownerOf(
  tenant: { accountId: string; projectId: string },
  environment: 'live' | 'test',
  plan: 'free' | 'pro' | 'enterprise',
): UserPrincipal {
  return ownerAuthority({
    userId: 'usr_000000000000000000000000',
    accountId: tenant.accountId,
    projectId: tenant.projectId,
    environment,
    plan,
    label: 'fixture',
  });
}

function tenantOf(
  server: TestServer,
  ids: { accountId: string; projectId: string },
  plan: 'free' | 'pro' | 'enterprise',
): Tenant {
  return {
    ...ids,
    async key(input = {}) {
      const environment = input.environment ?? 'test';
      const { transaction, apiKeys } = server.server.services;
      const key = await transaction((tx) =>
        apiKeys.create(
          ownerOf(ids, environment, plan),
          {
            name: input.name ?? 'Test key',
            type: input.type ?? 'secret',
            environment,
            scopes: input.scopes ?? ['read', 'write', 'workflows:execute'],
            ...(input.expires_at !== undefined ? { expires_at: input.expires_at } : {}),
            ...(input.allowed_ips !== undefined ? { allowed_ips: input.allowed_ips } : {}),
          },
          tx,
        ),
      );
      return { id: key.id, secret: key.secret };
    },
  };
}

/** The bootstrap tenant of the test server (plan as set by startTestServer). */
export function mainTenant(server: TestServer, plan: 'free' | 'pro' | 'enterprise' = 'enterprise'): Tenant {
  return tenantOf(server, { accountId: server.accountId, projectId: server.projectId }, plan);
}

/** A second, unrelated account with its own project. */
export async function newTenant(
  server: TestServer,
  plan: 'free' | 'pro' | 'enterprise' = 'enterprise',
): Promise<Tenant> {
  const ids = await server.server.services.accounts.createAccount('Other account', plan);
  return tenantOf(server, ids, plan);
}

/** An answer to an untyped request: its JSON body as `body`, and as `data` (2xx) or `error` (otherwise). */
export interface UntypedAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
  data: any;
  error: any;
}

/**
 * A request the typed client (test/support/api.ts) cannot send: a path outside the
 * contract, a body that is not JSON, a content type the contract does not take. With a
 * credential; `body` objects are sent as JSON, strings as they are. Everything the
 * contract describes goes through the typed client instead.
 */
export async function untypedRequest(
  server: TestServer,
  method: string,
  path: string,
  options: { key?: string; apiKeyHeader?: boolean; body?: unknown; headers?: Record<string, string> } = {},
): Promise<UntypedAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) {
    if (options.apiKeyHeader) headers['X-API-Key'] = options.key;
    else headers.Authorization = `Bearer ${options.key}`;
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
    redirect: 'manual',
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  // Split as openapi-fetch splits a typed answer, so that the same checks read both.
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: parsed,
    data: response.ok ? parsed : undefined,
    error: response.ok ? undefined : parsed,
  };
}
