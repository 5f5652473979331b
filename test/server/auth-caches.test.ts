// Authentication caches what it reads on every request (verified API keys, token
// families, revocation answers, account plans: src/cache/). These tests warm the
// caches first, then change what they hold, and check that the very next request
// sees the change: through the API, through the services, and through another
// process writing the SQLite file beside the server (what `npm run admin` does).
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/auth/scopes.ts';
import { useTestServer } from '../support/api.ts';
import { otherConnection, sqliteOnly } from '../support/other-process.ts';
import { login } from '../identity/support.ts';
import { createKeyViaApi } from './auth-helpers.ts';

const api = useTestServer({ plan: 'free' });

const WARM = 5;
async function warm(credential: string, path: '/v1/workflows' | '/v1/runs' = '/v1/workflows'): Promise<void> {
  for (let i = 0; i < WARM; i++) expect((await api.as(credential).GET(path)).status).toBe(200);
}

const newKey = (scopes: Scope[] = ['workflows:read']) =>
  createKeyViaApi(api.server, api.server.secretKey, { type: 'secret', scopes });

describe('a verified API key, cached', () => {
  it('is refused on the next request after DELETE /v1/auth/api-keys/{id}', async () => {
    const key = await newKey();
    await warm(key.secret);
    expect(
      (await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } })).status,
    ).toBe(200);
    const refused = await api.as(key.secret).GET('/v1/workflows');
    expect(refused.status).toBe(401);
    expect(refused.error?.error.code).toBe('revoked_api_key');
  });

  it('is refused on the next request after a leaked-key report', async () => {
    const key = await newKey();
    await warm(key.secret);
    expect(
      (await api.as(null).POST('/v1/credentials/revoke', { body: { credential: key.secret } })).status,
    ).toBeLessThan(300);
    expect((await api.as(key.secret).GET('/v1/workflows')).error?.error.code).toBe('revoked_api_key');
  });

  it('answers with X-Key-Expires-At on the next request after a rotation with a grace period, and is refused after one without', async () => {
    const key = await newKey();
    await warm(key.secret);
    const rotated = await api.client.POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const old = await api.as(key.secret).GET('/v1/workflows');
    expect(old.status).toBe(200);
    expect(old.headers.get('x-key-expires-at')).toEqual(expect.any(String));

    await warm(rotated.data!.data.secret);
    const again = await api.client.POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 0 },
    });
    expect(again.status).toBe(200);
    const refused = await api.as(rotated.data!.data.secret).GET('/v1/workflows');
    expect(refused.status).toBe(401);
    expect(refused.error?.error.code).toBe('expired_api_key');
    expect((await api.as(again.data!.data.secret).GET('/v1/workflows')).status).toBe(200);
  });

  it('carries the new plan on the next request after the plan changes', async () => {
    const key = await newKey();
    await warm(key.secret);
    const policy = async () => (await api.as(key.secret).GET('/v1/workflows')).headers.get('ratelimit-policy') ?? '';
    const before = await policy();
    await api.server.server.services.accounts.setPlan(api.server.accountId, 'enterprise');
    try {
      const after = await policy();
      expect(after).not.toBe(before);
      // The test server's limits are the defaults times 100: enterprise is 1000/min, free 60/min.
      expect(after).toContain('"plan-minute";q=100000');
    } finally {
      await api.server.server.services.accounts.setPlan(api.server.accountId, 'free');
    }
    expect(await policy()).toBe(before);
  });

  sqliteOnly('is refused on the next request after another process revokes it in the SQLite file', async () => {
    const key = await newKey();
    await warm(key.secret);
    const other = otherConnection(api.server);
    try {
      other.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(new Date().toISOString(), key.id);
    } finally {
      other.close();
    }
    expect((await api.as(key.secret).GET('/v1/workflows')).error?.error.code).toBe('revoked_api_key');
  });

  sqliteOnly('loses a scope on the next request when another process narrows it in the SQLite file', async () => {
    const key = await newKey(['workflows:read', 'runs:read']);
    await warm(key.secret, '/v1/runs');
    const other = otherConnection(api.server);
    try {
      other.prepare('UPDATE api_keys SET scopes = ? WHERE id = ?').run(JSON.stringify(['workflows:read']), key.id);
    } finally {
      other.close();
    }
    const refused = await api.as(key.secret).GET('/v1/runs');
    expect(refused.status).toBe(403);
    expect(refused.error?.error.code).toBe('insufficient_scope');
  });
});

describe('a session, cached', () => {
  it('is refused on the next request after logout', async () => {
    const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    await warm(session.token);
    expect((await api.as(session.token).POST('/v1/auth/logout', { body: {} })).status).toBe(200);
    const refused = await api.as(session.token).GET('/v1/workflows');
    expect(refused.status).toBe(401);
    expect(refused.error?.error.code).toBe('token_revoked');
  });

  sqliteOnly('is refused on the next request after another process revokes its family in the SQLite file', async () => {
    const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    await warm(session.token);
    const other = otherConnection(api.server);
    try {
      other
        .prepare('UPDATE token_families SET revoked_at = ?, revoked_reason = ? WHERE revoked_at IS NULL')
        .run(new Date().toISOString(), 'password_reset');
    } finally {
      other.close();
    }
    expect((await api.as(session.token).GET('/v1/workflows')).error?.error.code).toBe('token_revoked');
  });
});
