// The public leaked-key report (POST /v1/credentials/revoke) against the real
// server: the same answer whatever was reported, a live key revoked at once and
// audited in its own project without the secret, no lookup for a bad checksum,
// and a per-address limit on reports.
import { beforeAll, describe, expect, it } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { newTenant, type Tenant } from '../support/fixtures.ts';
import { generousRateLimits } from '../support/server.ts';
import {
  auditEntriesOf,
  auditRows,
  BEHIND_PROXY,
  fromIp,
  hiddenPart,
  queryRecorder,
  unknownWellFormedKey,
  withBadChecksum,
} from './auth-helpers.ts';

const REPORTS_ALLOWED = 5;
const queries = queryRecorder();
let victim: Tenant;
/** Each test reports from its own address, so the per-address limit does not carry over. */
let nextAddress = 1;
const reporterIp = () => `203.0.113.${nextAddress++}`;

const api = useTestServer(() => {
  const limits = generousRateLimits();
  const rateLimitConfig = {
    ...limits,
    guards: {
      ...limits.guards,
      leaked_key_reports: { name: 'leaked-key-reports', limit: REPORTS_ALLOWED, windowSeconds: 60 },
    },
  };
  return { env: BEHIND_PROXY, rateLimitConfig, observeQueries: queries.observe };
});
beforeAll(async () => {
  victim = await newTenant(api.server);
});

const report = (
  credential: string,
  ip: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) =>
  api
    .as(null)
    .POST('/v1/credentials/revoke', { body: { credential, ...extra }, headers: { ...fromIp(ip), ...headers } });

describe('the answer', () => {
  it('is the same 202 and body for a live key, an unknown key, a bad checksum and garbage', async () => {
    const live = await victim.key({ environment: 'live', scopes: ['read'] });
    const ip = reporterIp();
    const answers = await Promise.all(
      [live.secret, unknownWellFormedKey('sk', 'live'), withBadChecksum(live.secret), 'hunter2 is my password'].map(
        (credential) => report(credential, ip),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(202);
      expect(answer.text).toBe(answers[0]!.text);
      expect(answer.headers.get('content-type')).toBe(answers[0]!.headers.get('content-type'));
    }
    expect(answers[0]!.data).toEqual({ success: true, data: { received: true } });
  });

  it('is the same for a key reported twice (already revoked)', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    const ip = reporterIp();
    const first = await report(key.secret, ip);
    const second = await report(key.secret, ip);
    expect(second.status).toBe(202);
    expect(second.text).toBe(first.text);
  });

  it('needs no credential, and ignores one that is sent', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    const response = await report(key.secret, reporterIp(), {}, { Authorization: 'Bearer sk_live_not-even-a-key' });
    expect(response.status).toBe(202);
    expect((await api.as(key.secret).GET('/v1/workflows')).error?.error.code).toBe('revoked_api_key');
  });

  it('refuses a body that is not a report with 400', async () => {
    const response = await api
      .fromIp(reporterIp(), null)
      .POST('/v1/credentials/revoke', { body: offContract({ key: 'sk_live_x' }) });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('validation_failed');
  });
});

describe('a reported key', () => {
  it('is revoked at once, current and grace-period secrets alike', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read', 'keys:write'] });
    expect((await api.as(key.secret).GET('/v1/workflows')).status).toBe(200);
    const rotated = await api.as(key.secret).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 3600 },
    });
    expect(rotated.status).toBe(200);

    expect((await report(key.secret, reporterIp())).status).toBe(202);

    for (const secret of [key.secret, rotated.data!.data.secret]) {
      const response = await api.as(secret).GET('/v1/workflows');
      expect(response.status).toBe(401);
      expect(response.error?.error.code).toBe('revoked_api_key');
    }
  });

  it('revokes the key when the reported secret is a previous one still in its grace period', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read', 'keys:write'] });
    const rotated = await api.as(key.secret).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 3600 },
    });
    await report(key.secret, reporterIp());
    expect((await api.as(rotated.data?.data.secret).GET('/v1/workflows')).error?.error?.code).toBe('revoked_api_key');
  });

  it('does not revoke the key when the reported secret was already rotated out (the owners acted first)', async () => {
    // The documented response to a leak is a rotation with grace 0; a scanner that finds the
    // old secret later must not take the new one down with it.
    const key = await victim.key({ environment: 'live', scopes: ['read', 'keys:write'] });
    const rotated = await api.as(key.secret).POST('/v1/auth/api-keys/{key_id}/rotate', {
      params: { path: { key_id: key.id } },
      body: { grace_period_seconds: 0 },
    });
    expect(rotated.status).toBe(200);
    expect((await report(key.secret, reporterIp())).status).toBe(202);
    expect((await api.as(rotated.data?.data.secret).GET('/v1/workflows')).status).toBe(200);
    expect(
      await auditEntriesOf(api.server, victim, 'live', { action: 'api_key.reported_leaked', resource_id: key.id }),
    ).toEqual([]);
  });

  it('is recorded as api_key.reported_leaked in its own project audit log, without the secret', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    const ip = reporterIp();
    await report(key.secret, ip, {
      source_url: 'https://github.com/example-org/billing-scripts/blob/main/deploy.sh',
      reporter: 'GitHub Secret Scanning',
    });

    const entries = await auditEntriesOf(api.server, victim, 'live', {
      action: 'api_key.reported_leaked',
      resource_id: key.id,
    });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      outcome: 'success',
      actor: { type: 'anonymous' },
      resource: { type: 'api_key', id: key.id },
      ip,
      environment: 'live',
      metadata: {
        source_url: 'https://github.com/example-org/billing-scripts/blob/main/deploy.sh',
        reporter: 'GitHub Secret Scanning',
      },
    });
    expect(JSON.stringify(entries[0])).not.toContain(hiddenPart(key.secret));
    const revokedKey = await api
      .as((await victim.key({ environment: 'live', scopes: ['keys:read'] })).secret)
      .GET('/v1/auth/api-keys/{key_id}', { params: { path: { key_id: key.id } } });
    expect(revokedKey.data?.data.status).toBe('revoked');
  });

  it('is recorded in no other project', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    await report(key.secret, reporterIp());
    const bystander = await newTenant(api.server);
    const elsewhere = await auditEntriesOf(api.server, bystander, 'live', { action: 'api_key.reported_leaked' });
    expect(elsewhere).toEqual([]);
    const mainProject = await api.client.GET('/v1/audit-logs', {
      params: { query: { action: 'api_key.reported_leaked' } },
    });
    expect(mainProject.data?.data).toEqual([]);
  });

  it('never lands in the audit log, the logs or the database in clear', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    await report(key.secret, reporterIp(), { reporter: 'A stranger' });
    const everything = await api.server.server.database.db.selectFrom('audit_logs').selectAll().execute();
    expect(JSON.stringify(everything)).not.toContain(hiddenPart(key.secret));
    expect(api.server.logs.join('\n')).not.toContain(hiddenPart(key.secret));
  });

  it('of a test key is revoked the same way, and audited in the test environment', async () => {
    const key = await victim.key({ environment: 'test', scopes: ['read'] });
    await report(key.secret, reporterIp());
    expect((await api.as(key.secret).GET('/v1/workflows')).error?.error.code).toBe('revoked_api_key');
    expect(
      await auditEntriesOf(api.server, victim, 'test', { action: 'api_key.reported_leaked', resource_id: key.id }),
    ).toHaveLength(1);
  });
});

describe('reports that are not keys', () => {
  it('with a bad checksum are discarded without a lookup of api_key_secrets', async () => {
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    queries.start();
    const response = await report(withBadChecksum(key.secret), reporterIp());
    const seen = queries.stop();
    expect(response.status).toBe(202);
    expect(seen.filter((sql) => sql.includes('api_key_secrets'))).toEqual([]);
    // The key itself is untouched.
    expect((await api.as(key.secret).GET('/v1/workflows')).status).toBe(200);
  });

  it('leave no audit entry anywhere', async () => {
    const before = (await auditRows(api.server, 'api_key.reported_leaked')).length;
    const ip = reporterIp();
    await report(unknownWellFormedKey('rk', 'live'), ip);
    await report('not a key at all', ip);
    expect((await auditRows(api.server, 'api_key.reported_leaked')).length).toBe(before);
  });
});

describe('the per-address limit', () => {
  it(`answers 429 too_many_attempts with Retry-After after ${REPORTS_ALLOWED} reports from one address, whatever they held`, async () => {
    const flooder = reporterIp();
    for (let i = 0; i < REPORTS_ALLOWED; i += 1) {
      const response = await report(i % 2 === 0 ? unknownWellFormedKey('sk', 'live') : `garbage ${i}`, flooder);
      expect(response.status, `report ${i + 1}`).toBe(202);
    }
    const refused = await report(unknownWellFormedKey('sk', 'live'), flooder);
    expect(refused.status).toBe(429);
    expect(refused.error?.error.code).toBe('too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('does not revoke a key reported by an address that is over the limit', async () => {
    const flooder = reporterIp();
    for (let i = 0; i < REPORTS_ALLOWED; i += 1) await report(`garbage ${i}`, flooder);
    const key = await victim.key({ environment: 'live', scopes: ['read'] });
    expect((await report(key.secret, flooder)).status).toBe(429);
    expect((await api.as(key.secret).GET('/v1/workflows')).status).toBe(200);
  });

  it('leaves other addresses free to report', async () => {
    const flooder = reporterIp();
    for (let i = 0; i < REPORTS_ALLOWED + 1; i += 1) await report(`garbage ${i}`, flooder);
    expect((await report('garbage', flooder)).status).toBe(429);
    expect((await report('garbage', reporterIp())).status).toBe(202);
  });

  it('shows the standing of the report limit in the rate-limit headers', async () => {
    const ip = reporterIp();
    const first = await report('garbage', ip);
    expect(first.headers.get('ratelimit-policy')).toContain('leaked-key-reports');
    expect(first.headers.get('x-ratelimit-limit')).toBe(String(REPORTS_ALLOWED));
    expect(first.headers.get('x-ratelimit-remaining')).toBe(String(REPORTS_ALLOWED - 1));
  });
});
