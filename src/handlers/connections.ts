import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, scopeOf } from './envelope.ts';
import type { Services } from './services.ts';

type ConnectionHandlers = Pick<Handlers, 'listConnections' | 'createConnection' | 'getConnection' | 'deleteConnection'>;

export function connectionHandlers({ connections, audit }: Services): ConnectionHandlers {
  return {
    async listConnections({ query, context }) {
      return { status: 200, body: listOf(await connections.list(scopeOf(principalOf(context)), query.limit ?? DEFAULT_LIMIT, query.cursor)) };
    },
    async createConnection({ body, context }) {
      const connection = await connections.create(scopeOf(principalOf(context)), body);
      // The field names only: never the credentials.
      await audit.record(context, { action: 'connection.created', outcome: 'success', resource: { type: 'connection', id: connection.id }, metadata: { provider: connection.provider, auth_type: connection.auth_type } });
      return { status: 201, body: ok(connection) };
    },
    async getConnection({ params, context }) {
      return { status: 200, body: ok(await connections.get(scopeOf(principalOf(context)), params.connection_id)) };
    },
    async deleteConnection({ params, context }) {
      await connections.delete(scopeOf(principalOf(context)), params.connection_id);
      await audit.record(context, { action: 'connection.deleted', outcome: 'success', resource: { type: 'connection', id: params.connection_id } });
      return { status: 200, body: ok({ id: params.connection_id, deleted: true as const }) };
    },
  };
}
