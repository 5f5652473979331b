// Checks an authorization request (RFC 6749 section 4.1.1 with PKCE), for the
// page (GET) and for the form that page posts (POST), in two stages:
//  1. the app and the redirect URI: unless both are certain, the error is shown
//     on our own page and the browser goes nowhere (no open redirector);
//  2. everything else: reported to the app by redirecting to the now-trusted
//     redirect URI with `error`, `error_description` and `state` (section 4.1.2.1).
import type { Scope } from '../auth/scopes.ts';
import { OAuthError } from '../errors.ts';
import type { OAuthClient, OAuthClientService } from './oauth-clients.ts';
import { coveredBy, parseScopeParameter } from './oauth-scopes.ts';
import { S256_CHALLENGE } from './pkce.ts';

/** The parameters as they came, query or form: bounded strings, any of them missing. */
export interface AuthorizationParameters {
  response_type?: string | undefined;
  client_id: string;
  redirect_uri?: string | undefined;
  scope?: string | undefined;
  state?: string | undefined;
  code_challenge?: string | undefined;
  code_challenge_method?: string | undefined;
}

export interface IdentifiedApp {
  client: OAuthClient;
  redirectUri: string;
  /** Whether the request named the redirect URI (the token request must then repeat it). */
  redirectUriSent: boolean;
}

export interface AuthorizationRequest extends IdentifiedApp {
  scopes: Scope[];
  state: string | undefined;
  codeChallenge: string | null;
  /** The parameters to carry unchanged in the page's hidden fields. */
  echo: Record<string, string>;
}

export type AuthorizationCheck = { ok: true; request: AuthorizationRequest } | { ok: false; location: string };

/** Stage 1. Throws an error shown as a 400 page. */
export async function identifyApp(
  clients: OAuthClientService,
  params: AuthorizationParameters,
): Promise<IdentifiedApp> {
  const client = await clients.byClientId(params.client_id);
  if (!client)
    throw new OAuthError(
      'invalid_request',
      "Unknown app: no app is registered with this client_id. Please contact the app's developer.",
    );
  if (params.redirect_uri !== undefined) {
    // Exact, character-for-character match: no prefix, port, path or case leniency.
    if (!client.redirectUris.includes(params.redirect_uri)) {
      throw new OAuthError(
        'invalid_request',
        "The redirect URI is not registered for this app, so you were not sent back to it. Please contact the app's developer.",
      );
    }
    return { client, redirectUri: params.redirect_uri, redirectUriSent: true };
  }
  const [only, ...others] = client.redirectUris;
  if (only === undefined || others.length > 0) {
    throw new OAuthError(
      'invalid_request',
      "The app did not say where to send you back (redirect_uri) and has several registered. Please contact the app's developer.",
    );
  }
  return { client, redirectUri: only, redirectUriSent: false };
}

/** Stages 1 and 2. */
export async function checkAuthorizationRequest(
  clients: OAuthClientService,
  params: AuthorizationParameters,
): Promise<AuthorizationCheck> {
  const app = await identifyApp(clients, params);
  const fail = (error: string, description: string): AuthorizationCheck => ({
    ok: false,
    location: redirectTo(app.redirectUri, { error, error_description: description, state: params.state }),
  });

  if (params.response_type === undefined || params.response_type === '')
    return fail('invalid_request', 'response_type is required; it must be code.');
  if (params.response_type !== 'code')
    return fail('unsupported_response_type', 'Only response_type=code (the authorization code flow) is supported.');
  if (!app.client.grantTypes.includes('authorization_code'))
    return fail('unauthorized_client', 'This app is not registered for the authorization code grant.');

  const method = params.code_challenge_method;
  const challenge = params.code_challenge;
  if (method !== undefined && method !== 'S256') {
    return fail(
      'invalid_request',
      method === 'plain' ? 'code_challenge_method=plain is refused: use S256.' : 'code_challenge_method must be S256.',
    );
  }
  if (challenge === undefined || challenge === '') {
    if (method !== undefined) return fail('invalid_request', 'code_challenge_method was sent without code_challenge.');
    if (app.client.type === 'public')
      return fail('invalid_request', 'Public apps must use PKCE: send code_challenge and code_challenge_method=S256.');
  } else {
    if (method === undefined)
      return fail('invalid_request', 'code_challenge_method=S256 is required with code_challenge (plain is refused).');
    if (!S256_CHALLENGE.test(challenge))
      return fail('invalid_request', 'code_challenge must be BASE64URL(SHA-256(code_verifier)): 43 characters.');
  }

  let scopes: Scope[] = app.client.scopes;
  if (params.scope !== undefined && params.scope.trim() !== '') {
    const asked = parseScopeParameter(params.scope);
    if (asked === null) return fail('invalid_scope', 'scope names a scope that does not exist.');
    if (coveredBy(app.client.scopes, asked).length !== asked.length)
      return fail('invalid_scope', 'scope asks for more than this app is registered for.');
    scopes = asked;
  }

  const echo: Record<string, string> = {};
  for (const name of [
    'client_id',
    'response_type',
    'redirect_uri',
    'scope',
    'state',
    'code_challenge',
    'code_challenge_method',
  ] as const) {
    const value = params[name];
    if (value !== undefined) echo[name] = value;
  }
  return {
    ok: true,
    request: { ...app, scopes, state: params.state, codeChallenge: challenge ? challenge : null, echo },
  };
}

/** The redirect URI with `params` added to its query (undefined ones left out). */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}
