// /.well-known/oauth-authorization-server (RFC 8414) and /.well-known/jwks.json.
import type { Handlers } from '../http/handler.ts';
import { authorizationServerMetadata } from '../identity/server-metadata.ts';
import type { IdentityHandlerDeps } from './identity-deps.ts';

type WellKnownHandlers = Pick<Handlers, 'getAuthorizationServerMetadata' | 'getJwks'>;

/** Public documents that change only with a release or a key rotation (which publishes keys ahead of need). */
const CACHEABLE = { 'Cache-Control': 'public, max-age=3600' };

export function wellKnownHandlers({ identity }: IdentityHandlerDeps): WellKnownHandlers {
  return {
    getAuthorizationServerMetadata() {
      return Promise.resolve({
        status: 200,
        body: authorizationServerMetadata(identity.audience.issuer),
        headers: CACHEABLE,
      });
    },
    async getJwks() {
      const keys = (await identity.signingKeys.publicKeys()).map((key) => key.jwk);
      return { status: 200, body: { keys }, headers: CACHEABLE };
    },
  };
}
