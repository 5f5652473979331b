import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, tenantOf } from './envelope.ts';
import type { Services } from './services.ts';

type ConnectionHandlers = Pick<Handlers, 'listConnections' | 'createConnection' | 'getConnection' | 'deleteConnection'>;

// A change and its audit entry commit in one transaction: there is never one without the other.
export function connectionHandlers({ connections, audit, transaction }: Services): ConnectionHandlers {
  return {
    async listConnections({ query, context }) {
      return {
        status: 200,
        body: listOf(
          await connections.list(tenantOf(principalOf(context)), query.limit ?? DEFAULT_LIMIT, query.cursor),
        ),
      };
    },
    async createConnection({ body, context }) {
      const connection = await transaction(async (tx) => {
        const created = await connections.create(tenantOf(principalOf(context)), body, tx);
        // The field names only: never the credentials.
        await audit.recordIn(
          context,
          {
            action: 'connection.created',
            outcome: 'success',
            resource: { type: 'connection', id: created.id },
            metadata: { provider: created.provider, auth_type: created.auth_type },
          },
          tx,
        );
        return created;
      });
      return { status: 201, body: ok(connection) };
    },
    async getConnection({ params, context }) {
      return { status: 200, body: ok(await connections.get(tenantOf(principalOf(context)), params.connection_id)) };
    },
    async deleteConnection({ params, context }) {
      await transaction(async (tx) => {
        await connections.delete(tenantOf(principalOf(context)), params.connection_id, tx);
        await audit.recordIn(
          context,
          {
            action: 'connection.deleted',
            outcome: 'success',
            resource: { type: 'connection', id: params.connection_id },
          },
          tx,
        );
      });
      return { status: 200, body: ok({ id: params.connection_id, deleted: true as const }) };
    },
  };
}
