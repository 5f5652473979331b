// Where a request comes from, against the real server: per-key IP allowlists
// (IPv4 and IPv6 CIDR), X-Forwarded-For believed only from a trusted proxy, and
// the per-address limit on failed credential attempts, which holds for requests
// that never authenticate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor, envelopeOf, type AnyAnswer } from '../support/api.ts';
import { mainTenant, type Tenant } from '../support/fixtures.ts';
import { generousRateLimits, startTestServer, type TestServer } from '../support/server.ts';
import {
  auditRows,
  BEHIND_PROXY,
  fromIp,
  manualClock,
  MINUTE,
  unknownWellFormedKey,
  withBadChecksum,
} from './auth-helpers.ts';

const FAILURES_ALLOWED = 3;
const clock = manualClock();
let proxied: TestServer;
let direct: TestServer;
let tenant: Tenant;

beforeAll(async () => {
  const limits = generousRateLimits();
  const rateLimitConfig = {
    ...limits,
    guards: {
      ...limits.guards,
      failed_credentials: { name: 'failed-credentials', limit: FAILURES_ALLOWED, windowSeconds: 60 },
    },
  };
  [proxied, direct] = await Promise.all([
    startTestServer({ env: BEHIND_PROXY, clock: clock.clock, rateLimitConfig }),
    startTestServer(),
  ]);
  tenant = mainTenant(proxied);
});
afterAll(async () => {
  await Promise.all([proxied.close(), direct.close()]);
});

const listFrom = (server: TestServer, key: string, ip: string) =>
  clientFor(server, key).GET('/v1/workflows', { headers: fromIp(ip) });

function expectIpNotAllowed(response: AnyAnswer): void {
  expect(response.status).toBe(403);
  expect(envelopeOf(response)?.error.code).toBe('ip_not_allowed');
}

describe('IP allowlists', () => {
  it('admits an IPv4 client inside a CIDR and refuses one outside with 403 ip_not_allowed', async () => {
    const key = await tenant.key({ allowed_ips: ['203.0.113.0/24'] });
    expect((await listFrom(proxied, key.secret, '203.0.113.7')).status).toBe(200);
    expect((await listFrom(proxied, key.secret, '203.0.113.255')).status).toBe(200);
    expectIpNotAllowed(await listFrom(proxied, key.secret, '203.0.114.7'));
    expectIpNotAllowed(await listFrom(proxied, key.secret, '198.51.100.7'));
  });

  it('treats a /32 as exactly one address', async () => {
    const key = await tenant.key({ allowed_ips: ['198.51.100.23/32'] });
    expect((await listFrom(proxied, key.secret, '198.51.100.23')).status).toBe(200);
    expectIpNotAllowed(await listFrom(proxied, key.secret, '198.51.100.24'));
  });

  it('admits an IPv6 client inside a CIDR and refuses one outside', async () => {
    const key = await tenant.key({ allowed_ips: ['2001:db8:4c2::/48'] });
    expect((await listFrom(proxied, key.secret, '2001:db8:4c2:17::5')).status).toBe(200);
    expect((await listFrom(proxied, key.secret, '2001:0db8:04c2:ffff:ffff:ffff:ffff:ffff')).status).toBe(200);
    expectIpNotAllowed(await listFrom(proxied, key.secret, '2001:db8:4c3::5'));
    expectIpNotAllowed(await listFrom(proxied, key.secret, '203.0.113.7'));
  });

  it('accepts any network of a mixed list, and an IPv4-mapped IPv6 client as its IPv4 address', async () => {
    const key = await tenant.key({ allowed_ips: ['2001:db8:4c2::/48', '192.0.2.0/28'] });
    expect((await listFrom(proxied, key.secret, '192.0.2.14')).status).toBe(200);
    expect((await listFrom(proxied, key.secret, '::ffff:192.0.2.3')).status).toBe(200);
    expect((await listFrom(proxied, key.secret, '2001:db8:4c2::1')).status).toBe(200);
    expectIpNotAllowed(await listFrom(proxied, key.secret, '192.0.2.16'));
  });

  it('records the refusal as authorization.denied in the key project audit log, with the key id', async () => {
    const key = await tenant.key({ allowed_ips: ['203.0.113.0/24'] });
    const refused = await listFrom(proxied, key.secret, '198.51.100.99');
    expectIpNotAllowed(refused);
    const reader = await tenant.key({ scopes: ['audit:read'] });
    const audit = await clientFor(proxied, reader.secret).GET('/v1/audit-logs', {
      params: { query: { action: 'authorization.denied', request_id: refused.headers.get('x-request-id')! } },
    });
    expect(audit.data?.data).toHaveLength(1);
    expect(audit.data?.data[0]).toMatchObject({
      outcome: 'denied',
      ip: '198.51.100.99',
      actor: { type: 'api_key', key_id: key.id },
      metadata: { code: 'ip_not_allowed' },
    });
  });
});

describe('X-Forwarded-For', () => {
  it('is ignored from a peer that is not a trusted proxy', async () => {
    const tenantOfDirect = mainTenant(direct);
    const remoteOnly = await tenantOfDirect.key({ allowed_ips: ['203.0.113.0/24'] });
    expectIpNotAllowed(
      await clientFor(direct, remoteOnly.secret).GET('/v1/workflows', {
        headers: { 'X-Forwarded-For': '203.0.113.7' },
      }),
    );

    const loopbackOnly = await tenantOfDirect.key({ allowed_ips: ['127.0.0.1/32'] });
    const response = await clientFor(direct, loopbackOnly.secret).GET('/v1/workflows', {
      headers: { 'X-Forwarded-For': '198.51.100.1' },
    });
    expect(response.status).toBe(200);
    const shown = await clientFor(direct, direct.secretKey).GET('/v1/auth/api-keys/{key_id}', {
      params: { path: { key_id: loopbackOnly.id } },
    });
    expect(shown.data?.data.last_used_ip).toBe('127.0.0.1');
  });

  it('from a trusted proxy, believes only the address the proxy itself saw, not what the client prepended', async () => {
    const key = await tenant.key({ allowed_ips: ['203.0.113.0/24'] });
    // The client sent "X-Forwarded-For: 203.0.113.7"; the proxy appended the address it saw.
    expectIpNotAllowed(
      await clientFor(proxied, key.secret).GET('/v1/workflows', {
        headers: { ...fromIp('203.0.113.7, 198.51.100.9') },
      }),
    );
  });
});

describe('failed credential attempts per client address', () => {
  it(`answers 429 too_many_attempts with Retry-After after ${FAILURES_ALLOWED} failures from one address, even for a valid key`, async () => {
    const attacker = '198.51.100.66';
    const revoked = await tenant.key();
    await clientFor(proxied, proxied.secretKey).DELETE('/v1/auth/api-keys/{key_id}', {
      params: { path: { key_id: revoked.id } },
    });
    const attempts = [unknownWellFormedKey(), withBadChecksum(proxied.secretKey), revoked.secret];
    for (const key of attempts) expect((await listFrom(proxied, key, attacker)).status).toBe(401);

    const blocked = await listFrom(proxied, unknownWellFormedKey(), attacker);
    expect(blocked.status).toBe(429);
    expect(blocked.error?.error.code).toBe('too_many_attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(61); // the window, plus at most one 1-second bucket

    const validKeyFromThere = await listFrom(proxied, proxied.secretKey, attacker);
    expect(validKeyFromThere.status).toBe(429);
    expect(validKeyFromThere.error?.error.code).toBe('too_many_attempts');
  });

  it('does not block another address', async () => {
    const attacker = '198.51.100.77';
    for (let i = 0; i < FAILURES_ALLOWED + 1; i += 1) await listFrom(proxied, unknownWellFormedKey(), attacker);
    expect((await listFrom(proxied, unknownWellFormedKey(), attacker)).status).toBe(429);

    expect((await listFrom(proxied, proxied.secretKey, '198.51.100.78')).status).toBe(200);
    expect((await listFrom(proxied, unknownWellFormedKey(), '198.51.100.78')).status).toBe(401);
  });

  it('counts an IPv6 client per /64, so stepping through its own /64 does not help', async () => {
    for (let i = 1; i <= FAILURES_ALLOWED; i += 1)
      expect((await listFrom(proxied, unknownWellFormedKey(), `2001:db8:aa:1::${i}`)).status).toBe(401);
    expect((await listFrom(proxied, unknownWellFormedKey(), '2001:db8:aa:1::ffff')).status).toBe(429);
    expect((await listFrom(proxied, proxied.secretKey, '2001:db8:aa:2::1')).status).toBe(200);
  });

  it('does not count successes, scope refusals or allowlist refusals', async () => {
    const client = '198.51.100.88';
    const readOnly = await tenant.key({ scopes: ['workflows:read'] });
    const elsewhere = await tenant.key({ allowed_ips: ['203.0.113.0/24'] });
    for (let i = 0; i < FAILURES_ALLOWED + 2; i += 1) {
      expect((await listFrom(proxied, proxied.secretKey, client)).status).toBe(200);
      expect(
        (
          await clientFor(proxied, readOnly.secret).DELETE('/v1/workflows/{workflow_id}', {
            params: { path: { workflow_id: 'wf_000000000000000000000000' } },
            headers: fromIp(client),
          })
        ).status,
      ).toBe(403);
      expectIpNotAllowed(await listFrom(proxied, elsewhere.secret, client));
    }
    expect((await listFrom(proxied, unknownWellFormedKey(), client)).status).toBe(401);
  });

  it('lets the address try again once the window has passed', async () => {
    const client = '198.51.100.99';
    for (let i = 0; i < FAILURES_ALLOWED; i += 1) await listFrom(proxied, unknownWellFormedKey(), client);
    expect((await listFrom(proxied, proxied.secretKey, client)).status).toBe(429);
    clock.advance(2 * MINUTE);
    expect((await listFrom(proxied, proxied.secretKey, client)).status).toBe(200);
  });

  it('records each failure as auth.failed with its code and the client address', async () => {
    const client = '198.51.100.111';
    const response = await listFrom(proxied, withBadChecksum(proxied.secretKey), client);
    const rows = (await auditRows(proxied, 'auth.failed')).filter(
      (row) => row.request_id === response.headers.get('x-request-id'),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ip: client, outcome: 'failure' });
    expect(JSON.parse(rows[0]!.metadata)).toMatchObject({ code: 'invalid_api_key' });
  });
});
