// Connections: list, create, read, delete (credentials never returned).
import type { Scenario } from '../scenario.ts';
import { connectionInput, createConnection, unknownIds } from './setup.ts';

export const connectionScenarios: Scenario[] = [
  {
    operationId: 'listConnections',
    status: 200,
    call: (ctx) => ctx.api.GET('/v1/connections', { params: { query: { limit: 10 } } }),
    invalid: [
      {
        name: 'limit 0',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/connections', { params: { query: { limit: 0 } } }),
      },
      {
        name: 'limit is not a number',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/connections', { params: { query: { limit: 'ten' as never } } }),
      },
      {
        name: 'cursor longer than 512 characters',
        status: 400,
        call: (ctx) => ctx.api.GET('/v1/connections', { params: { query: { cursor: 'c'.repeat(513) } } }),
      },
    ],
  },
  {
    operationId: 'createConnection',
    status: 201,
    call: (ctx) =>
      ctx.api.POST('/v1/connections', {
        params: { header: { 'Idempotency-Key': ctx.unique('create-conn-') } },
        body: connectionInput(ctx),
      }),
    invalid: [
      {
        name: 'unknown auth_type',
        status: 400,
        // @ts-expect-error deliberately outside the enum
        call: (ctx) => ctx.api.POST('/v1/connections', { body: { ...connectionInput(ctx), auth_type: 'digest' } }),
      },
      {
        name: 'no credentials',
        status: 400,
        call: (ctx) => ctx.api.POST('/v1/connections', { body: { ...connectionInput(ctx), credentials: {} } }),
      },
      {
        name: 'credential value that is not a string',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/connections', {
            body: { ...connectionInput(ctx), credentials: { token: 12345 } } as never,
          }),
      },
      {
        name: 'unknown field',
        status: 400,
        call: (ctx) =>
          ctx.api.POST('/v1/connections', { body: { ...connectionInput(ctx), environment: 'live' } as never }),
      },
    ],
  },
  {
    operationId: 'getConnection',
    status: 200,
    call: async (ctx) => {
      const connection = await createConnection(ctx);
      return ctx.api.GET('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.id } } });
    },
    invalid: [
      {
        name: 'malformed id',
        status: 400,
        call: (ctx) =>
          ctx.api.GET('/v1/connections/{connection_id}', { params: { path: { connection_id: 'conn_slack' } } }),
      },
    ],
  },
  {
    operationId: 'deleteConnection',
    status: 200,
    call: async (ctx) => {
      const connection = await createConnection(ctx);
      return ctx.api.DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.id } } });
    },
    invalid: [
      {
        name: 'a workflow id instead of a connection id',
        status: 400,
        call: (ctx) =>
          ctx.api.DELETE('/v1/connections/{connection_id}', {
            params: { path: { connection_id: unknownIds.workflow } },
          }),
      },
    ],
  },
];
