// /v1/oauth/clients: registering, listing, reading and deleting OAuth apps.
import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, tenantOf } from './envelope.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';

type OAuthClientHandlers = Pick<
  Handlers,
  'listOAuthClients' | 'createOAuthClient' | 'getOAuthClient' | 'deleteOAuthClient'
>;

// An app's registration or deletion (with the revocation of its tokens) commits in one
// transaction with its audit entry; caches hear of the revocations after the commit.
export function oauthClientHandlers({ identity, audit, transaction }: IdentityHandlerDeps): OAuthClientHandlers {
  const { clients } = identity;
  return {
    async listOAuthClients({ query, context }) {
      return {
        status: 200,
        body: listOf(await clients.list(tenantOf(principalOf(context)), query.limit ?? DEFAULT_LIMIT, query.cursor)),
      };
    },
    async createOAuthClient({ body, context }) {
      const client = await transaction(async (tx) => {
        const created = await clients.create(principalOf(context), body, tx);
        await audit.recordIn(
          context,
          {
            action: 'oauth_client.created',
            outcome: 'success',
            resource: { type: 'oauth_client', id: created.client_id },
            metadata: {
              client_type: created.client_type,
              scopes: created.scopes,
              grant_types: created.grant_types,
              redirect_uris: created.redirect_uris,
              auth_method: created.token_endpoint_auth_method,
            },
          },
          tx,
        );
        return created;
      });
      return { status: 201, body: ok(client), headers: { 'Cache-Control': 'no-store' } };
    },
    async getOAuthClient({ params, context }) {
      return { status: 200, body: ok(await clients.get(tenantOf(principalOf(context)), params.client_id)) };
    },
    async deleteOAuthClient({ params, context }) {
      await transaction(async (tx) => {
        const { revokedGrants } = await clients.delete(principalOf(context), params.client_id, tx);
        await audit.recordIn(
          context,
          {
            action: 'oauth_client.deleted',
            outcome: 'success',
            resource: { type: 'oauth_client', id: params.client_id },
            metadata: { revoked_grants: revokedGrants },
          },
          tx,
        );
      });
      return { status: 200, body: ok({ id: params.client_id, deleted: true as const }) };
    },
  };
}
