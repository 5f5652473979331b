// Authentication caches what it reads on every request (verified API keys, token
// families, revocation answers, account plans: src/cache/). These tests warm the
// caches first, then change what they hold, and check that the very next request
// sees the change: through the API, through the services, and through another
// process writing the SQLite file beside the server (what `npm run admin` does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { otherConnection, sqliteOnly } from '../support/other-process.ts';
import { login } from '../identity/support.ts';
import { createKeyViaApi } from './auth-helpers.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ plan: 'free' });
});
afterAll(() => server.close());

const WARM = 5;
async function warm(credential: string, path = '/v1/workflows'): Promise<void> {
  for (let i = 0; i < WARM; i++) expect((await call(server, 'GET', path, { key: credential })).status).toBe(200);
}

const newKey = (scopes = ['workflows:read']) => createKeyViaApi(server, server.secretKey, { type: 'secret', scopes });

describe('a verified API key, cached', () => {
  it('is refused on the next request after DELETE /v1/auth/api-keys/{id}', async () => {
    const key = await newKey();
    await warm(key.secret);
    expect((await call(server, 'DELETE', `/v1/auth/api-keys/${key.id}`, { key: server.secretKey })).status).toBe(200);
    const refused = await call(server, 'GET', '/v1/workflows', { key: key.secret });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('revoked_api_key');
  });

  it('is refused on the next request after a leaked-key report', async () => {
    const key = await newKey();
    await warm(key.secret);
    expect((await call(server, 'POST', '/v1/credentials/revoke', { body: { credential: key.secret } })).status).toBeLessThan(300);
    expect((await call(server, 'GET', '/v1/workflows', { key: key.secret })).body.error.code).toBe('revoked_api_key');
  });

  it('answers with X-Key-Expires-At on the next request after a rotation with a grace period, and is refused after one without', async () => {
    const key = await newKey();
    await warm(key.secret);
    const rotated = await call(server, 'POST', `/v1/auth/api-keys/${key.id}/rotate`, { key: server.secretKey, body: { grace_period_seconds: 3600 } });
    expect(rotated.status).toBe(200);
    const old = await call(server, 'GET', '/v1/workflows', { key: key.secret });
    expect(old.status).toBe(200);
    expect(old.headers.get('x-key-expires-at')).toEqual(expect.any(String));

    await warm(rotated.body.data.secret);
    const again = await call(server, 'POST', `/v1/auth/api-keys/${key.id}/rotate`, { key: server.secretKey, body: { grace_period_seconds: 0 } });
    expect(again.status).toBe(200);
    const refused = await call(server, 'GET', '/v1/workflows', { key: rotated.body.data.secret });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('expired_api_key');
    expect((await call(server, 'GET', '/v1/workflows', { key: again.body.data.secret })).status).toBe(200);
  });

  it('carries the new plan on the next request after the plan changes', async () => {
    const key = await newKey();
    await warm(key.secret);
    const policy = async () => (await call(server, 'GET', '/v1/workflows', { key: key.secret })).headers.get('ratelimit-policy') ?? '';
    const before = await policy();
    await server.server.services.accounts.setPlan(server.accountId, 'enterprise');
    try {
      const after = await policy();
      expect(after).not.toBe(before);
      // The test server's limits are the defaults times 100: enterprise is 1000/min, free 60/min.
      expect(after).toContain('"plan-minute";q=100000');
    } finally {
      await server.server.services.accounts.setPlan(server.accountId, 'free');
    }
    expect(await policy()).toBe(before);
  });

  sqliteOnly('is refused on the next request after another process revokes it in the SQLite file', async () => {
    const key = await newKey();
    await warm(key.secret);
    const other = otherConnection(server);
    try {
      other.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(new Date().toISOString(), key.id);
    } finally {
      other.close();
    }
    expect((await call(server, 'GET', '/v1/workflows', { key: key.secret })).body.error.code).toBe('revoked_api_key');
  });

  sqliteOnly('loses a scope on the next request when another process narrows it in the SQLite file', async () => {
    const key = await newKey(['workflows:read', 'runs:read']);
    await warm(key.secret, '/v1/runs');
    const other = otherConnection(server);
    try {
      other.prepare('UPDATE api_keys SET scopes = ? WHERE id = ?').run(JSON.stringify(['workflows:read']), key.id);
    } finally {
      other.close();
    }
    const refused = await call(server, 'GET', '/v1/runs', { key: key.secret });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('insufficient_scope');
  });
});

describe('a session, cached', () => {
  it('is refused on the next request after logout', async () => {
    const session = await login(server.baseUrl, server.owner.email, server.owner.password);
    await warm(session.token);
    expect((await call(server, 'POST', '/v1/auth/logout', { key: session.token, body: {} })).status).toBe(200);
    const refused = await call(server, 'GET', '/v1/workflows', { key: session.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('token_revoked');
  });

  sqliteOnly('is refused on the next request after another process revokes its family in the SQLite file', async () => {
    const session = await login(server.baseUrl, server.owner.email, server.owner.password);
    await warm(session.token);
    const other = otherConnection(server);
    try {
      other.prepare('UPDATE token_families SET revoked_at = ?, revoked_reason = ? WHERE revoked_at IS NULL').run(new Date().toISOString(), 'password_reset');
    } finally {
      other.close();
    }
    expect((await call(server, 'GET', '/v1/workflows', { key: session.token })).body.error.code).toBe('token_revoked');
  });
});
