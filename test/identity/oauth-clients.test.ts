// Registering OAuth apps: the rules of the contract enforced by the server, the
// secret shown once and stored only as a keyed hash, scopes capped by the
// registering credential, and apps kept to their project and environment.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, auditEntries, login, oauthForm, REDIRECT_URI, registerApp, startIdentityServer, type IdentityServer } from './support.ts';

describe('OAuth app registration', () => {
  let server: IdentityServer;

  beforeAll(async () => {
    server = await startIdentityServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const create = (body: Record<string, unknown>, token = server.secretKey) =>
    api(server.baseUrl, 'POST', '/v1/oauth/clients', { token, body: { name: 'Acme Reports', client_type: 'confidential', redirect_uris: [REDIRECT_URI], scopes: ['workflows:read'], ...body } });

  test('a confidential app gets its secret once; only a keyed hash is stored; defaults are filled in', async () => {
    const response = await create({});
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const app = response.body.data;
    expect(app).toMatchObject({ client_type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'] });
    expect(app.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const read = await api(server.baseUrl, 'GET', `/v1/oauth/clients/${app.client_id}`, { token: server.secretKey });
    expect(read.body.data).not.toHaveProperty('client_secret');
    const listed = await api(server.baseUrl, 'GET', '/v1/oauth/clients', { token: server.secretKey });
    expect(JSON.stringify(listed.body)).not.toContain(app.client_secret);
    const rows = JSON.stringify(await server.server.database.db.selectFrom('oauth_clients').selectAll().execute());
    expect(rows).not.toContain(app.client_secret);
    const audit = await auditEntries(server, 'oauth_client.created');
    expect(audit.at(-1)).toMatchObject({ resource_id: app.client_id });
    expect(JSON.stringify(audit)).not.toContain(app.client_secret);
    expect(server.logs.join('')).not.toContain(app.client_secret);
  });

  test('a public app has no secret and authenticates with none', async () => {
    const response = await create({ client_type: 'public', redirect_uris: ['http://127.0.0.1:8765/callback'] });
    expect(response.status).toBe(201);
    expect(response.body.data).toMatchObject({ client_secret: null, token_endpoint_auth_method: 'none' });
  });

  test('the registration rules hold (400 validation_failed)', async () => {
    const refused = [
      { client_type: 'public', redirect_uris: ['http://127.0.0.1:8765/callback'], token_endpoint_auth_method: 'client_secret_basic' },
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
      expect(response.body.error.code).toBe('validation_failed');
    }
  });

  test('an app cannot be given scopes its registering credential lacks (403 scope_escalation)', async () => {
    const restricted = await api(server.baseUrl, 'POST', '/v1/auth/api-keys', { token: server.secretKey, body: { name: 'apps only', type: 'secret', scopes: ['apps:write', 'workflows:read'] } });
    const key = restricted.body.data.secret as string;
    expect((await create({ scopes: ['workflows:read'] }, key)).status).toBe(201);
    const response = await create({ scopes: ['workflows:read', 'connections:write'] }, key);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('scope_escalation');
  });

  test('apps belong to a project and environment: a live session does not see test apps', async () => {
    const testApp = await registerApp(server);
    const session = await login(server.baseUrl, server.owner.email, server.owner.password);
    expect((await api(server.baseUrl, 'GET', `/v1/oauth/clients/${testApp.client_id}`, { token: session.token })).status).toBe(404);
    expect((await api(server.baseUrl, 'DELETE', `/v1/oauth/clients/${testApp.client_id}`, { token: session.token })).status).toBe(404);
    const liveApp = await api(server.baseUrl, 'POST', '/v1/oauth/clients', { token: session.token, body: { name: 'Live app', client_type: 'confidential', redirect_uris: [REDIRECT_URI], scopes: ['workflows:read'], grant_types: ['client_credentials'] } });
    expect(liveApp.status).toBe(201);
    const ids = (await api(server.baseUrl, 'GET', '/v1/oauth/clients?limit=100', { token: session.token })).body.data.map((a: { client_id: string }) => a.client_id);
    expect(ids).toEqual([liveApp.body.data.client_id]);
    // Its client-credentials tokens act on live data.
    const token = await oauthForm(server.baseUrl, '/oauth/token', { grant_type: 'client_credentials' }, { id: liveApp.body.data.client_id, secret: liveApp.body.data.client_secret });
    expect((await api(server.baseUrl, 'GET', '/v1/auth/verify', { token: token.body.access_token })).body.data.environment).toBe('live');
  });

  test('listing is paginated newest first; delete is audited', async () => {
    const created = [await registerApp(server, { name: 'One' }), await registerApp(server, { name: 'Two' }), await registerApp(server, { name: 'Three' })];
    const first = await api(server.baseUrl, 'GET', '/v1/oauth/clients?limit=2', { token: server.secretKey });
    expect(first.body.data.map((a: { name: string }) => a.name)).toEqual(['Three', 'Two']);
    const second = await api(server.baseUrl, 'GET', `/v1/oauth/clients?limit=2&cursor=${first.body.next_cursor}`, { token: server.secretKey });
    expect(second.body.data[0].name).toBe('One');
    const deleted = await api(server.baseUrl, 'DELETE', `/v1/oauth/clients/${created[0]!.client_id}`, { token: server.secretKey });
    expect(deleted.body.data).toEqual({ id: created[0]!.client_id, deleted: true });
    expect((await api(server.baseUrl, 'GET', `/v1/oauth/clients/${created[0]!.client_id}`, { token: server.secretKey })).status).toBe(404);
    expect((await auditEntries(server, 'oauth_client.deleted')).at(-1)).toMatchObject({ resource_id: created[0]!.client_id });
  });
});
