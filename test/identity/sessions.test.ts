// Users and sessions against the real server: login that never reveals whether an
// account exists, brute-force limits, refresh rotation and reuse detection,
// logout, roles and their scopes, and the audit trail (never with a secret).
import { beforeAll, describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { generousRateLimits } from '../support/server.ts';
import { auditEntries, login, MINUTE, movableClock, registerApp } from './support.ts';

const MEMBER = { email: 'member@example.com', password: 'member password 12345' };

describe('sessions', () => {
  const time = movableClock();
  const api = useIdentityServer(() => {
    const limits = generousRateLimits();
    // Small login limits, so the brute-force test is quick; failed_credentials stays generous.
    return {
      clock: time.clock,
      rateLimitConfig: {
        ...limits,
        guards: { ...limits.guards, login: { name: 'login', limit: 3, windowSeconds: 900 } },
      },
    };
  });
  beforeAll(async () => {
    await api.server.server.services.accounts.createUser({
      accountId: api.server.accountId,
      projectId: api.server.projectId,
      email: MEMBER.email,
      name: 'Member',
      password: MEMBER.password,
      role: 'member',
    });
  });

  test("login returns a session: a JWT, a refresh token, their expiries and the role's scopes, never cached", async () => {
    const response = await api
      .as(null)
      .POST('/v1/auth/login', { body: { email: 'OWNER@Example.com', password: api.server.owner.password } });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.headers.get('ratelimit-policy')).toContain('"login"');
    const session = response.data!.data;
    expect(session.token_type).toBe('Bearer');
    expect(Date.parse(session.expires_at) - time.now()).toBeGreaterThan(3590_000);
    expect(Date.parse(session.refresh_token_expires_at) - time.now()).toBeGreaterThan(29 * 24 * 3600_000);
    expect(session.scopes).toContain('keys:write');
    const verify = await api.as(session.token).GET('/v1/auth/verify');
    expect(verify.data?.data).toMatchObject({
      authenticated: true,
      auth_method: 'jwt',
      account_id: api.server.accountId,
      project_id: api.server.projectId,
      expires_at: session.expires_at,
    });
  });

  test('a wrong password and an unknown email get the same answer, in comparable time', async () => {
    const wrong = await api
      .as(null)
      .POST('/v1/auth/login', { body: { email: api.server.owner.email, password: 'not the password' } });
    const unknown = await api
      .as(null)
      .POST('/v1/auth/login', { body: { email: 'nobody@example.com', password: 'not the password' } });
    for (const response of [wrong, unknown]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="aetherflow"');
    }
    const strip = (body: { error: Record<string, unknown> }) => ({ ...body.error, request_id: undefined });
    expect(strip(unknown.error!)).toEqual(strip(wrong.error!));
    expect(wrong.error?.error.code).toBe('invalid_credentials');

    // Both paths run one scrypt hash: the unknown email against a decoy. Medians of a few tries.
    const timed = async (email: string) => {
      const started = performance.now();
      await api.as(null).POST('/v1/auth/login', { body: { email, password: 'still not the password' } });
      return performance.now() - started;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    // One failure per registered user, so the login limit (3 here) never cuts a check short.
    const known: number[] = [];
    const none: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const email = `timing-${i}@example.com`;
      await api.server.server.services.accounts.createUser({
        accountId: api.server.accountId,
        projectId: api.server.projectId,
        email,
        name: 'Timing',
        password: 'timing password 12345',
        role: 'member',
      });
      known.push(await timed(email));
      none.push(await timed(`nobody-${i}@example.com`));
    }
    expect(median(none)).toBeGreaterThan(median(known) * 0.5);
  });

  test('after too many failures for one email from one address, even the right password gets 429; others are not affected', async () => {
    const victim = { email: 'victim@example.com', password: 'victim password 12345' };
    await api.server.server.services.accounts.createUser({
      accountId: api.server.accountId,
      projectId: api.server.projectId,
      email: victim.email,
      name: 'Victim',
      password: victim.password,
      role: 'member',
    });
    for (let i = 0; i < 3; i += 1)
      expect(
        (await api.as(null).POST('/v1/auth/login', { body: { email: victim.email, password: `guess ${i}` } })).status,
      ).toBe(401);
    const blocked = await api.as(null).POST('/v1/auth/login', { body: victim });
    expect(blocked.status).toBe(429);
    expect(blocked.error?.error.code).toBe('too_many_attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.headers.get('ratelimit-policy')).toContain('"login"');
    // Another user from the same address still logs in.
    expect((await api.as(null).POST('/v1/auth/login', { body: MEMBER })).status).toBe(200);
    // The window passes: the right password works again, and a success is not counted.
    time.advance(16 * MINUTE);
    expect((await api.as(null).POST('/v1/auth/login', { body: victim })).status).toBe(200);
    const entries = await auditEntries(api.server, 'auth.login_failed');
    expect(entries.some((e) => JSON.parse(e.metadata).reason === 'too_many_attempts' && e.actor_id === null)).toBe(
      true,
    );
  });

  test('a project of another account, or unknown, is refused after the password check', async () => {
    const other = await api.server.server.services.accounts.createAccount('Other', 'free');
    const response = await api
      .as(null)
      .POST('/v1/auth/login', { body: { ...api.server.owner, project_id: other.projectId } });
    expect(response.status).toBe(400);
    expect(response.error?.error.details?.[0]?.location).toBe('body.project_id');
    // With a wrong password the project is never looked at.
    expect(
      (
        await api.as(null).POST('/v1/auth/login', {
          body: { email: api.server.owner.email, password: 'wrong', project_id: other.projectId },
        })
      ).status,
    ).toBe(401);
    const second = await api.server.server.services.accounts.createProject(api.server.accountId, 'Second');
    const chosen = await api.as(null).POST('/v1/auth/login', { body: { ...api.server.owner, project_id: second } });
    expect(chosen.status).toBe(200);
    expect((await api.as(chosen.data?.data.token).GET('/v1/auth/verify')).data?.data.project_id).toBe(second);
  });

  test('refresh rotates: a new pair each time; the used refresh token no longer works', async () => {
    const first = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const second = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(second.data?.data.refresh_token).not.toBe(first.refresh_token);
    expect(second.data?.data.token).not.toBe(first.token);
    const third = await api
      .as(null)
      .POST('/v1/auth/refresh', { body: { refresh_token: second.data!.data.refresh_token } });
    expect(third.status).toBe(200);
    expect((await api.as(third.data?.data.token).GET('/v1/workflows')).status).toBe(200);
    for (const unknown of ['not-a-refresh-token', 'x'.repeat(43)]) {
      const response = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: unknown } });
      expect(response.status).toBe(401);
      expect(response.error?.error.code).toBe('invalid_refresh_token');
    }
  });

  test('refresh-token reuse revokes the whole family and is audited', async () => {
    const first = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const second = (await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: first.refresh_token } })).data!
      .data;
    const third = (await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: second.refresh_token } })).data!
      .data;
    // An attacker replays the first refresh token.
    const replay = await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(replay.status).toBe(401);
    expect(replay.error?.error.code).toBe('invalid_refresh_token');
    // Every descendant is dead: the newest refresh token and every access token.
    expect((await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: third.refresh_token } })).status).toBe(
      401,
    );
    for (const token of [first.token, second.token, third.token]) {
      expect((await api.as(token).GET('/v1/auth/verify')).error?.error.code).toBe('token_revoked');
    }
    const entries = await auditEntries(api.server, 'token.refresh_reuse_detected');
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.at(-1)).toMatchObject({ account_id: api.server.accountId, outcome: 'denied' });
  });

  test('concurrent refreshes with one token: one wins, the other is a reuse', async () => {
    const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const answers = await Promise.all(
      [1, 2].map(() => api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
  });

  test('logout revokes the access token and its session; other sessions live on', async () => {
    const a = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const b = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const refreshedA = (await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: a.refresh_token } })).data!
      .data;
    const out = await api.as(refreshedA.token).POST('/v1/auth/logout');
    expect(out.status).toBe(200);
    expect(out.data?.data).toEqual({ revoked: true });
    expect((await api.as(refreshedA.token).GET('/v1/auth/verify')).error?.error.code).toBe('token_revoked');
    expect((await api.as(a.token).GET('/v1/auth/verify')).error?.error.code).toBe('token_revoked');
    expect(
      (await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: refreshedA.refresh_token } })).status,
    ).toBe(401);
    // Logging out again: token_revoked, which a client can take as done.
    const again = await api.as(refreshedA.token).POST('/v1/auth/logout', { body: {} });
    expect(again.status).toBe(401);
    expect(again.error?.error.code).toBe('token_revoked');
    // Session b is untouched.
    expect((await api.as(b.token).GET('/v1/auth/verify')).status).toBe(200);
    expect((await auditEntries(api.server, 'auth.logout')).length).toBeGreaterThan(0);
  });

  test('logout with a refresh_token also ends that session (same user only)', async () => {
    const a = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const other = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const member = await login(api.server.baseUrl, MEMBER.email, MEMBER.password);
    expect(
      (await api.as(a.token).POST('/v1/auth/logout', { body: { refresh_token: other.refresh_token } })).status,
    ).toBe(200);
    expect((await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: other.refresh_token } })).status).toBe(
      401,
    );
    // Someone else's refresh token is ignored.
    const b = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    expect(
      (await api.as(b.token).POST('/v1/auth/logout', { body: { refresh_token: member.refresh_token } })).status,
    ).toBe(200);
    expect(
      (await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: member.refresh_token } })).status,
    ).toBe(200);
  });

  test('logout takes only session tokens: an API key or an OAuth token gets 401 invalid_token', async () => {
    const withKey = await api.client.POST('/v1/auth/logout', { body: {} });
    expect(withKey.status).toBe(401);
    expect(withKey.error?.error.code).toBe('invalid_token');
    const app = await registerApp(api.server);
    const tokenAnswer = await fetch(`${api.server.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await tokenAnswer.json()) as { access_token: string };
    const withOAuth = await api.as(access_token).POST('/v1/auth/logout', { body: {} });
    expect(withOAuth.status).toBe(401);
    expect(withOAuth.error?.error.code).toBe('invalid_token');
    expect((await api.as(access_token).GET('/v1/auth/verify')).status).toBe(200);
  });

  test("roles: an owner's session manages API keys (keys:write); a member's does not", async () => {
    const owner = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const created = await api
      .as(owner.token)
      .POST('/v1/auth/api-keys', { body: { name: 'From a session', type: 'secret', scopes: ['workflows:read'] } });
    expect(created.status).toBe(201);
    expect(created.data?.data.environment).toBe('live');
    const member = await login(api.server.baseUrl, MEMBER.email, MEMBER.password);
    expect(member.scopes).not.toContain('keys:write');
    const refused = await api
      .as(member.token)
      .POST('/v1/auth/api-keys', { body: { name: 'Nope', type: 'secret', scopes: ['workflows:read'] } });
    expect(refused.status).toBe(403);
    expect(refused.error?.error.code).toBe('insufficient_scope');
    expect((await api.as(member.token).GET('/v1/workflows')).status).toBe(200);
  });

  test('every login is audited, successful or not, and no password or token reaches the audit log or the logs', async () => {
    const session = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const wrong = await api
      .as(null)
      .POST('/v1/auth/login', { body: { email: api.server.owner.email, password: 'a-wrong-password-in-the-logs?' } });
    const ok = await auditEntries(api.server, 'auth.login_succeeded');
    // The clock is frozen, so entries share occurred_at: find this attempt's entry by its request id.
    const failed = (await auditEntries(api.server, 'auth.login_failed')).filter(
      (entry) => entry.request_id === wrong.headers.get('x-request-id'),
    );
    expect(ok.at(-1)).toMatchObject({ actor_type: 'user', outcome: 'success', account_id: api.server.accountId });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      actor_type: 'anonymous',
      resource_type: 'user',
      outcome: 'failure',
      account_id: api.server.accountId,
    });
    const everything =
      JSON.stringify(await api.server.server.database.db.selectFrom('audit_logs').selectAll().execute()) +
      api.server.logs.join('');
    for (const secret of [
      api.server.owner.password,
      'a-wrong-password-in-the-logs?',
      session.token,
      session.refresh_token,
      MEMBER.password,
    ]) {
      expect(everything).not.toContain(secret);
    }
    // Refresh tokens are stored only as keyed hashes.
    const stored = JSON.stringify(
      await api.server.server.database.db.selectFrom('refresh_tokens').selectAll().execute(),
    );
    expect(stored).not.toContain(session.refresh_token);
  });
});
