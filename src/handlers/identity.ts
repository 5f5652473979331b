// TEMPORARY: the identity operations (sessions, JWT, OAuth) are being built in
// src/identity/; until then they answer 500. Replaced before issue 4 lands.
import { ApiError } from '../errors.ts';
import type { Handlers } from '../http/handler.ts';

type IdentityOperation =
  | 'login' | 'refreshSession' | 'logout' | 'authorize' | 'submitAuthorization' | 'issueToken' | 'revokeToken' | 'introspectToken'
  | 'getAuthorizationServerMetadata' | 'getJwks' | 'listOAuthClients' | 'createOAuthClient' | 'getOAuthClient' | 'deleteOAuthClient';

const pending = async (): Promise<never> => {
  throw new ApiError('internal_error', 'not implemented yet');
};

export function identityHandlers(): Pick<Handlers, IdentityOperation> {
  return {
    login: pending, refreshSession: pending, logout: pending, authorize: pending, submitAuthorization: pending, issueToken: pending, revokeToken: pending,
    introspectToken: pending, getAuthorizationServerMetadata: pending, getJwks: pending, listOAuthClients: pending, createOAuthClient: pending,
    getOAuthClient: pending, deleteOAuthClient: pending,
  };
}
