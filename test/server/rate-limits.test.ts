// Rate limits over HTTP, against an injected clock: every applicable policy
// counts, the tightest governs the headers and the 429, Retry-After and
// X-RateLimit-Reset are exact, and the headers predict what happens next.
import { afterEach, describe, expect, test } from 'vitest';
import { loadRateLimitConfig, type RateLimitConfig } from '../../src/rate-limit/index.ts';
import { clientFor } from '../support/api.ts';
import { mainTenant, newTenant } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const START = Date.parse('2026-11-23T10:00:00.000Z');
const defaults = loadRateLimitConfig('config/rate-limits.yaml');

function clockAt(ms: number) {
  const clock = { now: ms, tick: (by: number) => (clock.now += by), read: () => clock.now };
  return clock;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serverWith(options: {
  plan: 'free' | 'pro' | 'enterprise';
  config?: RateLimitConfig;
  trustProxy?: boolean;
}) {
  const clock = clockAt(START);
  server = await startTestServer({
    clock: clock.read,
    plan: options.plan,
    rateLimitConfig: options.config ?? defaults,
    ...(options.trustProxy ? { env: { TRUSTED_PROXIES: '127.0.0.1' } } : {}),
  });
  return { server, clock };
}

describe('a free-plan key', () => {
  test('gets 60 reads a minute: the 60th passes, the 61st is 429 with truthful Retry-After and reset', async () => {
    const { server, clock } = await serverWith({ plan: 'free' });
    const key = server.secretKey;
    for (let i = 1; i <= 60; i++) {
      const response = await clientFor(server, key).GET('/v1/workflows');
      expect(response.status, `request ${i}`).toBe(200);
      expect(response.headers.get('x-ratelimit-remaining'), `request ${i}`).toBe(String(60 - i));
      expect(response.headers.get('x-ratelimit-limit')).toBe('60');
    }
    const refused = await clientFor(server, key).GET('/v1/workflows');
    expect(refused.status).toBe(429);
    expect(refused.error?.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    // The plan's minute governs, not the 1000/min read limit.
    expect(refused.headers.get('ratelimit')).toMatch(/^"plan-minute";r=0;t=\d+$/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    const reset = Number(refused.headers.get('x-ratelimit-reset'));
    // All 60 fell in the bucket of START (whole seconds): they stop counting one window after its end.
    expect(reset).toBe((START + 1_000 + 60_000) / 1000);
    expect(retryAfter).toBe(Math.ceil((reset * 1000 - clock.now) / 1000));

    clock.tick(retryAfter * 1000 - 1);
    expect((await clientFor(server, key).GET('/v1/workflows')).status, 'a millisecond early').toBe(429);
    clock.tick(1);
    const admitted = await clientFor(server, key).GET('/v1/workflows');
    expect(admitted.status, 'exactly at Retry-After').toBe(200);
  });

  test('RateLimit-Policy lists every applicable policy; GET /v1/usage agrees with the headers', async () => {
    const { server } = await serverWith({ plan: 'free' });
    const usage = await clientFor(server, server.secretKey).GET('/v1/usage');
    expect(usage.status).toBe(200);
    expect(usage.headers.get('ratelimit-policy')).toBe(
      '"plan-minute";q=60;w=60, "plan-hour";q=1000;w=3600, "read";q=1000;w=60, "api-key";q=1000;w=3600',
    );
    expect(usage.data?.data.governing_policy).toBe('plan-minute');
    const minute = usage.data!.data.policies.find((p: { name: string }) => p.name === 'plan-minute');
    expect(minute).toMatchObject({ applies_to: 'plan', limit: 60, used: 1, remaining: 59 });
    expect(String(minute?.remaining)).toBe(usage.headers.get('x-ratelimit-remaining'));
    expect(usage.data?.data.policies.map((p: { name: string }) => p.name).sort()).toEqual([
      'api-key',
      'events-ip',
      'execute',
      'plan-hour',
      'plan-minute',
      'read',
      'write',
    ]);
  });

  test('writes are limited at 100/min by category on a big plan, and a refused write consumes no read', async () => {
    const { server } = await serverWith({ plan: 'enterprise' });
    const key = server.secretKey;
    const body = {
      name: 'w',
      trigger: { type: 'manual' as const },
      steps: [{ id: 'a', type: 'log' as const, message: 'x' }],
    };
    for (let i = 1; i <= 100; i++)
      expect((await clientFor(server, key).POST('/v1/workflows', { body })).status, `write ${i}`).toBe(201);
    const refused = await clientFor(server, key).POST('/v1/workflows', { body });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit')).toMatch(/^"write";r=0;/);
    for (let i = 0; i < 5; i++) await clientFor(server, key).POST('/v1/workflows', { body });
    const usage = await clientFor(server, key).GET('/v1/usage');
    const standing = (name: string) => usage.data!.data.policies.find((p: { name: string }) => p.name === name);
    // 100 admitted writes + this read; the 6 refused writes counted nowhere.
    expect(standing('plan-minute')?.used).toBe(101);
    expect(standing('api-key')?.used).toBe(101);
    expect(standing('write')?.used).toBe(100);
  });
});

describe('composition', () => {
  test('the limits of two keys do not interfere; the account plan is shared', async () => {
    const { server } = await serverWith({ plan: 'pro' });
    const config = defaults;
    const other = await mainTenant(server, 'pro').key();
    const elsewhere = await (await newTenant(server, 'pro')).key();
    for (let i = 0; i < 5; i++) await clientFor(server, server.secretKey).GET('/v1/workflows');
    const second = await clientFor(server, other.secret).GET('/v1/workflows');
    // Same account: the plan minute has 6 used; the other key's own api-key policy has 1.
    expect(second.headers.get('x-ratelimit-remaining')).toBe(String(config.plans.pro[0]!.limit - 6));
    const third = await clientFor(server, elsewhere.secret).GET('/v1/workflows');
    expect(third.headers.get('x-ratelimit-remaining')).toBe(String(config.plans.pro[0]!.limit - 1));
  });

  test('events are limited per client IP, whatever key sends them', async () => {
    const config: RateLimitConfig = { ...defaults, eventsPerClientIp: { ...defaults.eventsPerClientIp, limit: 5 } };
    const { server } = await serverWith({ plan: 'enterprise', config, trustProxy: true });
    const tenantA = mainTenant(server);
    const tenantB = await newTenant(server);
    const keys = [
      (await tenantA.key({ type: 'client', scopes: ['events:write'] })).secret,
      (await tenantB.key({ type: 'client', scopes: ['events:write'] })).secret,
    ];
    const event = { type: 'order.created', data: { order_id: 'o1' } };
    // Through the trusted proxy, which terminates TLS: the client address is the forwarded one.
    const from = (ip: string) => ({ 'X-Forwarded-For': ip, 'X-Forwarded-Proto': 'https' });
    for (let i = 0; i < 5; i++) {
      expect(
        (await clientFor(server, keys[i % 2]).POST('/v1/events', { body: event, headers: from('198.51.100.7') }))
          .status,
      ).toBe(202);
    }
    const refused = await clientFor(server, keys[0]).POST('/v1/events', { body: event, headers: from('198.51.100.7') });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit')).toMatch(/^"events-ip";r=0;/);
    // Another address is not affected.
    expect(
      (await clientFor(server, keys[0]).POST('/v1/events', { body: event, headers: from('198.51.100.8') })).status,
    ).toBe(202);
  });
});

describe('audit', () => {
  test('refusals are aggregated: one rate_limit.exceeded entry per principal and minute, with the count', async () => {
    const { server, clock } = await serverWith({ plan: 'free' });
    const key = server.secretKey;
    for (let i = 0; i < 60; i++) await clientFor(server, key).GET('/v1/workflows');
    for (let i = 0; i < 7; i++) expect((await clientFor(server, key).GET('/v1/workflows')).status).toBe(429);
    clock.tick(120_000);
    await server.server.flush();
    const reader = await mainTenant(server).key({ scopes: ['audit:read'] });
    const log = await clientFor(server, reader.secret).GET('/v1/audit-logs', {
      params: { query: { action: 'rate_limit.exceeded' } },
    });
    expect(log.data?.data).toHaveLength(1);
    expect(log.data?.data[0]).toMatchObject({
      outcome: 'denied',
      actor: { type: 'api_key' },
      metadata: { policy: 'plan-minute', count: 7 },
    });
  });
});

describe('brute-force guards', () => {
  test('login brute force from one address is blocked, while the same user from another address and other users still log in', async () => {
    const config: RateLimitConfig = {
      ...defaults,
      guards: { ...defaults.guards, login: { ...defaults.guards.login, limit: 3 } },
    };
    const { server } = await serverWith({ plan: 'enterprise', config, trustProxy: true });
    const other = { email: 'colleague@example.com', password: 'another long password 1' };
    await server.server.services.accounts.createUser({
      accountId: server.accountId,
      projectId: server.projectId,
      email: other.email,
      name: 'Colleague',
      password: other.password,
      role: 'member',
    });
    const from = (ip: string) => ({ 'X-Forwarded-For': ip, 'X-Forwarded-Proto': 'https' });
    const login = (credentials: { email: string; password: string }, ip: string) =>
      clientFor(server, null).POST('/v1/auth/login', { body: credentials, headers: from(ip) });

    const attacker = '203.0.113.66';
    for (let i = 0; i < 3; i++)
      expect((await login({ email: server.owner.email, password: `guess ${i}` }, attacker)).status).toBe(401);
    const blocked = await login(server.owner, attacker);
    expect(blocked.status, 'even the right password, from the attacking address').toBe(429);
    expect(blocked.error?.error.code).toBe('too_many_attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    expect((await login(server.owner, '198.51.100.20')).status, 'the owner from their own address').toBe(200);
    expect((await login(other, '198.51.100.21')).status, 'another user from another address').toBe(200);
  });
});
