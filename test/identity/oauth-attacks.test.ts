// Attacks on the OAuth authorization server, each shown to fail: code replay (which
// also revokes what the code issued), PKCE mismatch and downgrade, redirect URI
// mismatch and open-redirect attempts, consent without (or with someone else's)
// CSRF token, refresh-token reuse, one app using another app's code or tokens,
// client authentication failures, scope escalation.
import { beforeAll, describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import {
  auditEntries,
  authorizationCode,
  authorizationUrl,
  authorizeInBrowser,
  Browser,
  exchangeCode,
  formFields,
  MINUTE,
  movableClock,
  oauthForm,
  pkcePair,
  REDIRECT_URI,
  registerApp,
  type App,
} from './support.ts';

const MEMBER = { email: 'member@example.com', password: 'member password 12345' };

describe('OAuth authorization server: attacks fail', () => {
  const time = movableClock();
  let app: App;
  let otherApp: App;

  const api = useIdentityServer({ clock: time.clock });
  beforeAll(async () => {
    app = await registerApp(api.server);
    otherApp = await registerApp(api.server, { name: 'Other app' });
    await api.server.server.services.accounts.createUser({
      accountId: api.server.accountId,
      projectId: api.server.projectId,
      email: MEMBER.email,
      name: 'Member',
      password: MEMBER.password,
      role: 'member',
    });
  });

  const basic = (a: App) => ({ id: a.client_id, secret: a.client_secret! });
  const verify = (token: string) => api.as(token).GET('/v1/auth/verify');
  const request = (a: App, extra: Record<string, string | undefined> = {}) => {
    const pkce = pkcePair();
    return {
      pkce,
      url: authorizationUrl(api.server.baseUrl, {
        response_type: 'code',
        client_id: a.client_id,
        redirect_uri: a.redirect_uris[0],
        scope: 'workflows:read',
        state: 'state-123',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
        ...extra,
      }),
    };
  };
  /** GET /oauth/authorize as a browser; the page must never redirect. */
  const expectErrorPage = async (url: string) => {
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toContain('text/html');
    return response.text();
  };
  /** GET /oauth/authorize must redirect to the app with `error`. */
  const expectRedirectedError = async (url: string, error: string) => {
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('state-123');
    return location;
  };

  test('a replayed code is refused and revokes every token the first exchange issued', async () => {
    const { code, verifier } = await authorizationCode(api.server, app, { scope: 'workflows:read' });
    const first = await exchangeCode(api.server, app, code, verifier);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.headers.get('pragma')).toBe('no-cache');
    expect((await verify(first.body.access_token)).status).toBe(200);

    const replay = await exchangeCode(api.server, app, code, verifier);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await verify(first.body.access_token)).error?.error.code).toBe('token_revoked');
    const refresh = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token },
      basic(app),
    );
    expect(refresh.body.error).toBe('invalid_grant');
    const entries = await auditEntries(api.server, 'oauth.code_replayed');
    expect(entries.at(-1)).toMatchObject({ actor_client_id: app.client_id, outcome: 'denied' });
  });

  test('PKCE: a wrong or missing verifier is refused and does not spend the code; the right one works', async () => {
    const { code, verifier } = await authorizationCode(api.server, app);
    const missing = await exchangeCode(api.server, app, code, undefined);
    expect(missing.body.error).toBe('invalid_request');
    const wrong = await exchangeCode(api.server, app, code, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    // One character changed (a verifier ending in "A" gets a "B": 1 in 64 verifiers did end in "A").
    const tampered = `${verifier.slice(0, -1)}${verifier.endsWith('A') ? 'B' : 'A'}`;
    expect((await exchangeCode(api.server, app, code, tampered)).body.error).toBe('invalid_grant');
    expect((await exchangeCode(api.server, app, code, verifier)).status).toBe(200);
  });

  test('PKCE: plain is refused, a public app must use it, a challenge needs S256', async () => {
    await expectRedirectedError(request(app, { code_challenge_method: 'plain' }).url, 'invalid_request');
    await expectRedirectedError(request(app, { code_challenge_method: undefined }).url, 'invalid_request');
    await expectRedirectedError(request(app, { code_challenge: 'too-short' }).url, 'invalid_request');
    const publicApp = await registerApp(api.server, {
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
    });
    await expectRedirectedError(
      request(publicApp, { code_challenge: undefined, code_challenge_method: undefined }).url,
      'invalid_request',
    );
    // A code issued without PKCE (confidential app) cannot be redeemed with a verifier planted later.
    const url = request(app, { code_challenge: undefined, code_challenge_method: undefined }).url;
    const { location } = await authorizeInBrowser(api.server.baseUrl, url, api.server.owner);
    const code = location.searchParams.get('code')!;
    expect((await exchangeCode(api.server, app, code, pkcePair().verifier)).body.error).toBe('invalid_grant');
    expect((await exchangeCode(api.server, app, code, undefined)).status).toBe(200);
  });

  test('redirect URI mismatches and open-redirect attempts are shown on a page, never redirected', async () => {
    const attempts = [
      'https://evil.example.com/oauth/callback',
      `${REDIRECT_URI}/extra`,
      `${REDIRECT_URI}?next=https://evil.example.com`,
      `${REDIRECT_URI}#fragment`,
      `${REDIRECT_URI}/../../evil`,
      'https://app.example-reports.com.evil.example.com/oauth/callback',
      'https://evil.example.com@app.example-reports.com/oauth/callback',
      'https://APP.example-reports.com/oauth/callback',
      'https://app.example-reports.com:8443/oauth/callback',
      'http://app.example-reports.com/oauth/callback',
      '//evil.example.com/oauth/callback',
      'javascript:alert(document.cookie)',
      '',
    ];
    for (const redirectUri of attempts) {
      const html = await expectErrorPage(request(app, { redirect_uri: redirectUri }).url);
      expect(html).toContain('not registered');
    }
    // Even a request that is also wrong in other ways is not redirected to an unregistered URI.
    await expectErrorPage(request(app, { redirect_uri: 'https://evil.example.com/cb', response_type: 'token' }).url);
    // Unknown or deleted app: a page too.
    expect(await expectErrorPage(request({ ...app, client_id: 'cli_000000000000000000000000' }).url)).toContain(
      'Unknown app',
    );
    // The token endpoint checks the redirect URI against the one of the authorization request.
    const { code, verifier } = await authorizationCode(api.server, app);
    expect((await exchangeCode(api.server, app, code, verifier, `${REDIRECT_URI}/other`)).body.error).toBe(
      'invalid_grant',
    );
  });

  test('the form post checks the app and redirect URI again, and never redirects to an unregistered URI', async () => {
    const browser = new Browser(api.server.baseUrl);
    const page = await browser.get(request(app).url);
    const fields = formFields(await page.text());
    const response = await browser.post('/oauth/authorize', {
      ...fields,
      redirect_uri: 'https://evil.example.com/cb',
      action: 'deny',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  test('consent without the CSRF token, with a wrong one, or with one from another session grants nothing (403)', async () => {
    const victim = new Browser(api.server.baseUrl);
    const page = await victim.get(request(app).url);
    const login = formFields(await page.text());
    const consent = await victim.post('/oauth/authorize', {
      ...login,
      email: api.server.owner.email,
      password: api.server.owner.password,
      action: 'login',
    });
    const fields = formFields(await consent.text());
    expect(fields.csrf_token).toBeTruthy();

    const { csrf_token: _, ...withoutToken } = fields;
    const attempts = [
      { ...withoutToken, action: 'approve' },
      { ...fields, csrf_token: 'forged-token', action: 'approve' },
      {
        ...fields,
        csrf_token: `${fields.csrf_token!.slice(0, -2)}${fields.csrf_token!.endsWith('00') ? '11' : '00'}`,
        action: 'approve',
      },
    ];
    // An attacker's own, valid token from their own page, posted with the victim's cookie.
    const attacker = new Browser(api.server.baseUrl);
    const attackerFields = formFields(await (await attacker.get(request(app).url)).text());
    attempts.push({ ...fields, csrf_token: attackerFields.csrf_token!, action: 'approve' });
    for (const attempt of attempts) {
      const response = await victim.post('/oauth/authorize', attempt);
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
    }
    // A cross-site post carries no cookie (SameSite=Lax): refused too, even with a genuine token.
    const response = await fetch(`${api.server.baseUrl}/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, action: 'approve' }),
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    // The CSRF token expires with the session (30 minutes).
    time.advance(31 * MINUTE);
    expect((await victim.post('/oauth/authorize', { ...fields, action: 'approve' })).status).toBe(403);
    time.advance(-31 * MINUTE);
    // With everything right, the same form works.
    const good = await victim.post('/oauth/authorize', { ...fields, action: 'approve' });
    expect(good.status).toBe(302);
  });

  test('the page sets a __Host- cookie (HttpOnly, Secure, SameSite) and a new one after sign-in, and cannot be framed', async () => {
    const browser = new Browser(api.server.baseUrl);
    const page = await browser.get(request(app).url);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    const cookie = browser.setCookies[0]!;
    expect(cookie).toMatch(
      /^__Host-aetherflow_oauth=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=1800; HttpOnly; Secure; SameSite=Lax$/,
    );
    const before = browser.cookies.get('__Host-aetherflow_oauth');
    await browser.post('/oauth/authorize', {
      ...formFields(await page.text()),
      email: api.server.owner.email,
      password: api.server.owner.password,
      action: 'login',
    });
    expect(browser.cookies.get('__Host-aetherflow_oauth')).not.toBe(before);
    // A planted cookie value is worthless: the page asks to sign in.
    const planted = new Browser(api.server.baseUrl);
    planted.cookies.set('__Host-aetherflow_oauth', before!);
    expect(await (await planted.get(request(app).url)).text()).toContain('name="password"');
  });

  test('a failed sign-in on the page says only that email or password is wrong', async () => {
    const browser = new Browser(api.server.baseUrl);
    const fields = formFields(await (await browser.get(request(app).url)).text());
    const texts: string[] = [];
    for (const email of [api.server.owner.email, 'nobody@example.com']) {
      const response = await browser.post('/oauth/authorize', {
        ...fields,
        email,
        password: 'wrong password',
        action: 'login',
      });
      expect(response.status).toBe(200);
      texts.push((await response.text()).replace(/value="[^"]*"/g, ''));
    }
    expect(texts[0]).toContain('The email or password is incorrect.');
    expect(texts[0]).toEqual(texts[1]);
    expect(
      (await auditEntries(api.server, 'auth.login_failed')).some(
        (e) => JSON.parse(e.metadata).channel === 'consent_page',
      ),
    ).toBe(true);
  });

  test('refresh-token reuse revokes the grant; a narrower scope is allowed, a wider one is not', async () => {
    const { code, verifier } = await authorizationCode(api.server, app);
    const tokens = (await exchangeCode(api.server, app, code, verifier)).body;
    const wider = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        scope: 'workflows:read runs:read workflows:write',
      },
      basic(app),
    );
    expect(wider.body.error).toBe('invalid_scope');
    const narrower = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'runs:read' },
      basic(app),
    );
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe('runs:read');
    expect((await api.as(narrower.body.access_token).GET('/v1/workflows')).status).toBe(403);
    // The next refresh without scope gets the whole original grant back.
    const full = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: narrower.body.refresh_token },
      basic(app),
    );
    expect(full.body.scope).toBe('workflows:read runs:read');

    const reuse = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      basic(app),
    );
    expect(reuse.body.error).toBe('invalid_grant');
    for (const token of [tokens.access_token, narrower.body.access_token, full.body.access_token]) {
      expect((await verify(token)).error?.error.code).toBe('token_revoked');
    }
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: full.body.refresh_token },
          basic(app),
        )
      ).body.error,
    ).toBe('invalid_grant');
    expect((await auditEntries(api.server, 'token.refresh_reuse_detected')).at(-1)).toMatchObject({
      actor_client_id: app.client_id,
    });
  });

  test("one app cannot use another app's code, refresh token or access token, nor learn about them", async () => {
    const { code, verifier } = await authorizationCode(api.server, app);
    const stolen = await exchangeCode(api.server, otherApp, code, verifier);
    expect(stolen.body.error).toBe('invalid_grant');
    // The rightful app's exchange still works: the attempt did not spend the code.
    const tokens = (await exchangeCode(api.server, app, code, verifier)).body;
    expect(tokens.access_token).toEqual(expect.any(String));

    const refresh = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      basic(otherApp),
    );
    expect(refresh.body.error).toBe('invalid_grant');
    for (const token of [tokens.access_token, tokens.refresh_token]) {
      const introspected = await oauthForm(api.server.baseUrl, '/oauth/introspect', { token }, basic(otherApp));
      expect(introspected.status).toBe(200);
      expect(introspected.body).toEqual({ active: false });
      const revoked = await oauthForm(api.server.baseUrl, '/oauth/revoke', { token }, basic(otherApp));
      expect(revoked.status).toBe(200);
    }
    // Untouched by the other app's attempts.
    expect((await verify(tokens.access_token)).status).toBe(200);
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
          basic(app),
        )
      ).status,
    ).toBe(200);
    // A session token is not an app's to introspect either.
    const session = await api.as(null).POST('/v1/auth/login', { body: api.server.owner });
    expect(
      (await oauthForm(api.server.baseUrl, '/oauth/introspect', { token: session.data?.data.token }, basic(app))).body,
    ).toEqual({ active: false });
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/introspect',
          { token: session.data?.data.refresh_token },
          basic(app),
        )
      ).body,
    ).toEqual({ active: false });
  });

  test('client authentication: wrong secret, unknown app, wrong method, two methods at once', async () => {
    const cases: Array<[Record<string, string>, { id: string; secret: string } | undefined, number, string]> = [
      [{ grant_type: 'client_credentials' }, { id: app.client_id, secret: 'wrong-secret' }, 401, 'invalid_client'],
      [
        { grant_type: 'client_credentials' },
        { id: 'cli_000000000000000000000000', secret: app.client_secret! },
        401,
        'invalid_client',
      ],
      // Registered for client_secret_basic, tries client_secret_post.
      [
        { grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret! },
        undefined,
        401,
        'invalid_client',
      ],
      // A confidential app cannot pass as public by leaving its secret out.
      [{ grant_type: 'client_credentials', client_id: app.client_id }, undefined, 401, 'invalid_client'],
      [{ grant_type: 'client_credentials' }, undefined, 401, 'invalid_client'],
      [{ grant_type: 'client_credentials', client_secret: app.client_secret! }, basic(app), 400, 'invalid_request'],
    ];
    for (const [form, credentials, status, error] of cases) {
      const response = await oauthForm(api.server.baseUrl, '/oauth/token', form, credentials);
      expect(response.status).toBe(status);
      expect(response.body.error).toBe(error);
      if (status === 401)
        expect(response.headers.get('www-authenticate')).toBe('Basic realm="aetherflow-oauth", charset="UTF-8"');
      expect(JSON.stringify(response.body)).not.toContain(app.client_secret!);
    }
    // Public apps cannot introspect.
    const publicApp = await registerApp(api.server, {
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
    });
    expect(
      (await oauthForm(api.server.baseUrl, '/oauth/introspect', { token: 'x', client_id: publicApp.client_id })).body
        .error,
    ).toBe('invalid_client');
  });

  test('grants and scopes: unknown grant, unregistered grant, scope beyond the registration', async () => {
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'password', username: 'a', password: 'b' },
          basic(app),
        )
      ).body.error,
    ).toBe('unsupported_grant_type');
    const machine = await registerApp(api.server, { grant_types: ['client_credentials'], scopes: ['workflows:read'] });
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'authorization_code', code: 'x' },
          basic(machine),
        )
      ).body.error,
    ).toBe('unauthorized_client');
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'client_credentials', scope: 'workflows:write' },
          basic(machine),
        )
      ).body.error,
    ).toBe('invalid_scope');
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'client_credentials', scope: 'everything' },
          basic(machine),
        )
      ).body.error,
    ).toBe('invalid_scope');
    await expectRedirectedError(request(machine).url, 'unauthorized_client');
    await expectRedirectedError(request(app, { scope: 'workflows:read keys:write' }).url, 'invalid_scope');
    await expectRedirectedError(request(app, { response_type: 'token' }).url, 'unsupported_response_type');
    expect(
      (await oauthForm(api.server.baseUrl, '/oauth/revoke', { token: 'x', token_type_hint: 'id_token' }, basic(app)))
        .body.error,
    ).toBe('unsupported_token_type');
  });

  test('granted scopes never exceed what the user holds: a member cannot hand out keys:write', async () => {
    const keysApp = await registerApp(api.server, { scopes: ['workflows:read', 'keys:write'] });
    const { code, verifier } = await authorizationCode(api.server, keysApp, {
      user: MEMBER,
      scope: 'workflows:read keys:write',
    });
    const tokens = (await exchangeCode(api.server, keysApp, code, verifier)).body;
    expect(tokens.scope).toBe('workflows:read');
    const created = await api
      .as(tokens.access_token)
      .POST('/v1/auth/api-keys', { body: { name: 'x', type: 'secret', scopes: ['workflows:read'] } });
    expect(created.status).toBe(403);
  });

  test('codes expire after 10 minutes', async () => {
    const { code, verifier } = await authorizationCode(api.server, app);
    time.advance(10 * MINUTE + 1000);
    expect((await exchangeCode(api.server, app, code, verifier)).body.error).toBe('invalid_grant');
    time.advance(-(10 * MINUTE + 1000));
  });

  test('deny sends the user back with access_denied and the state, verbatim', async () => {
    const state = 'a b&c=d/é?%20';
    const { location } = await authorizeInBrowser(api.server.baseUrl, request(app, { state }).url, api.server.owner, {
      action: 'deny',
    });
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe(state);
    expect((await auditEntries(api.server, 'oauth.consent_denied')).length).toBeGreaterThan(0);
    const approved = await authorizeInBrowser(api.server.baseUrl, request(app, { state }).url, api.server.owner);
    expect(approved.location.searchParams.get('state')).toBe(state);
    expect((await auditEntries(api.server, 'oauth.consent_granted')).at(-1)).toMatchObject({
      actor_user_id: expect.stringMatching(/^usr_/),
      resource_id: app.client_id,
    });
  });

  test('deleting an app revokes its tokens and its client_id stops working everywhere', async () => {
    const doomed = await registerApp(api.server, { name: 'Doomed' });
    const { code, verifier } = await authorizationCode(api.server, doomed);
    const userTokens = (await exchangeCode(api.server, doomed, code, verifier)).body;
    const machineToken = (
      await oauthForm(api.server.baseUrl, '/oauth/token', { grant_type: 'client_credentials' }, basic(doomed))
    ).body.access_token as string;
    const deleted = await api.client.DELETE('/v1/oauth/clients/{client_id}', {
      params: { path: { client_id: doomed.client_id } },
    });
    expect(deleted.status).toBe(200);
    for (const token of [userTokens.access_token, machineToken])
      expect((await verify(token)).error?.error.code).toBe('token_revoked');
    expect(
      (
        await oauthForm(
          api.server.baseUrl,
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: userTokens.refresh_token },
          basic(doomed),
        )
      ).body.error,
    ).toBe('invalid_client');
    expect(await expectErrorPage(request(doomed).url)).toContain('Unknown app');
  });
});
