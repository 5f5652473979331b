import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

type ConnectionHandlers = Pick<Handlers, 'listConnections' | 'createConnection' | 'getConnection' | 'deleteConnection'>;

// A change and its audit entry commit in one transaction: there is never one without the other.
export function connectionHandlers({ connections, audit, transaction }: Services): ConnectionHandlers {
  return {
    async listConnections({ query, context }) {
      return { status: 200, body: listOf(await connections.list(tenantOf(principalOf(context)), query.limit ?? DEFAULT_LIMIT, query.cursor)) };
    },
    async createConnection({ body, context }) {
      const connection = await transaction(async ({ trx }) => {
        const created = await connections.create(tenantOf(principalOf(context)), body, trx);
        // The field names only: never the credentials.
        await audit.record(context, { action: 'connection.created', outcome: 'success', resource: { type: 'connection', id: created.id }, metadata: { provider: created.provider, auth_type: created.auth_type } }, trx);
        return created;
      });
      return { status: 201, body: ok(connection) };
    },
    async getConnection({ params, context }) {
      return { status: 200, body: ok(await connections.get(tenantOf(principalOf(context)), params.connection_id)) };
    },
    async deleteConnection({ params, context }) {
      await transaction(async ({ trx }) => {
        await connections.delete(tenantOf(principalOf(context)), params.connection_id, trx);
        await audit.record(context, { action: 'connection.deleted', outcome: 'success', resource: { type: 'connection', id: params.connection_id } }, trx);
      });
      return { status: 200, body: ok({ id: params.connection_id, deleted: true as const }) };
    },
  };
}
