// API keys: list, create, read, revoke, rotate; and the public leaked-key report.
import type { Scenario } from '../scenario.ts';
import { apiKeyInput, createApiKey, unknownIds } from './setup.ts';

/** Looks like a key, is none: for invalid reports, which must be refused before any lookup. */
const fakeKey = 'sk_test_0000000000000000000000000000000000000000';

export const apiKeyScenarios: Scenario[] = [
  {
    operationId: 'listApiKeys',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/auth/api-keys', { params: { query: { status: 'active', limit: 5 } } }),
    invalid: [
      {
        name: 'limit 0',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/auth/api-keys', { params: { query: { limit: 0 } } }),
      },
      {
        name: 'unknown status',
        status: 400,
        // @ts-expect-error deliberately outside the enum
        call: (ctx) => ctx.api.GET('/v1/auth/api-keys', { params: { query: { status: 'deleted' } } }),
      },
      {
        name: 'unknown type',
        status: 400,
        // @ts-expect-error deliberately outside the enum (the type is `secret`, not the prefix `sk`)
        call: (ctx) => ctx.api.GET('/v1/auth/api-keys', { params: { query: { type: 'sk' } } }),
      },
      {
        name: 'cursor with forbidden characters',
        status: 400,
        call: (ctx) =>
          ctx.api.GET('/v1/auth/api-keys', { params: { query: { cursor: 'key_0lnqW5pW4aRFTltCI9tr8YsP?page=2' } } }),
      },
    ],
  },
  {
    operationId: 'createApiKey',
    status: 201,
    call: (ctx) =>
      ctx.api.POST('/v1/auth/api-keys', {
        body: {
          name: ctx.unique('Reporting dashboard '),
          type: 'restricted',
          scopes: ['workflows:read', 'runs:read', 'audit:read'],
          // In the future on any target, as the contract requires; whole seconds like the examples.
          expires_at: new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          allowed_ips: ['203.0.113.0/24', '2001:db8:4c2::/48'],
        },
      }),
    invalid: [
      {
        name: 'unknown scope',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/api-keys', { body: { ...apiKeyInput(ctx), scopes: ['keys:admin'] } as never }),
      },
      {
        name: 'no scopes',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/auth/api-keys', { body: { ...apiKeyInput(ctx), scopes: [] } }),
      },
      {
        name: 'unknown type',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/auth/api-keys', { body: { ...apiKeyInput(ctx), type: 'admin' } as never }),
      },
      {
        name: 'allowed_ips entry is not a CIDR network',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/api-keys', { body: { ...apiKeyInput(ctx), allowed_ips: ['203.0.113.0/33'] } }),
      },
    ],
  },
  {
    operationId: 'getApiKey',
    status: 200,
    call: async (ctx) => {
      const key = await createApiKey(ctx);
      return ctx.api.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: 'key_123' } } }),
      },
      {
        name: 'a key prefix instead of an id',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: 'sk_test_00AH' } } }),
      },
    ],
  },
  {
    operationId: 'revokeApiKey',
    status: 200,
    call: async (ctx) => {
      const key = await createApiKey(ctx);
      return ctx.api.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: 'key_' } } }),
      },
      {
        name: 'id of another resource',
        status: 400,
        call: (ctx) =>
          ctx.api.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: unknownIds.client } } }),
      },
    ],
  },
  {
    operationId: 'rotateApiKey',
    status: 200,
    call: async (ctx) => {
      const key = await createApiKey(ctx);
      return ctx.api.POST('/v1/auth/api-keys/{key_id}/rotate', {
        params: { path: { key_id: key.id } },
        body: { grace_period_seconds: 3600 },
      });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/api-keys/{key_id}/rotate', { params: { path: { key_id: 'key_short' } }, body: {} }),
      },
      {
        name: 'grace period over 7 days',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/api-keys/{key_id}/rotate', {
            params: { path: { key_id: unknownIds.key } },
            body: { grace_period_seconds: 604_801 },
          }),
      },
      {
        name: 'negative grace period',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/api-keys/{key_id}/rotate', {
            params: { path: { key_id: unknownIds.key } },
            body: { grace_period_seconds: -1 },
          }),
      },
      {
        name: 'grace period as a duration string',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/auth/api-keys/{key_id}/rotate', {
            params: { path: { key_id: unknownIds.key } },
            body: { grace_period_seconds: '1h' } as never,
          }),
      },
    ],
  },
  {
    operationId: 'reportLeakedCredential',
    status: 202,
    // A throwaway key, created for the purpose and reported as leaked: on a real
    // target this revokes it, and never touches the credential the suite runs with.
    call: async (ctx) => {
      const key = await createApiKey(ctx);
      return ctx.api.POST('/v1/credentials/revoke', {
        body: {
          credential: key.secret,
          source_url: 'https://github.com/example-org/billing-scripts/blob/main/deploy.sh',
          reporter: 'GitHub Secret Scanning',
        },
      });
    },
    invalid: [
      {
        name: 'no credential',
        status: 400,
        // @ts-expect-error deliberately missing a required field
        call: (ctx) => ctx.api.POST('/v1/credentials/revoke', { body: { reporter: 'GitHub Secret Scanning' } }),
      },
      {
        name: 'empty credential',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/credentials/revoke', { body: { credential: '' } }),
      },
      {
        name: 'source_url is not a URI',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/credentials/revoke', {
            body: { credential: fakeKey, source_url: 'somewhere on pastebin' },
          }),
      },
      {
        name: 'unknown field',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/credentials/revoke', { body: { credential: fakeKey, key_id: unknownIds.key } as never }),
      },
    ],
  },
];
