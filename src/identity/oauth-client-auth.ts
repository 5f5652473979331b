// Client authentication at the token, revocation and introspection endpoints
// (RFC 6749 section 2.3): `client_secret_basic` (HTTP Basic whose id and secret
// are form-urlencoded before Base64, section 2.3.1), `client_secret_post`, or
// `none` for public apps, which send only their client_id. An app must use the
// method it registered, and exactly one method per request.
import { OAuthError } from '../errors.ts';
import { basicChallenge } from '../auth/www-authenticate.ts';
import type { OAuthClient, OAuthClientService } from './oauth-clients.ts';

export interface PresentedClient {
  clientId: string;
  secret: string | null;
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export function invalidClient(description: string): OAuthError {
  return new OAuthError('invalid_client', description, { headers: { 'WWW-Authenticate': basicChallenge() } });
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw invalidClient('The Basic credentials are not form-urlencoded as RFC 6749 section 2.3.1 requires.');
  }
}

/** What the request presents; throws invalid_request / invalid_client when it is malformed or ambiguous. */
export function presentedClient(
  authorization: string | undefined,
  body: { client_id?: unknown; client_secret?: unknown },
): PresentedClient {
  const bodyId = typeof body.client_id === 'string' && body.client_id !== '' ? body.client_id : undefined;
  const bodySecret =
    typeof body.client_secret === 'string' && body.client_secret !== '' ? body.client_secret : undefined;
  if (authorization !== undefined) {
    const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(authorization);
    if (!match)
      throw invalidClient(
        'Authenticate with "Authorization: Basic" (client_secret_basic) or with client_id and client_secret in the body.',
      );
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('The Basic credentials must be client_id:client_secret.');
    const clientId = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (bodySecret !== undefined)
      throw new OAuthError(
        'invalid_request',
        'Use one client authentication method: HTTP Basic or client_secret in the body, not both.',
      );
    if (bodyId !== undefined && bodyId !== clientId)
      throw new OAuthError(
        'invalid_request',
        'The client_id in the body differs from the one in the Authorization header.',
      );
    return { clientId, secret, method: 'client_secret_basic' };
  }
  if (bodySecret !== undefined) {
    if (bodyId === undefined) throw invalidClient('client_secret was sent without client_id.');
    return { clientId: bodyId, secret: bodySecret, method: 'client_secret_post' };
  }
  if (bodyId !== undefined) return { clientId: bodyId, secret: null, method: 'none' };
  throw invalidClient(
    'The app must authenticate: HTTP Basic with its client_id and client_secret, or client_id (and client_secret) in the body.',
  );
}

/** The registered app the request authenticates as, checked against its registered method and secret. */
export async function authenticateClient(
  clients: OAuthClientService,
  presented: PresentedClient,
  options: { allowPublic: boolean },
): Promise<OAuthClient> {
  const client = await clients.byClientId(presented.clientId);
  // One message for every failure: the answer does not tell which client_ids exist.
  const failed = invalidClient(
    'Client authentication failed: unknown client_id, wrong secret, or a method the app is not registered for.',
  );
  if (!client || client.authMethod !== presented.method) throw failed;
  if (presented.method !== 'none' && (presented.secret === null || !clients.secretMatches(client, presented.secret)))
    throw failed;
  if (!options.allowPublic && client.type === 'public')
    throw invalidClient('Only confidential apps may call this endpoint.');
  return client;
}
