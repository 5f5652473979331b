// The reach rule (src/auth/reach.ts), attack by attack: each test tries what a hostile
// key holder did before the rule existed and shows it now fails, then shows the same
// operation still works within reach. Every verdict is read by using the credentials
// over HTTP, not by reading rows.
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/auth/scopes.ts';
import { offContract, useTestServer } from '../support/api.ts';
import { BEHIND_PROXY, createKeyViaApi, fromIp, HOUR, manualClock, MINUTE, SECOND } from './auth-helpers.ts';

const INSIDE = '10.1.2.3';
const OUTSIDE = '203.0.113.5';
const time = manualClock(Date.parse('2026-12-07T09:00:00.000Z'));

const api = useTestServer({ clock: time.clock, env: BEHIND_PROXY });

/** GET /v1/auth/verify with `credential` from `ip`: the status, and the key id or client id it is. */
async function verify(credential: string, ip = INSIDE) {
  const response = await api.fromIp(ip, credential).GET('/v1/auth/verify');
  return { status: response.status, code: response.error?.error.code, data: response.data?.data };
}

async function fullKeyId(): Promise<string> {
  const { data } = await verify(api.server.secretKey);
  return data!.key_id!;
}

async function registerClientCredentialsApp(credential: string, scopes: Scope[], ip = INSIDE) {
  const response = await api.fromIp(ip, credential).POST('/v1/oauth/clients', {
    body: {
      name: 'Sync job',
      client_type: 'confidential',
      redirect_uris: ['https://sync.example.com/cb'],
      scopes,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  });
  if (response.status !== 201) throw new Error(`set-up: app registration answered ${response.status} ${response.text}`);
  return response.data!.data as {
    client_id: string;
    client_secret: string;
    allowed_ips: string[];
    expires_at: string | null;
  };
}

async function clientCredentialsToken(app: { client_id: string; client_secret: string }, ip: string) {
  const response = await fetch(`${api.server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromIp(ip) },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.client_id,
      client_secret: app.client_secret,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('attack 1: escalation through rotation, and revocation of a broader key', () => {
  it('a key holding only keys:write cannot rotate the full-access key, with or without grace; the full key keeps working', async () => {
    const target = await fullKeyId();
    const narrow = await createKeyViaApi(api.server, api.server.secretKey, { type: 'secret', scopes: ['keys:write'] });
    for (const body of [undefined, { grace_period_seconds: 0 }]) {
      const response = await api
        .fromIp(INSIDE, narrow.secret)
        .POST('/v1/auth/api-keys/{key_id}/rotate', { params: { path: { key_id: target } }, ...(body ? { body } : {}) });
      expect(response.status).toBe(403);
      expect(response.error?.error.code).toBe('credential_out_of_reach');
      expect(response.text).not.toMatch(/sk_test_[0-9A-Za-z]{30,}/);
    }
    // Not locked out, and still the same secret (a rotation would have changed prefix and last4).
    expect((await verify(api.server.secretKey)).status).toBe(200);
    const read = await api.client.GET('/v1/auth/api-keys/{key_id}', {
      params: { path: { key_id: target } },
      headers: fromIp(INSIDE),
    });
    expect(read.data?.data.last4).toBe(api.server.secretKey.slice(-4));
    expect(read.data?.data.previous_secret_expires_at).toBeNull();
  });

  it('nor revoke it (denial of service)', async () => {
    const target = await fullKeyId();
    const narrow = await createKeyViaApi(api.server, api.server.secretKey, {
      type: 'secret',
      scopes: ['keys:write', 'keys:read'],
    });
    const response = await api
      .fromIp(INSIDE, narrow.secret)
      .DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: target } } });
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('credential_out_of_reach');
    expect((await verify(api.server.secretKey)).status).toBe(200);
  });

  it('an OAuth app granted keys:write can neither rotate nor revoke the broader key', async () => {
    const target = await fullKeyId();
    const app = await registerClientCredentialsApp(api.server.secretKey, ['keys:write']);
    const token = await clientCredentialsToken(app, INSIDE);
    expect(token.status).toBe(200);
    const bearer = token.body.access_token as string;
    const rotate = await api.fromIp(INSIDE, bearer).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: target } },
      body: { grace_period_seconds: 0 },
    });
    expect(rotate.status).toBe(403);
    expect(rotate.error?.error.code).toBe('credential_out_of_reach');
    const revoke = await api
      .fromIp(INSIDE, bearer)
      .DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: target } } });
    expect(revoke.status).toBe(403);
    expect((await verify(api.server.secretKey)).status).toBe(200);
  });

  it('within reach both still work, and the rotated key keeps the reach of the key it replaces', async () => {
    const parent = await createKeyViaApi(api.server, api.server.secretKey, {
      type: 'secret',
      scopes: ['keys:write', 'workflows:read'],
      allowed_ips: ['10.0.0.0/8'],
    });
    const child = await api
      .fromIp(INSIDE, parent.secret)
      .POST('/v1/auth/api-keys', { body: { name: 'reader', scopes: ['workflows:read'] } });
    expect(child.status).toBe(201);
    // Created without a type and without an allowlist: a secret key, fenced by its creator's allowlist.
    expect(child.data?.data).toMatchObject({ type: 'secret', allowed_ips: ['10.0.0.0/8'] });
    const rotated = await api.fromIp(INSIDE, parent.secret).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: child.data!.data.id } },
      body: { grace_period_seconds: 0 },
    });
    expect(rotated.status).toBe(200);
    const secret = rotated.data!.data.secret;
    expect((await api.fromIp(INSIDE, secret).GET('/v1/workflows')).status).toBe(200);
    const outside = await api.fromIp(OUTSIDE, secret).GET('/v1/workflows');
    expect(outside.status).toBe(403);
    expect(outside.error?.error.code).toBe('ip_not_allowed');
    const write = await api.fromIp(INSIDE, secret).POST('/v1/workflows', { body: offContract({}) });
    expect(write.status).toBe(403);
    expect(write.error?.error.code).toBe('insufficient_scope');
    const revoked = await api
      .fromIp(INSIDE, parent.secret)
      .DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: child.data!.data.id } } });
    expect(revoked.status).toBe(200);
    expect((await verify(secret)).code).toBe('revoked_api_key');
  });

  it('a key cannot renew itself with a previous secret still in its grace period, but can revoke itself with it', async () => {
    const key = await createKeyViaApi(api.server, api.server.secretKey, { type: 'secret', scopes: ['keys:write'] });
    const first = await api.fromIp(INSIDE, key.secret).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 3600 },
    });
    expect(first.status).toBe(200);
    const again = await api.fromIp(INSIDE, key.secret).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 3600 },
    });
    expect(again.status).toBe(403);
    expect(again.error?.error.code).toBe('credential_out_of_reach');
    const revoke = await api
      .fromIp(INSIDE, key.secret)
      .DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(revoke.status).toBe(200);
  });
});

describe('attack 2: escaping limits through an OAuth app', () => {
  it("an app registered by an address-bound key is issued and uses tokens only within that key's networks", async () => {
    const key = await createKeyViaApi(api.server, api.server.secretKey, {
      type: 'secret',
      scopes: ['apps:write', 'workflows:read'],
      allowed_ips: ['10.0.0.0/8'],
    });
    const app = await registerClientCredentialsApp(key.secret, ['workflows:read']);
    expect(app.allowed_ips).toEqual(['10.0.0.0/8']);

    const refused = await clientCredentialsToken(app, OUTSIDE);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');

    const issued = await clientCredentialsToken(app, INSIDE);
    expect(issued.status).toBe(200);
    const token = issued.body.access_token as string;
    expect((await api.fromIp(INSIDE, token).GET('/v1/workflows')).status).toBe(200);
    const elsewhere = await api.fromIp(OUTSIDE, token).GET('/v1/workflows');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.error?.error.code).toBe('ip_not_allowed');
  });

  it('an app registered by an expiring key ends with it: its tokens never outlive the key', async () => {
    const expiresAt = new Date(time.now() + 2 * HOUR).toISOString();
    const key = await createKeyViaApi(api.server, api.server.secretKey, {
      type: 'secret',
      scopes: ['apps:write', 'workflows:read'],
      expires_at: expiresAt,
    });
    const app = await registerClientCredentialsApp(key.secret, ['workflows:read']);
    expect(app.expires_at).toBe(expiresAt);

    time.advance(90 * MINUTE);
    const late = await clientCredentialsToken(app, INSIDE);
    expect(late.status).toBe(200);
    // Clamped to the key's end: 30 minutes left, not the usual hour.
    expect(late.body.expires_in).toBe(30 * 60);
    const token = late.body.access_token as string;
    expect((await api.fromIp(INSIDE, token).GET('/v1/workflows')).status).toBe(200);

    time.advance(30 * MINUTE + SECOND);
    expect((await verify(key.secret)).code).toBe('expired_api_key');
    const after = await api.fromIp(INSIDE, token).GET('/v1/workflows');
    expect(after.status).toBe(401);
    expect(after.error?.error.code).toBe('token_expired');
    const noMore = await clientCredentialsToken(app, INSIDE);
    expect(noMore.status).toBe(401);
    expect(noMore.body.error).toBe('invalid_client');
  });

  it('a key with an allowlist cannot create a key usable from anywhere, nor one that outlives it', async () => {
    const end = new Date(time.now() + HOUR).toISOString();
    const key = await createKeyViaApi(api.server, api.server.secretKey, {
      type: 'secret',
      scopes: ['keys:write', 'workflows:read'],
      allowed_ips: ['10.0.0.0/8'],
      expires_at: end,
    });
    const wider = await api
      .fromIp(INSIDE, key.secret)
      .POST('/v1/auth/api-keys', { body: { name: 'wider', scopes: ['workflows:read'], allowed_ips: ['0.0.0.0/0'] } });
    expect(wider.status).toBe(403);
    expect(wider.error?.error.code).toBe('scope_escalation');
    const longer = await api.fromIp(INSIDE, key.secret).POST('/v1/auth/api-keys', {
      body: { name: 'longer', scopes: ['workflows:read'], expires_at: new Date(time.now() + 2 * HOUR).toISOString() },
    });
    expect(longer.status).toBe(403);
    expect(longer.error?.error.code).toBe('scope_escalation');
    const inherited = await api
      .fromIp(INSIDE, key.secret)
      .POST('/v1/auth/api-keys', { body: { name: 'inherits', scopes: ['workflows:read'] } });
    expect(inherited.status).toBe(201);
    expect(inherited.data?.data).toMatchObject({ allowed_ips: ['10.0.0.0/8'], expires_at: end });
  });
});
