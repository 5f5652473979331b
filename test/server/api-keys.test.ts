// The API-key management endpoints against the real server: creation (the secret
// shown once, display prefix and last4, keyed-hash storage), last use recorded
// without a write per request, immediate revocation, rotation with a grace
// period, and listing with filters and cursor pages.
import type { operations } from '../../generated/api.d.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { databaseBytes } from '../support/database-bytes.ts';
import { mainTenant, newTenant, type Tenant } from '../support/fixtures.ts';
import { BEHIND_PROXY, createKeyViaApi, hiddenPart, HOUR, manualClock, queryRecorder, SECOND } from './auth-helpers.ts';

const clock = manualClock();
const queries = queryRecorder();
let tenant: Tenant;
/** Every secret this file saw issued: none may be readable in the database file. */
const issued: string[] = [];

const api = useTestServer({ clock: clock.clock, observeQueries: queries.observe, env: BEHIND_PROXY });
beforeAll(() => {
  tenant = mainTenant(api.server);
  issued.push(api.server.secretKey);
});

async function create(body: Record<string, unknown>, creator = api.server.secretKey) {
  const key = await createKeyViaApi(api.server, creator, { type: 'secret', scopes: ['read', 'write'], ...body });
  issued.push(key.secret);
  return key;
}

async function rotate(keyId: string, body: Record<string, unknown> = {}) {
  const response = await api.client.POST('/v1/auth/api-keys/{key_id}/rotate', {
    params: { path: { key_id: keyId } },
    body,
  });
  if (response.status === 200) issued.push(response.data!.data.secret);
  return response;
}

const getKey = async (keyId: string) =>
  (await api.client.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: keyId } } })).data!.data;
const statusWith = async (secret: string | undefined) => api.as(secret).GET('/v1/workflows');

/** The stored row, read from the database itself rather than through the API. */
const storedRow = (keyId: string) =>
  api.server.server.database.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();

describe('creating a key', () => {
  it('returns the secret once, with prefix = its first 12 characters and last4 = its last 4', async () => {
    const response = await api.client.POST('/v1/auth/api-keys', {
      body: { name: 'Billing backend', type: 'secret', scopes: ['workflows:read', 'runs:read'] },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const key = response.data!.data;
    issued.push(key.secret);
    expect(key.secret).toMatch(/^sk_test_[0-9A-Za-z]{38}$/);
    expect(key.prefix).toBe(key.secret.slice(0, 12));
    expect(key.last4).toBe(key.secret.slice(-4));
    expect(key).toMatchObject({
      name: 'Billing backend',
      type: 'secret',
      environment: 'test',
      status: 'active',
      last_used_at: null,
      last_used_ip: null,
      revoked_at: null,
    });

    const fetched = await api.client.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    const listed = await api.client.GET('/v1/auth/api-keys', { params: { query: { limit: 100 } } });
    for (const answer of [fetched, listed]) {
      expect(answer.text).not.toContain(hiddenPart(key.secret));
      expect(answer.text).not.toContain('"secret":');
    }
    expect(fetched.data?.data).toMatchObject({ id: key.id, prefix: key.prefix, last4: key.last4 });
  });

  it('records api_key.created with the type and scopes, never the secret', async () => {
    const key = await create({ type: 'restricted', scopes: ['workflows:read'] });
    const audit = await api.client.GET('/v1/audit-logs', {
      params: { query: { action: 'api_key.created', resource_id: key.id } },
    });
    expect(audit.data?.data).toHaveLength(1);
    expect(audit.data?.data[0]).toMatchObject({
      outcome: 'success',
      resource: { type: 'api_key', id: key.id },
      metadata: { type: 'restricted', scopes: ['workflows:read'] },
    });
    expect(JSON.stringify(audit.data?.data[0])).not.toContain(hiddenPart(key.secret));
  });

  it('normalises and keeps allowed_ips and expires_at', async () => {
    const expiresAt = new Date(clock.now() + 30 * 24 * HOUR).toISOString();
    const key = await create({ allowed_ips: ['203.0.113.0/24', '2001:DB8:4C2::/48'], expires_at: expiresAt });
    expect(key.allowed_ips).toEqual(['203.0.113.0/24', '2001:db8:4c2::/48']);
    expect(Date.parse(key.expires_at as string)).toBe(Date.parse(expiresAt));
  });

  it('refuses an allowed_ips entry that is not a network', async () => {
    const response = await api.client.POST('/v1/auth/api-keys', {
      body: { name: 'Bad network', type: 'secret', scopes: ['read'], allowed_ips: ['300.1.2.3/24'] },
    });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('validation_failed');
  });
});

describe('last_used_at and last_used_ip', () => {
  it('shows a use at once, but writes the api_keys row only when the batch is flushed', async () => {
    const key = await create({ scopes: ['read'] });
    await api.server.server.flush(); // start from an empty batch, with no timer pending

    queries.start();
    const used = await api.fromIp('203.0.113.50', key.secret).GET('/v1/workflows');
    expect(used.status).toBe(200);
    const shown = await getKey(key.id);
    const seen = queries.stop();

    expect(shown.last_used_at).toBe(new Date(clock.now()).toISOString());
    expect(shown.last_used_ip).toBe('203.0.113.50');
    expect(seen.filter((sql) => /^update "api_keys"/i.test(sql))).toEqual([]);
    expect(await storedRow(key.id)).toMatchObject({ last_used_at: null, last_used_ip: null });

    await api.server.server.flush();
    expect(await storedRow(key.id)).toMatchObject({
      last_used_at: new Date(clock.now()).toISOString(),
      last_used_ip: '203.0.113.50',
    });
  });

  it('turns N requests into one UPDATE per key, holding the latest use', async () => {
    const key = await create({ scopes: ['read'] });
    await api.server.server.flush();

    queries.start();
    for (let i = 1; i <= 10; i += 1) {
      clock.advance(SECOND);
      expect((await api.fromIp(`198.51.100.${i}`, key.secret).GET('/v1/workflows')).status).toBe(200);
    }
    const duringRequests = queries.stop();
    expect(duringRequests.filter((sql) => /^update "api_keys"/i.test(sql))).toHaveLength(0);

    queries.start();
    await api.server.server.flush();
    const atFlush = queries.stop();
    expect(atFlush.filter((sql) => /^update "api_keys"/i.test(sql))).toHaveLength(1);
    expect(await storedRow(key.id)).toMatchObject({
      last_used_at: new Date(clock.now()).toISOString(),
      last_used_ip: '198.51.100.10',
    });
    expect((await getKey(key.id)).last_used_ip).toBe('198.51.100.10');
  });

  it('records IPv6 clients as they are', async () => {
    const key = await create({ scopes: ['read'] });
    await api.fromIp('2001:db8::7', key.secret).GET('/v1/workflows');
    expect((await getKey(key.id)).last_used_ip).toBe('2001:db8::7');
  });
});

describe('keyed-hash storage', () => {
  it('leaves no secret in the database (the SQLite file and its WAL), only the display prefix and last4', async () => {
    const key = await create({ scopes: ['read'] });
    const rotated = await rotate(key.id, { grace_period_seconds: 60 });
    expect(rotated.status).toBe(200);
    await api.server.server.flush();

    const bytes = databaseBytes(api.server);
    expect(bytes.length).toBeGreaterThan(0);
    // What the display fields allow is stored (which also shows the scan reads the right bytes)...
    expect(bytes).toContain(rotated.data?.data.prefix);
    // ...and nothing more of any secret issued in this file, not even 10 characters of its hidden part.
    expect(issued.length).toBeGreaterThan(5);
    for (const secret of issued) {
      const hidden = hiddenPart(secret);
      for (let at = 0; at + 10 <= hidden.length; at += 5) {
        expect(bytes.includes(hidden.slice(at, at + 10)), `part of ${secret.slice(0, 12)}...`).toBe(false);
      }
    }
  });
});

describe('revoking', () => {
  it('takes effect on the next request: 401 revoked_api_key', async () => {
    const key = await create({ scopes: ['read'] });
    expect((await statusWith(key.secret)).status).toBe(200);

    const revoked = await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(revoked.status).toBe(200);
    expect(revoked.data?.data).toMatchObject({
      id: key.id,
      status: 'revoked',
      revoked_at: new Date(clock.now()).toISOString(),
    });

    const after = await statusWith(key.secret);
    expect(after.status).toBe(401);
    expect(after.error?.error.code).toBe('revoked_api_key');
    expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('records a revoked key still in use as auth.failed under its id in its project audit log', async () => {
    const key = await create({ scopes: ['read'] });
    await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    const refused = await api.fromIp('192.0.2.200', key.secret).GET('/v1/workflows');
    const audit = await api.client.GET('/v1/audit-logs', {
      params: { query: { action: 'auth.failed', request_id: refused.headers.get('x-request-id')! } },
    });
    expect(audit.data?.data).toHaveLength(1);
    expect(audit.data?.data[0]).toMatchObject({
      outcome: 'failure',
      ip: '192.0.2.200',
      actor: { type: 'api_key', key_id: key.id },
      metadata: { code: 'revoked_api_key' },
    });
    expect(JSON.stringify(audit.data?.data[0])).not.toContain(hiddenPart(key.secret));
  });

  it('is idempotent: revoking again answers 200 with the original revoked_at, audited once', async () => {
    const key = await create({ scopes: ['read'] });
    const first = await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    clock.advance(5 * SECOND);
    const second = await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(second.status).toBe(200);
    expect(second.data?.data.revoked_at).toBe(first.data?.data.revoked_at);
    const audit = await api.client.GET('/v1/audit-logs', {
      params: { query: { action: 'api_key.revoked', resource_id: key.id } },
    });
    expect(audit.data?.data).toHaveLength(1);
  });

  it('lets a key revoke itself', async () => {
    const key = await create({ scopes: ['keys:write', 'keys:read'] });
    expect(
      (await api.as(key.secret).DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } })).status,
    ).toBe(200);
    expect((await api.as(key.secret).GET('/v1/auth/api-keys')).error?.error.code).toBe('revoked_api_key');
  });

  it('stops a previous secret still in its rotation grace period too', async () => {
    const key = await create({ scopes: ['read'] });
    const rotated = await rotate(key.id, { grace_period_seconds: 3600 });
    await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    for (const secret of [key.secret, rotated.data!.data.secret]) {
      const response = await statusWith(secret);
      expect(response.status).toBe(401);
      expect(response.error?.error.code).toBe('revoked_api_key');
    }
  });

  it('answers 404 for an id that is not a key of this project', async () => {
    const response = await api.client.DELETE('/v1/auth/api-keys/{key_id}', {
      params: { path: { key_id: 'key_000000000000000000000000' } },
    });
    expect(response.status).toBe(404);
    expect(response.error?.error.code).toBe('not_found');
  });
});

describe('rotating', () => {
  it('keeps the old secret working for the default 24 h grace, flagged with X-Key-Expires-At, then expires it', async () => {
    const key = await create({ scopes: ['read'] });
    const rotated = await rotate(key.id);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const fresh = rotated.data!.data;
    expect(fresh.id).toBe(key.id);
    expect(fresh.secret).not.toBe(key.secret);
    expect(fresh.prefix).toBe(fresh.secret.slice(0, 12));
    expect(fresh.last4).toBe(fresh.secret.slice(-4));
    expect(fresh.previous_secret_expires_at).toBe(new Date(clock.now() + 24 * HOUR).toISOString());

    const old = await statusWith(key.secret);
    expect(old.status).toBe(200);
    expect(old.headers.get('x-key-expires-at')).toBe(fresh.previous_secret_expires_at);
    const current = await statusWith(fresh.secret);
    expect(current.status).toBe(200);
    expect(current.headers.get('x-key-expires-at')).toBeNull();

    clock.advance(24 * HOUR - SECOND);
    expect((await statusWith(key.secret)).status).toBe(200);

    clock.advance(SECOND);
    const expired = await statusWith(key.secret);
    expect(expired.status).toBe(401);
    expect(expired.error?.error.code).toBe('expired_api_key');
    expect((await statusWith(fresh.secret)).status).toBe(200);
    expect((await getKey(key.id)).previous_secret_expires_at).toBeNull();
  });

  it('with grace_period_seconds 0 stops the old secret at once', async () => {
    const key = await create({ scopes: ['read'] });
    const rotated = await rotate(key.id, { grace_period_seconds: 0 });
    expect(rotated.data?.data.previous_secret_expires_at).toBeNull();
    const old = await statusWith(key.secret);
    expect(old.status).toBe(401);
    expect(old.error?.error.code).toBe('expired_api_key');
    expect((await statusWith(rotated.data?.data.secret)).status).toBe(200);
  });

  it('keeps only one previous secret: rotating again ends the older one at once', async () => {
    const key = await create({ scopes: ['read'] });
    const second = await rotate(key.id, { grace_period_seconds: 3600 });
    const third = await rotate(key.id, { grace_period_seconds: 3600 });
    expect((await statusWith(key.secret)).error?.error?.code).toBe('expired_api_key');
    expect((await statusWith(second.data?.data.secret)).status).toBe(200);
    expect((await statusWith(third.data?.data.secret)).status).toBe(200);
  });

  it('never lets the grace period outlast the key', async () => {
    const expiresAt = new Date(clock.now() + HOUR).toISOString();
    const key = await create({ scopes: ['read'], expires_at: expiresAt });
    const rotated = await rotate(key.id, { grace_period_seconds: 86_400 });
    expect(Date.parse(rotated.data?.data.previous_secret_expires_at ?? '')).toBe(Date.parse(expiresAt));
  });

  it('records api_key.rotated with the grace period', async () => {
    const key = await create({ scopes: ['read'] });
    await rotate(key.id, { grace_period_seconds: 120 });
    const audit = await api.client.GET('/v1/audit-logs', {
      params: { query: { action: 'api_key.rotated', resource_id: key.id } },
    });
    expect(audit.data?.data).toHaveLength(1);
    expect(audit.data?.data[0]?.metadata).toEqual({ grace_period_seconds: 120 });
  });

  it('refuses a revoked key with 409 api_key_revoked, and an expired one the same way', async () => {
    const revoked = await create({ scopes: ['read'] });
    await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: revoked.id } } });
    const response = await rotate(revoked.id);
    expect(response.status).toBe(409);
    expect(response.error?.error.code).toBe('api_key_revoked');
    expect(response.text).not.toContain('"secret":');

    const expiring = await create({ scopes: ['read'], expires_at: new Date(clock.now() + SECOND).toISOString() });
    clock.advance(SECOND);
    expect((await rotate(expiring.id)).error?.error.code).toBe('api_key_revoked');
  });
});

describe('listing and reading keys', () => {
  let other: Tenant;
  let manager: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // A tenant of its own, so the expected lists are exactly what this block creates.
    other = await newTenant(api.server);
    const managerKey = await other.key({ scopes: ['read', 'write'] });
    manager = managerKey.secret;
    ids.manager = managerKey.id;
    clock.advance(SECOND);
    ids.restricted = (await other.key({ type: 'restricted', scopes: ['read'] })).id;
    clock.advance(SECOND);
    ids.client = (await other.key({ type: 'client', scopes: ['events:write'] })).id;
    clock.advance(SECOND);
    ids.revoked = (await other.key({ scopes: ['read'] })).id;
    await api.as(manager).DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: ids.revoked } } });
    clock.advance(SECOND);
    ids.expired = (await other.key({ scopes: ['read'], expires_at: new Date(clock.now() + SECOND).toISOString() })).id;
    clock.advance(SECOND);
    ids.secret = (await other.key({ scopes: ['read'] })).id;
    clock.advance(SECOND);
  });

  const list = async (query: NonNullable<operations['listApiKeys']['parameters']['query']>) => {
    const response = await api.as(manager).GET('/v1/auth/api-keys', { params: { query } });
    expect(response.status, response.text).toBe(200);
    return response.data!;
  };
  const idsOf = (body: { data: { id: string }[] }) => body.data.map((key) => key.id);

  it('lists every key of the project and environment, newest first, revoked and expired included', async () => {
    expect(idsOf(await list({ limit: 100 }))).toEqual([
      ids.secret,
      ids.expired,
      ids.revoked,
      ids.client,
      ids.restricted,
      ids.manager,
    ]);
  });

  it('filters by status', async () => {
    expect(idsOf(await list({ status: 'revoked' }))).toEqual([ids.revoked]);
    expect(idsOf(await list({ status: 'expired' }))).toEqual([ids.expired]);
    expect(idsOf(await list({ status: 'active' }))).toEqual([ids.secret, ids.client, ids.restricted, ids.manager]);
    const statuses = (await list({ limit: 100 })).data.map((key: { status: string }) => key.status);
    expect(statuses).toEqual(['active', 'expired', 'revoked', 'active', 'active', 'active']);
  });

  it('filters by type, and by type and status together', async () => {
    expect(idsOf(await list({ type: 'restricted' }))).toEqual([ids.restricted]);
    expect(idsOf(await list({ type: 'client' }))).toEqual([ids.client]);
    expect(idsOf(await list({ type: 'secret', status: 'active' }))).toEqual([ids.secret, ids.manager]);
  });

  it('pages with a cursor: every key once, next_cursor null on the last page', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const body: { data: { id: string }[]; next_cursor: string | null } = await list({
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...idsOf(body));
      cursor = body.next_cursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([ids.secret, ids.expired, ids.revoked, ids.client, ids.restricted, ids.manager]);
  });

  it('keeps filters across pages and refuses a cursor of another list', async () => {
    const first = await list({ status: 'active', limit: 2 });
    expect(idsOf(first)).toEqual([ids.secret, ids.client]);
    expect(idsOf(await list({ status: 'active', limit: 2, cursor: first.next_cursor! }))).toEqual([
      ids.restricted,
      ids.manager,
    ]);
    const mixed = await api
      .as(manager)
      .GET('/v1/auth/api-keys', { params: { query: { status: 'revoked', cursor: first.next_cursor! } } });
    expect(mixed.status).toBe(400);
    expect(mixed.error?.error.code).toBe('invalid_cursor');
  });

  it('reads one key by id, and 404s an unknown id', async () => {
    const response = await api
      .as(manager)
      .GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: ids.restricted! } } });
    expect(response.status).toBe(200);
    expect(response.data?.data).toMatchObject({
      id: ids.restricted,
      type: 'restricted',
      scopes: ['read'],
      status: 'active',
    });
    const unknown = await api
      .as(manager)
      .GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: 'key_000000000000000000000000' } } });
    expect(unknown.status).toBe(404);
    expect(unknown.error?.error.code).toBe('not_found');
  });

  it('refuses unknown filters with 400', async () => {
    expect(
      (await api.as(manager).GET('/v1/auth/api-keys', { params: { query: offContract({ status: 'deleted' }) } }))
        .status,
    ).toBe(400);
    expect(
      (await api.as(manager).GET('/v1/auth/api-keys', { params: { query: offContract({ owner: 'mallory' }) } })).status,
    ).toBe(400);
  });

  it('does not list the creating tenant keys in another tenant', async () => {
    const mine = idsOf(await list({ limit: 100 }));
    const theirs = (await api.client.GET('/v1/auth/api-keys', { params: { query: { limit: 100 } } })).data!.data.map(
      (key: { id: string }) => key.id,
    );
    expect(mine.filter((id) => theirs.includes(id))).toEqual([]);
    expect(tenant.projectId).not.toBe(other.projectId);
  });
});
