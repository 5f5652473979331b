// Audit logs, usage, health, and the public OAuth discovery documents (metadata, JWKS).
import type { InvalidCall, Scenario } from '../scenario.ts';

// Operations without inputs still refuse what they do not declare: request
// validation is strict, so an unknown query parameter is a documented 400. Prism
// drops undeclared query parameters before validating, so this runs on real servers only.
function unknownQueryParameter(
  path: '/health' | '/.well-known/oauth-authorization-server' | '/.well-known/jwks.json' | '/v1/usage',
): InvalidCall {
  return {
    name: 'unknown query parameter',
    status: 400,
    notOnMock: 'Prism drops undeclared query parameters before validating',
    call: (ctx) => ctx.api.GET(path, { params: { query: { verbose: 'true' } } } as never),
  };
}

export const observabilityScenarios: Scenario[] = [
  {
    operationId: 'listAuditLogs',
    status: 200,
    call: (ctx) =>
      ctx.api.GET('/v1/audit-logs', {
        params: { query: { limit: 10, since: '2026-01-01T00:00:00Z' } },
      }),
    invalid: [
      {
        name: 'since is not a date-time',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/audit-logs', { params: { query: { since: 'last tuesday' } } }),
      },
      {
        name: 'unknown outcome',
        status: 400,
        // @ts-expect-error deliberately outside the enum
        call: (ctx) => ctx.api.GET('/v1/audit-logs', { params: { query: { outcome: 'maybe' } } }),
      },
      {
        name: 'actor_id of a workflow',
        status: 400,
        call: (ctx) =>
          ctx.api.GET('/v1/audit-logs', { params: { query: { actor_id: 'wf_000000000000000000000000' } } }),
      },
      {
        name: 'limit 101',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/audit-logs', { params: { query: { limit: 101 } } }),
      },
    ],
  },
  {
    operationId: 'getUsage',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/usage'),
    invalid: [unknownQueryParameter('/v1/usage')],
  },
  {
    operationId: 'getHealth',
    status: 200,
    call: (ctx) => ctx.api.GET('/health'),
    invalid: [unknownQueryParameter('/health')],
  },
  {
    operationId: 'getAuthorizationServerMetadata',
    status: 200,
    call: (ctx) => ctx.api.GET('/.well-known/oauth-authorization-server'),
    invalid: [unknownQueryParameter('/.well-known/oauth-authorization-server')],
  },
  {
    operationId: 'getJwks',
    status: 200,
    call: (ctx) => ctx.api.GET('/.well-known/jwks.json'),
    invalid: [unknownQueryParameter('/.well-known/jwks.json')],
  },
];
