// Who you are before what you sent: on a secured operation, authentication, the scope
// check and the rate limit are decided before the body is read or validated, so the
// anonymous learn nothing of the schema and a caller over its limit is refused without
// its body being read. Public operations validate first. And every answer of a
// rate-limited operation below 500, refusals included, shows the caller's standing.
import { describe, expect, it } from 'vitest';
import type { RateLimitConfig } from '../../src/rate-limit/index.ts';
import { offContract, useTestServer } from '../support/api.ts';
import { mainTenant, untypedRequest } from '../support/fixtures.ts';
import { rawRequest } from '../support/raw-http.ts';
import { generousRateLimits } from '../support/server.ts';
import { BEHIND_PROXY, fromIp, workflowInput } from './auth-helpers.ts';

const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit-policy',
  'ratelimit',
];

function expectStanding(headers: Headers | Map<string, string[]>, what: string): void {
  for (const name of RATE_LIMIT_HEADERS) expect(headers.has(name), `${what}: ${name}`).toBe(true);
}
const base = generousRateLimits();
// Two writes a minute per key and three failed credentials per address: small enough to reach.
const config: RateLimitConfig = {
  ...base,
  categories: { ...base.categories, write: { ...base.categories.write, limit: 2 } },
  guards: { ...base.guards, failed_credentials: { ...base.guards.failed_credentials, limit: 3 } },
};

const api = useTestServer({ rateLimitConfig: config, env: BEHIND_PROXY });

describe('on a secured operation, identity comes before content', () => {
  it('an anonymous request with a bad body gets 401 authentication_required, with no schema detail', async () => {
    for (const body of ['{}', '{"name": 5, "steps": "x"}', 'not json at all', '{"__proto__": {"x": 1}}']) {
      const response = await untypedRequest(api.server, 'POST', '/v1/workflows', {
        body,
        headers: fromIp('198.51.100.1'),
      });
      expect(response.status).toBe(401);
      expect(response.error?.error.code).toBe('authentication_required');
      expect(response.error?.error).not.toHaveProperty('details');
      expect(response.text).not.toMatch(/steps|trigger|name|JSON/);
    }
  });

  it('a key without the scope gets 403 insufficient_scope whatever its body, with its rate-limit standing', async () => {
    const reader = await mainTenant(api.server).key({ type: 'restricted', scopes: ['workflows:read'] });
    for (const body of ['{}', 'not json']) {
      const response = await untypedRequest(api.server, 'POST', '/v1/workflows', {
        key: reader.secret,
        body,
        headers: fromIp('198.51.100.2'),
      });
      expect(response.status).toBe(403);
      expect(response.error?.error.code).toBe('insufficient_scope');
      expect(response.headers.get('www-authenticate')).toContain('scope="workflows:write"');
      expectStanding(response.headers, '403 insufficient_scope');
    }
  });

  it('a caller over its limit gets 429 without its body being read', async () => {
    const writer = await mainTenant(api.server).key({ type: 'secret', scopes: ['workflows:write'] });
    const headers = fromIp('198.51.100.3');
    expect((await api.as(writer.secret).POST('/v1/workflows', { body: workflowInput('one'), headers })).status).toBe(
      201,
    );
    expect((await api.as(writer.secret).POST('/v1/workflows', { body: workflowInput('two'), headers })).status).toBe(
      201,
    );
    // Over the limit: a malformed body is not even parsed.
    const malformed = await untypedRequest(api.server, 'POST', '/v1/workflows', {
      key: writer.secret,
      body: 'not json',
      headers,
    });
    expect(malformed.status).toBe(429);
    expect(malformed.error?.error.code).toBe('rate_limit_exceeded');
    // A body announced and never sent: the answer comes all the same, so nothing waited for it.
    const unsent = await rawRequest(api.server.baseUrl, {
      method: 'POST',
      target: '/v1/workflows',
      headers: [
        ['Authorization', `Bearer ${writer.secret}`],
        ['Content-Type', 'application/json'],
        ['Content-Length', '5000'],
        ...Object.entries(headers),
      ],
      contentLength: false,
    });
    expect(unsent.status).toBe(429);
    expectStanding(unsent.headers, '429');
  });
});

describe('public operations validate first', () => {
  it('login with a bad body gets 400 validation_failed with its details, and its address standing', async () => {
    const response = await api
      .fromIp('198.51.100.4', null)
      .POST('/v1/auth/login', { body: offContract({ email: 'not-an-email' }) });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('validation_failed');
    expect(response.error?.error.details?.length).toBeGreaterThan(0);
    expectStanding(response.headers, 'login 400');
  });

  it('login takes the email as username too (older clients), but not both at once', async () => {
    const headers = fromIp('198.51.100.5');
    const username = await api.as(null).POST('/v1/auth/login', {
      body: { username: api.server.owner.email, password: api.server.owner.password },
      headers,
    });
    expect(username.status).toBe(200);
    expect(username.data?.data.token).toEqual(expect.any(String));
    const both = await api.as(null).POST('/v1/auth/login', {
      body: { email: api.server.owner.email, username: api.server.owner.email, password: api.server.owner.password },
      headers,
    });
    expect(both.status).toBe(400);
    const neither = await api
      .as(null)
      .POST('/v1/auth/login', { body: offContract({ password: api.server.owner.password }), headers });
    expect(neither.status).toBe(400);
  });
});

describe('every answer of a rate-limited operation below 500 shows the standing', () => {
  it('400, 404 and 409 after authentication', async () => {
    const key = api.server.secretKey;
    const headers = fromIp('198.51.100.6');
    const invalid = await api.as(key).GET('/v1/workflows', { params: { query: { limit: 0 } }, headers });
    expect(invalid.status).toBe(400);
    expectStanding(invalid.headers, '400');
    const missing = await api.as(key).GET('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: 'wf_000000000000000000000000' } },
      headers,
    });
    expect(missing.status).toBe(404);
    expectStanding(missing.headers, '404');
    const first = await api.as(key).POST('/v1/connections', {
      headers: { ...headers, 'Idempotency-Key': 'identity-first-1' },
      body: { name: 'a', provider: 'slack', auth_type: 'api_key', credentials: { api_key: 'x' } },
    });
    const conflict = await api.as(key).POST('/v1/connections', {
      headers: { ...headers, 'Idempotency-Key': 'identity-first-1' },
      body: { name: 'b', provider: 'slack', auth_type: 'api_key', credentials: { api_key: 'y' } },
    });
    expect([first.status, conflict.status]).toEqual([201, 409]);
    expectStanding(conflict.headers, '409');
  });

  it('401 and the failed-credentials 429 of a protected operation, before any principal exists', async () => {
    const headers = fromIp('198.51.100.7');
    const bad = await api.as('sk_test_0000000000000000000000000000000000').GET('/v1/workflows', { headers });
    expect(bad.status).toBe(401);
    expectStanding(bad.headers, '401');
    for (let i = 0; i < 3; i += 1)
      await api.as('sk_test_0000000000000000000000000000000000').GET('/v1/workflows', { headers });
    const blocked = await api.client.GET('/v1/workflows', { headers });
    expect(blocked.status).toBe(429);
    expect(blocked.error?.error.code).toBe('too_many_attempts');
    expect(blocked.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expectStanding(blocked.headers, 'guard 429');
  });
});
