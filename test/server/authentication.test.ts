// Authentication with API keys against the real server: where the key may travel,
// the 401 challenges, every key type in both environments, the checksum that
// refuses a mistyped key before any lookup, legacy wfk_ keys, expiry, and the
// audit of failed attempts.
import { beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/auth/api-key-format.ts';
import { useTestServer } from '../support/api.ts';
import { mainTenant, type Tenant } from '../support/fixtures.ts';
import {
  auditRows,
  createKeyViaApi,
  HOUR,
  manualClock,
  queryRecorder,
  unknownWellFormedKey,
  withBadChecksum,
  workflowInput,
} from './auth-helpers.ts';

const clock = manualClock();
const queries = queryRecorder();
let tenant: Tenant;

const api = useTestServer({ clock: clock.clock, observeQueries: queries.observe });
beforeAll(() => {
  tenant = mainTenant(api.server);
});

describe('where the key travels', () => {
  it('accepts a key as Authorization: Bearer and as X-API-Key, as the same key', async () => {
    const bearer = await api.client.GET('/v1/auth/verify');
    const header = await api.as(api.server.secretKey, { apiKeyHeader: true }).GET('/v1/auth/verify');
    expect(bearer.status).toBe(200);
    expect(header.status).toBe(200);
    expect(bearer.data?.data.auth_method).toBe('api_key');
    expect(header.data?.data.key_id).toBe(bearer.data?.data.key_id);
    expect(bearer.data?.data.project_id).toBe(api.server.projectId);
  });

  it('takes the Bearer scheme name case-insensitively, as RFC 7235 says', async () => {
    const response = await api
      .as(null)
      .GET('/v1/auth/verify', { headers: { Authorization: `bearer ${api.server.secretKey}` } });
    expect(response.status).toBe(200);
  });

  it('refuses a request that sends two credentials at once with 400 multiple_credentials, whether or not either is valid', async () => {
    for (const other of [api.server.secretKey, 'sk_test_not-a-real-key', 'wfk_0123456789abcdef0123456789abcdef']) {
      const response = await api.client.GET('/v1/auth/verify', { headers: { 'X-API-Key': other } });
      expect(response.status).toBe(400);
      expect(response.error?.error.code).toBe('multiple_credentials');
      expect(response.error?.error.type).toBe('invalid_request_error');
      // Refused before either is looked up: nothing says which one would have worked.
      expect(response.error?.error.message).not.toContain(other);
    }
  });
});

describe('401 answers and their challenges', () => {
  it('answers a request without a credential with 401 authentication_required and a bare Bearer challenge', async () => {
    const response = await api.as(null).GET('/v1/workflows');
    expect(response.status).toBe(401);
    expect(response.error?.error.code).toBe('authentication_required');
    const challenge = response.headers.get('www-authenticate');
    expect(challenge).toMatch(/^Bearer realm="aetherflow"/);
    // RFC 6750 section 3.1: no error code when the client sent no credential at all.
    expect(challenge).not.toContain('error=');
  });

  it('answers another scheme than Bearer with 401 authentication_required', async () => {
    const response = await api.as(null).GET('/v1/workflows', {
      headers: { Authorization: `Basic ${Buffer.from(`x:${api.server.secretKey}`).toString('base64')}` },
    });
    expect(response.status).toBe(401);
    expect(response.error?.error.code).toBe('authentication_required');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it.each([
    ['garbage', 'sk_test_not-a-key'],
    ['an unknown well-formed key', unknownWellFormedKey('sk', 'test')],
    ['an unknown well-formed live key', unknownWellFormedKey('sk', 'live')],
  ])('answers %s with 401 invalid_api_key and error="invalid_token", never echoing the key', async (_name, key) => {
    for (const apiKeyHeader of [false, true]) {
      const response = await api.as(key, { apiKeyHeader: apiKeyHeader }).GET('/v1/workflows');
      expect(response.status).toBe(401);
      expect(response.error?.error.code).toBe('invalid_api_key');
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="aetherflow", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(response.text).not.toContain(key);
      expect(response.headers.get('www-authenticate')).not.toContain(key);
    }
  });
});

describe('key types and environments', () => {
  const cases = [
    { type: 'secret', environment: 'test', scopes: ['read', 'write'], prefix: 'sk_test_' },
    { type: 'secret', environment: 'live', scopes: ['read', 'write'], prefix: 'sk_live_' },
    { type: 'restricted', environment: 'test', scopes: ['read'], prefix: 'rk_test_' },
    { type: 'restricted', environment: 'live', scopes: ['workflows:read'], prefix: 'rk_live_' },
    { type: 'client', environment: 'test', scopes: ['events:write'], prefix: 'ck_test_' },
    { type: 'client', environment: 'live', scopes: ['events:write'], prefix: 'ck_live_' },
  ] as const;

  it.each(cases)(
    'issues $prefix keys that authenticate as a $type key of the $environment environment',
    async ({ type, environment, scopes, prefix }) => {
      const key = await tenant.key({ type, environment, scopes: [...scopes] });
      expect(key.secret).toMatch(new RegExp(`^${prefix}[0-9A-Za-z]{38}$`));
      const response = await api.as(key.secret).GET('/v1/auth/verify');
      expect(response.status).toBe(200);
      expect(response.data?.data).toMatchObject({
        key_id: key.id,
        key_type: type,
        environment,
        project_id: api.server.projectId,
        scopes: [...scopes],
      });
    },
  );

  it('refuses a stored key presented under another type or environment prefix', async () => {
    // A key is known by its hash; relabelling it (with a recomputed checksum) makes another secret, which is not stored.
    const key = await tenant.key({ type: 'restricted', environment: 'test', scopes: ['read'] });
    const body = `sk_live_${key.secret.slice(8, 40)}`;
    const relabelled = body + checksumOf(body);
    const response = await api.as(relabelled).GET('/v1/auth/verify');
    expect(response.status).toBe(401);
    expect(response.error?.error.code).toBe('invalid_api_key');
  });
});

describe('the checksum', () => {
  it('refuses a real key with one character changed, without looking up api_key_secrets', async () => {
    const mistyped = withBadChecksum(api.server.secretKey);
    expect(mistyped).not.toBe(api.server.secretKey);

    queries.start();
    const response = await api.as(mistyped).GET('/v1/workflows');
    const seen = queries.stop();

    expect(response.status).toBe(401);
    expect(response.error?.error.code).toBe('invalid_api_key');
    expect(seen.filter((sql) => sql.includes('api_key_secrets'))).toEqual([]);
  });

  it('does look a well-formed key up (so the check above can fail)', async () => {
    queries.start();
    const response = await api.as(unknownWellFormedKey('sk', 'test')).GET('/v1/workflows');
    const seen = queries.stop();
    expect(response.status).toBe(401);
    expect(seen.some((sql) => sql.includes('api_key_secrets'))).toBe(true);
  });
});

describe('legacy wfk_ keys', () => {
  const legacy = `wfk_${'Lg7x'.repeat(8)}`;
  let legacyId: string;

  beforeAll(async () => {
    const { transaction, apiKeys } = api.server.server.services;
    legacyId = await transaction((tx) =>
      apiKeys.importLegacy(
        { accountId: api.server.accountId, projectId: api.server.projectId },
        'Old integration',
        legacy,
        ['workflows:read'],
        tx,
      ),
    );
  });

  it('authenticate through X-API-Key, answered with a Deprecation header', async () => {
    const response = await api.as(legacy, { apiKeyHeader: true }).GET('/v1/workflows');
    expect(response.status).toBe(200);
    expect(response.headers.get('deprecation')).toMatch(/^@\d+$/);
    const verify = await api.as(legacy, { apiKeyHeader: true }).GET('/v1/auth/verify');
    expect(verify.data?.data).toMatchObject({ key_id: legacyId, key_type: 'legacy', environment: 'live' });
  });

  it('are refused in Authorization: Bearer', async () => {
    const response = await api.as(legacy).GET('/v1/workflows');
    expect(response.status).toBe(401);
    expect(response.error?.error.code).toBe('invalid_api_key');
    expect(response.headers.get('deprecation')).toBeNull();
  });

  it('keep their scopes: a read-only legacy key cannot write', async () => {
    const response = await api.as(legacy, { apiKeyHeader: true }).POST('/v1/workflows', { body: workflowInput() });
    expect(response.status).toBe(403);
    expect(response.error?.error.code).toBe('insufficient_scope');
  });

  it('modern keys carry no Deprecation header', async () => {
    const response = await api.as(api.server.secretKey, { apiKeyHeader: true }).GET('/v1/workflows');
    expect(response.headers.get('deprecation')).toBeNull();
  });
});

describe('expiry', () => {
  it('refuses to create a key whose expires_at is already past', async () => {
    const past = new Date(clock.now() - 1000).toISOString();
    const response = await api.client.POST('/v1/auth/api-keys', {
      body: { name: 'Too late', type: 'secret', scopes: ['read'], expires_at: past },
    });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('validation_failed');
    expect(response.error?.error.details?.[0]?.location).toBe('body.expires_at');
  });

  it('accepts a key until its expires_at, then answers 401 expired_api_key', async () => {
    const expiresAt = new Date(clock.now() + HOUR).toISOString();
    const key = await createKeyViaApi(api.server, api.server.secretKey, {
      type: 'secret',
      scopes: ['read'],
      expires_at: expiresAt,
    });

    const before = await api.as(key.secret).GET('/v1/workflows');
    expect(before.status).toBe(200);
    const verify = await api.as(key.secret).GET('/v1/auth/verify');
    expect(Date.parse(verify.data?.data.expires_at ?? '')).toBe(Date.parse(expiresAt));

    clock.advance(HOUR);
    const after = await api.as(key.secret).GET('/v1/workflows');
    expect(after.status).toBe(401);
    expect(after.error?.error.code).toBe('expired_api_key');
    expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const listed = await api.client.GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(listed.data?.data.status).toBe('expired');
  });
});

describe('the audit of failed authentication', () => {
  it('records auth.failed with the code and the request id, never the presented key', async () => {
    const presented = unknownWellFormedKey('sk', 'test');
    const response = await api.as(presented).GET('/v1/workflows', { headers: { 'User-Agent': 'audit-probe/1.0' } });
    const requestId = response.headers.get('x-request-id');
    const rows = (await auditRows(api.server, 'auth.failed')).filter((row) => row.request_id === requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: 'failure',
      actor_type: 'anonymous',
      user_agent: 'audit-probe/1.0',
      ip: '127.0.0.1',
    });
    expect(JSON.parse(rows[0]!.metadata)).toMatchObject({ code: 'invalid_api_key', operation: 'listWorkflows' });
    expect(JSON.stringify(rows[0])).not.toContain(presented);
    expect(JSON.stringify(rows[0])).not.toContain(presented.slice(8, 40));
  });

  it('never writes a presented key into the logs', async () => {
    const presented = unknownWellFormedKey('sk', 'live');
    await api.as(presented).GET('/v1/workflows');
    await api.as(presented, { apiKeyHeader: true }).GET('/v1/workflows');
    expect(api.server.logs.length).toBeGreaterThan(0);
    expect(api.server.logs.join('\n')).not.toContain(presented.slice(8, 40));
    expect(api.server.logs.join('\n')).not.toContain(api.server.secretKey.slice(8, 40));
  });
});
