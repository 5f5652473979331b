// Registering OAuth apps: the rules of the contract enforced by the server, the
// secret shown once and stored only as a keyed hash, scopes capped by the
// registering credential, and apps kept to their project and environment.
import { describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { auditEntries, login, oauthForm, REDIRECT_URI, registerApp } from './support.ts';

describe('OAuth app registration', () => {
  const api = useIdentityServer();

  const create = (body: Record<string, unknown>, token = api.server.secretKey) =>
    api.as(token).POST('/v1/oauth/clients', {
      body: {
        name: 'Acme Reports',
        client_type: 'confidential',
        redirect_uris: [REDIRECT_URI],
        scopes: ['workflows:read'],
        ...body,
      },
    });

  test('a confidential app gets its secret once; only a keyed hash is stored; defaults are filled in', async () => {
    const response = await create({});
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const app = response.data!.data;
    expect(app).toMatchObject({
      client_type: 'confidential',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(app.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const read = await api.client.GET('/v1/oauth/clients/{client_id}', {
      params: { path: { client_id: app.client_id } },
    });
    expect(read.data?.data).not.toHaveProperty('client_secret');
    const listed = await api.client.GET('/v1/oauth/clients');
    expect(JSON.stringify(listed.data)).not.toContain(app.client_secret);
    const rows = JSON.stringify(await api.server.server.database.db.selectFrom('oauth_clients').selectAll().execute());
    expect(rows).not.toContain(app.client_secret);
    const audit = await auditEntries(api.server, 'oauth_client.created');
    expect(audit.at(-1)).toMatchObject({ resource_id: app.client_id });
    expect(JSON.stringify(audit)).not.toContain(app.client_secret);
    expect(api.server.logs.join('')).not.toContain(app.client_secret);
  });

  test('a public app has no secret and authenticates with none', async () => {
    const response = await create({ client_type: 'public', redirect_uris: ['http://127.0.0.1:8765/callback'] });
    expect(response.status).toBe(201);
    expect(response.data?.data).toMatchObject({ client_secret: null, token_endpoint_auth_method: 'none' });
  });

  test('the registration rules hold (400 validation_failed)', async () => {
    const refused = [
      {
        client_type: 'public',
        redirect_uris: ['http://127.0.0.1:8765/callback'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      { client_type: 'public', redirect_uris: ['http://127.0.0.1:8765/callback'], grant_types: ['client_credentials'] },
      { token_endpoint_auth_method: 'none' },
      { grant_types: ['refresh_token'] },
      { redirect_uris: ['http://app.example.com/callback'] },
      { redirect_uris: ['https://app.example.com/cb#frag'] },
      { redirect_uris: ['https://*.example.com/cb'] },
      { redirect_uris: ['myapp://callback'] },
      { scopes: ['workflows:admin'] },
      { scopes: [] },
      { name: 'Bad\u0000name' },
    ];
    for (const body of refused) {
      const response = await create(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.error?.error.code).toBe('validation_failed');
    }
  });

  test('an app cannot be given scopes its registering credential lacks (403 scope_escalation)', async () => {
    const restricted = await api.client.POST('/v1/auth/api-keys', {
      body: { name: 'apps only', type: 'secret', scopes: ['apps:write', 'workflows:read'] },
    });
    const key = restricted.data!.data.secret;
    expect((await create({ scopes: ['workflows:read'] }, key)).status).toBe(201);
    const response = await create({ scopes: ['workflows:read', 'connections:write'] }, key);
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('scope_escalation');
  });

  test('apps belong to a project and environment: a live session does not see test apps', async () => {
    const testApp = await registerApp(api.server);
    const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    expect(
      (
        await api
          .as(session.token)
          .GET('/v1/oauth/clients/{client_id}', { params: { path: { client_id: testApp.client_id } } })
      ).status,
    ).toBe(404);
    expect(
      (
        await api
          .as(session.token)
          .DELETE('/v1/oauth/clients/{client_id}', { params: { path: { client_id: testApp.client_id } } })
      ).status,
    ).toBe(404);
    const liveApp = await api.as(session.token).POST('/v1/oauth/clients', {
      body: {
        name: 'Live app',
        client_type: 'confidential',
        redirect_uris: [REDIRECT_URI],
        scopes: ['workflows:read'],
        grant_types: ['client_credentials'],
      },
    });
    expect(liveApp.status).toBe(201);
    const ids = (
      await api.as(session.token).GET('/v1/oauth/clients', { params: { query: { limit: 100 } } })
    ).data!.data.map((a: { client_id: string }) => a.client_id);
    expect(ids).toEqual([liveApp.data?.data.client_id]);
    // Its client-credentials tokens act on live data.
    const token = await oauthForm(
      api.server.baseUrl,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { id: liveApp.data!.data.client_id, secret: liveApp.data!.data.client_secret! },
    );
    expect((await api.as(token.body.access_token).GET('/v1/auth/verify')).data?.data.environment).toBe('live');
  });

  test('listing is paginated newest first; delete is audited', async () => {
    const created = [
      await registerApp(api.server, { name: 'One' }),
      await registerApp(api.server, { name: 'Two' }),
      await registerApp(api.server, { name: 'Three' }),
    ];
    const first = await api.client.GET('/v1/oauth/clients', { params: { query: { limit: 2 } } });
    expect(first.data?.data.map((a: { name: string }) => a.name)).toEqual(['Three', 'Two']);
    const second = await api.client.GET('/v1/oauth/clients', {
      params: { query: { limit: 2, cursor: first.data!.next_cursor! } },
    });
    expect(second.data?.data[0]?.name).toBe('One');
    const deleted = await api.client.DELETE('/v1/oauth/clients/{client_id}', {
      params: { path: { client_id: created[0]!.client_id } },
    });
    expect(deleted.data?.data).toEqual({ id: created[0]!.client_id, deleted: true });
    expect(
      (
        await api.client.GET('/v1/oauth/clients/{client_id}', {
          params: { path: { client_id: created[0]!.client_id } },
        })
      ).status,
    ).toBe(404);
    expect((await auditEntries(api.server, 'oauth_client.deleted')).at(-1)).toMatchObject({
      resource_id: created[0]!.client_id,
    });
  });
});
