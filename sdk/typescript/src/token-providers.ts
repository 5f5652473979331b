// Ready-made token providers for `createAetherFlowClient({ tokenProvider })`:
// a user's session (login, then refresh-token rotation) and an OAuth app's own
// tokens (client credentials). Each keeps its secrets in memory only.
import { createAetherFlowClient, type AetherFlowClientOptions } from './client.js';
import { AetherFlowError, unwrap } from './errors.js';
import type { AccessToken, TokenProvider } from './credentials.js';

/** Transport settings a provider's own requests share with the client (never its credential). */
type ProviderClientOptions = Pick<AetherFlowClientOptions, 'baseUrl' | 'fetch' | 'retry' | 'sleep' | 'now' | 'random'>;

export interface SessionTokenProviderOptions extends ProviderClientOptions {
  email: string;
  password: string;
  /** The project the session acts on; the user's default project when omitted. */
  projectId?: string;
}

/**
 * A user's session: logs in with `POST /v1/auth/login` the first time, then renews the
 * access token with the single-use refresh token (`POST /v1/auth/refresh`), logging
 * in again if the refresh token is no longer valid.
 */
export function sessionTokenProvider(options: SessionTokenProviderOptions): TokenProvider {
  const { email, password, projectId, ...transport } = options;
  const anonymous = createAetherFlowClient(transport);
  let refreshToken: string | null = null;

  return async (): Promise<AccessToken> => {
    if (refreshToken !== null) {
      const { data, error, response } = await anonymous.POST('/v1/auth/refresh', {
        body: { refresh_token: refreshToken },
      });
      refreshToken = null;
      if (data) {
        refreshToken = data.data.refresh_token;
        return { token: data.data.token, expiresAt: data.data.expires_at };
      }
      if (error?.error.code !== 'invalid_refresh_token') throw new AetherFlowError(error, response);
    }
    const session = await unwrap(
      anonymous.POST('/v1/auth/login', { body: { email, password, ...(projectId ? { project_id: projectId } : {}) } }),
    );
    refreshToken = session.data.refresh_token;
    return { token: session.data.token, expiresAt: session.data.expires_at };
  };
}

export interface ClientCredentialsTokenProviderOptions extends ProviderClientOptions {
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes; the app's registered scopes when omitted. */
  scope?: string;
}

/**
 * An OAuth app acting on its own (RFC 6749 client credentials grant): a new access
 * token from `POST /oauth/token`, authenticated with HTTP Basic, whenever one is needed.
 */
export function clientCredentialsTokenProvider(options: ClientCredentialsTokenProviderOptions): TokenProvider {
  const { clientId, clientSecret, scope, ...transport } = options;
  const anonymous = createAetherFlowClient(transport);
  const now = options.now ?? Date.now;
  // RFC 6749 section 2.3.1: form-encode the id and secret before joining them.
  const basic = btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);

  return async (): Promise<AccessToken> => {
    const requestedAt = now();
    const token = await unwrap(
      anonymous.POST('/oauth/token', {
        body: { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
        bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` },
      }),
    );
    return { token: token.access_token, expiresAt: requestedAt + token.expires_in * 1000 };
  };
}
