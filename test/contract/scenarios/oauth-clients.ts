// OAuth apps: list, register, read, delete.
import type { Scenario } from '../scenario.ts';
import { createOAuthClient, oauthClientInput, unknownIds } from './setup.ts';

export const oauthClientScenarios: Scenario[] = [
  {
    operationId: 'listOAuthClients',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/oauth/clients', { params: { query: { limit: 5 } } }),
    invalid: [
      {
        name: 'limit 0',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/oauth/clients', { params: { query: { limit: 0 } } }),
      },
      {
        name: 'limit 101',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/oauth/clients', { params: { query: { limit: 101 } } }),
      },
      {
        name: 'limit is not a number',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/oauth/clients', { params: { query: { limit: 'all' } } as never }),
      },
      {
        name: 'cursor with forbidden characters',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/oauth/clients', { params: { query: { cursor: 'page 2' } } }),
      },
    ],
  },
  {
    operationId: 'createOAuthClient',
    status: 201,
    call: (ctx) =>
      ctx.api.POST('/v1/oauth/clients', {
        body: {
          ...oauthClientInput(ctx),
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      }),
    invalid: [
      {
        name: 'plain-http redirect URI on a public host',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/oauth/clients', {
            body: { ...oauthClientInput(ctx), redirect_uris: ['http://app.acme-reports.com/oauth/callback'] },
          }),
      },
      {
        name: 'public app with client_credentials',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/oauth/clients', {
            body: {
              ...oauthClientInput(ctx),
              client_type: 'public',
              redirect_uris: ['http://127.0.0.1:8765/callback'],
              grant_types: ['client_credentials'],
              token_endpoint_auth_method: 'none',
            },
          }),
      },
      {
        name: 'refresh_token without authorization_code',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/oauth/clients', {
            body: { ...oauthClientInput(ctx), grant_types: ['client_credentials', 'refresh_token'] },
          }),
      },
      {
        name: 'unknown scope',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/oauth/clients', {
            body: { ...oauthClientInput(ctx), scopes: ['workflows:admin'] } as never,
          }),
      },
    ],
  },
  {
    operationId: 'getOAuthClient',
    status: 200,
    call: async (ctx) => {
      const client = await createOAuthClient(ctx);
      return ctx.api.GET('/v1/oauth/clients/{client_id}', { params: { path: { client_id: client.client_id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/oauth/clients/{client_id}', { params: { path: { client_id: 'cli_123' } } }),
      },
      {
        name: 'id of another resource',
        status: 400,
        call: (ctx) =>
          ctx.api.GET('/v1/oauth/clients/{client_id}', { params: { path: { client_id: unknownIds.key } } }),
      },
    ],
  },
  {
    operationId: 'deleteOAuthClient',
    status: 200,
    call: async (ctx) => {
      const client = await createOAuthClient(ctx);
      return ctx.api.DELETE('/v1/oauth/clients/{client_id}', { params: { path: { client_id: client.client_id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) =>
          ctx.api.DELETE('/v1/oauth/clients/{client_id}', {
            params: { path: { client_id: 'cli_fg16OvHFc8J1s7NQhvgZ7Xg5!' } },
          }),
      },
    ],
  },
];
