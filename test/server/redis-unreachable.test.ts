// A server whose Redis does not answer (REDIS_URL names a port nobody listens on: a
// real refused connection, no Redis needed) starts and serves, degraded: /health says
// `degraded` with a 200, rate limits hold in the instance's own memory, revocations
// are refused on the next request (read from the database, nothing cached), and the
// outage is logged once, not once per request. What happens when Redis comes back is
// shown with a real Redis in test/scaleout/dependency-faults.scaleout.test.ts.
import { describe, expect, test } from 'vitest';
import { loadRateLimitConfig } from '../../src/rate-limit/index.ts';
import { useTestServer } from '../support/api.ts';
import { mainTenant } from '../support/fixtures.ts';
import { freePort } from '../support/free-port.ts';

const defaults = loadRateLimitConfig('config/rate-limits.yaml');

const api = useTestServer(async () => ({
  env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, DEPENDENCY_TIMEOUT_MS: '300' },
  rateLimitConfig: {
    ...defaults,
    categories: { ...defaults.categories, read: { ...defaults.categories.read, limit: 5 } },
  },
}));

const lines = (message: string) => api.server.logs.filter((line) => line.includes(`"msg":"${message}`)).length;

describe('Redis unreachable', () => {
  test('/health answers 200 degraded, naming Redis', async () => {
    const health = await api.as(null).GET('/health');
    expect(health.status).toBe(200);
    expect(health.data).toMatchObject({
      status: 'degraded',
      shutting_down: false,
      checks: { database: { status: 'ok' }, redis: { status: 'error' } },
    });
  });

  test('rate limits hold per instance, with their headers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api.client.GET('/v1/workflows')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await api.client.GET('/v1/workflows');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('5');
  });

  test('writes succeed, and a key revoked is refused on the next request', async () => {
    const tenant = mainTenant(api.server);
    const key = await tenant.key({ scopes: ['connections:read'] });
    expect((await api.as(key.secret).GET('/v1/connections')).status).toBe(200);
    expect(
      (await api.client.DELETE('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } })).status,
    ).toBe(200);
    const refused = await api.as(key.secret).GET('/v1/connections');
    expect(refused.status).toBe(401);
    expect(refused.error?.error.code).toBe('revoked_api_key');
  });

  test('the outage is logged once, not once per request', () => {
    expect(lines('redis unavailable')).toBe(1);
    expect(lines('rate limits: Redis unavailable')).toBe(1);
  });
});
