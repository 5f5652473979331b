// A standard OAuth client library (oauth4webapi, unmodified) against the real
// server: discovery, authorization code with PKCE (the user's part driven over
// HTTP as a browser would: login page, consent page, cookie and CSRF token),
// refresh, revocation, introspection and client credentials, then /v1 calls
// with the tokens it obtained. Plain HTTP on loopback needs allowInsecureRequests.
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { authorizeInBrowser, registerApp, type App } from './support.ts';

const insecure = { [oauth.allowInsecureRequests]: true };

describe('oauth4webapi completes every flow against the server', () => {
  let as: oauth.AuthorizationServer;
  let app: App;
  let client: oauth.Client;
  let clientAuth: oauth.ClientAuth;

  const api = useIdentityServer();
  beforeAll(async () => {
    const issuer = new URL(api.server.issuer);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    app = await registerApp(api.server, { scopes: ['workflows:read', 'workflows:write', 'runs:read'] });
    client = { client_id: app.client_id };
    clientAuth = oauth.ClientSecretBasic(app.client_secret!);
  });

  test('discovery: the metadata names this server as issuer and its endpoints', () => {
    expect(as.issuer).toBe(api.server.issuer);
    expect(as.token_endpoint).toBe(`${api.server.issuer}/oauth/token`);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
  });

  test('authorization code + PKCE, refresh, introspection, revocation; the tokens work on /v1', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', app.redirect_uris[0]!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'workflows:read runs:read');
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');

    const { location } = await authorizeInBrowser(api.server.baseUrl, url.toString(), api.server.owner);
    expect(`${location.origin}${location.pathname}`).toBe(app.redirect_uris[0]);
    const params = oauth.validateAuthResponse(as, client, location, state);

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        params,
        app.redirect_uris[0]!,
        verifier,
        insecure,
      ),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('workflows:read runs:read');
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // The access token works on /v1 within its scopes, as an OAuth principal.
    const verify = await api.as(tokens.access_token).GET('/v1/auth/verify');
    expect(verify.status).toBe(200);
    expect(verify.data?.data).toMatchObject({
      auth_method: 'oauth',
      client_id: app.client_id,
      scopes: ['workflows:read', 'runs:read'],
    });
    const list = await oauth.protectedResourceRequest(
      tokens.access_token,
      'GET',
      new URL(`${api.server.baseUrl}/v1/workflows`),
      undefined,
      undefined,
      insecure,
    );
    expect(list.status).toBe(200);
    // workflows:write was registered but not asked for: not granted.
    const create = await api.as(tokens.access_token).POST('/v1/workflows', {
      body: { name: 'x', trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'hi' }] },
    });
    expect(create.status).toBe(403);
    expect(create.error?.error.code).toBe('insufficient_scope');

    // Introspection sees the access token and the refresh token.
    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure),
    );
    expect(introspected).toMatchObject({
      active: true,
      client_id: app.client_id,
      scope: 'workflows:read runs:read',
      iss: api.server.issuer,
      username: api.server.owner.email,
      token_type: 'Bearer',
    });

    // Refresh: a new pair, the old refresh token retired.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await api.as(refreshed.access_token).GET('/v1/runs')).status).toBe(200);
    const old = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.refresh_token!, insecure),
    );
    expect(old.active).toBe(false);

    // Revocation of the access token: it stops working at once.
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, clientAuth, refreshed.access_token, insecure),
    );
    const afterRevoke = await api.as(refreshed.access_token).GET('/v1/runs');
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.error?.error.code).toBe('token_revoked');
    expect(
      (
        await oauth.processIntrospectionResponse(
          as,
          client,
          await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, insecure),
        )
      ).active,
    ).toBe(false);

    // Revocation of the refresh token ends the grant.
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, insecure),
    );
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token!, insecure),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('client credentials: the app acts on its own in its project, within its scopes', async () => {
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { scope: 'workflows:read' }, insecure),
    );
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('workflows:read');
    const verify = await api.as(tokens.access_token).GET('/v1/auth/verify');
    expect(verify.data?.data).toMatchObject({
      auth_method: 'oauth',
      user_id: null,
      client_id: app.client_id,
      project_id: api.server.projectId,
      environment: 'test',
    });
    expect((await api.as(tokens.access_token).GET('/v1/workflows')).status).toBe(200);
    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure),
    );
    expect(introspected).toMatchObject({ active: true, sub: app.client_id });
    expect(introspected.username).toBeUndefined();
  });

  test('client_secret_post and a public app with PKCE work too', async () => {
    const postApp = await registerApp(api.server, {
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
    });
    const postClient = { client_id: postApp.client_id };
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      postClient,
      await oauth.clientCredentialsGrantRequest(
        as,
        postClient,
        oauth.ClientSecretPost(postApp.client_secret!),
        {},
        insecure,
      ),
    );
    expect(tokens.scope).toBe('workflows:read runs:read');

    const publicApp = await registerApp(api.server, {
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['http://127.0.0.1:8765/callback'],
    });
    const publicClient = { client_id: publicApp.client_id, token_endpoint_auth_method: 'none' };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', publicApp.client_id);
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:8765/callback');
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    const { location } = await authorizeInBrowser(api.server.baseUrl, url.toString(), api.server.owner);
    const params = oauth.validateAuthResponse(as, publicClient, location, oauth.expectNoState);
    const publicTokens = await oauth.processAuthorizationCodeResponse(
      as,
      publicClient,
      await oauth.authorizationCodeGrantRequest(
        as,
        publicClient,
        oauth.None(),
        params,
        'http://127.0.0.1:8765/callback',
        verifier,
        insecure,
      ),
    );
    expect((await api.as(publicTokens.access_token).GET('/v1/workflows')).status).toBe(200);
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      publicClient,
      await oauth.refreshTokenGrantRequest(as, publicClient, oauth.None(), publicTokens.refresh_token!, insecure),
    );
    expect(refreshed.access_token).toEqual(expect.any(String));
    // A public app revokes its own tokens with its client_id alone.
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, publicClient, oauth.None(), refreshed.refresh_token!, insecure),
    );
    expect((await api.as(refreshed.access_token).GET('/v1/workflows')).error?.error?.code).toBe('token_revoked');
  });
});
