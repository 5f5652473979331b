// The identity operations: sessions, OAuth apps, the OAuth authorization server
// and its public documents, each in its own file.
import type { Handlers } from '../http/handler.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';
import { authorizeHandlers } from './oauth-authorize.ts';
import { oauthClientHandlers } from './oauth-clients.ts';
import { oauthTokenHandlers } from './oauth-tokens.ts';
import { sessionHandlers } from './sessions.ts';
import { wellKnownHandlers } from './well-known.ts';

type IdentityOperation =
  | 'login'
  | 'refreshSession'
  | 'logout'
  | 'authorize'
  | 'submitAuthorization'
  | 'issueToken'
  | 'revokeToken'
  | 'introspectToken'
  | 'getAuthorizationServerMetadata'
  | 'getJwks'
  | 'listOAuthClients'
  | 'createOAuthClient'
  | 'getOAuthClient'
  | 'deleteOAuthClient';

export function identityHandlers(deps: IdentityHandlerDeps): Pick<Handlers, IdentityOperation> {
  return {
    ...sessionHandlers(deps),
    ...oauthClientHandlers(deps),
    ...authorizeHandlers(deps),
    ...oauthTokenHandlers(deps),
    ...wellKnownHandlers(deps),
  };
}
