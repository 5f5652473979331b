// /v1/oauth/clients: registering, listing, reading and deleting OAuth apps.
import type { Handlers } from '../http/handler.ts';
import { principalOf } from '../http/handler.ts';
import { DEFAULT_LIMIT, listOf, ok, scopeOf } from './envelope.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';

type OAuthClientHandlers = Pick<Handlers, 'listOAuthClients' | 'createOAuthClient' | 'getOAuthClient' | 'deleteOAuthClient'>;

export function oauthClientHandlers({ identity, audit }: IdentityHandlerDeps): OAuthClientHandlers {
  const { clients } = identity;
  return {
    async listOAuthClients({ query, context }) {
      return { status: 200, body: listOf(await clients.list(scopeOf(principalOf(context)), query.limit ?? DEFAULT_LIMIT, query.cursor)) };
    },
    async createOAuthClient({ body, context }) {
      const client = await clients.create(principalOf(context), body);
      await audit.record(context, {
        action: 'oauth_client.created',
        outcome: 'success',
        resource: { type: 'oauth_client', id: client.client_id },
        metadata: {
          client_type: client.client_type,
          scopes: client.scopes,
          grant_types: client.grant_types,
          redirect_uris: client.redirect_uris,
          auth_method: client.token_endpoint_auth_method,
        },
      });
      return { status: 201, body: ok(client), headers: { 'Cache-Control': 'no-store' } };
    },
    async getOAuthClient({ params, context }) {
      return { status: 200, body: ok(await clients.get(scopeOf(principalOf(context)), params.client_id)) };
    },
    async deleteOAuthClient({ params, context }) {
      const { revokedGrants } = await clients.delete(scopeOf(principalOf(context)), params.client_id);
      await audit.record(context, {
        action: 'oauth_client.deleted',
        outcome: 'success',
        resource: { type: 'oauth_client', id: params.client_id },
        metadata: { revoked_grants: revokedGrants },
      });
      return { status: 200, body: ok({ id: params.client_id, deleted: true as const }) };
    },
  };
}
