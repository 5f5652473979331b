// `npm run admin`: run as a separate process against a running server's database,
// as an operator would, and each change checked through the API.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { login, movableClock, SECOND, type IdentityServer } from './support.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `npm run admin -- ...args` against `server`'s database, as a separate process. */
async function adminOf(
  server: IdentityServer,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'test',
    DATA_DIR: server.dataDir,
    PUBLIC_URL: server.issuer,
    LOG_LEVEL: 'silent',
  };
  delete env.DATABASE_URL;
  if (server.server.config.databaseUrl) env.DATABASE_URL = server.server.config.databaseUrl;
  try {
    const { stdout, stderr } = await run(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      [path.join(ROOT, 'src', 'cli', 'admin.ts'), ...args],
      { cwd: ROOT, env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run admin', { timeout: 60_000 }, () => {
  const time = movableClock();

  const api = useIdentityServer({ clock: time.clock });

  const admin = (...args: string[]) => adminOf(api.server, ...args);

  test("add-user prints a generated password once; the user logs in with the role's scopes", async () => {
    const result = await admin('add-user', '--email', 'Dana@Example.com', '--name', 'Dana', '--role', 'member');
    expect(result.code).toBe(0);
    const password = /Password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
    expect(password).toBeDefined();
    const session = await login(api.server.baseUrl, 'dana@example.com', password!);
    expect(session.scopes).not.toContain('keys:write');
    expect(session.scopes).toContain('workflows:read');
    const again = await admin('add-user', '--email', 'dana@example.com', '--role', 'member');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  test("reset-password sets the new password and ends the user's sessions", async () => {
    await admin('add-user', '--email', 'erin@example.com', '--role', 'admin', '--password', 'first password 123');
    const session = await login(api.server.baseUrl, 'erin@example.com', 'first password 123');
    const result = await admin('reset-password', '--email', 'erin@example.com', '--password', 'second password 456');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 session');
    expect((await api.as(session.token).GET('/v1/auth/verify')).error?.error.code).toBe('token_revoked');
    expect(
      (await api.as(null).POST('/v1/auth/refresh', { body: { refresh_token: session.refresh_token } })).status,
    ).toBe(401);
    expect(
      (
        await api
          .as(null)
          .POST('/v1/auth/login', { body: { email: 'erin@example.com', password: 'first password 123' } })
      ).status,
    ).toBe(401);
    expect((await login(api.server.baseUrl, 'erin@example.com', 'second password 456')).token).toEqual(
      expect.any(String),
    );
    expect((await admin('reset-password', '--email', 'erin@example.com', '--password', 'short')).code).toBe(1);
  });

  test("set-plan changes the account's plan", async () => {
    expect((await admin('set-plan', '--plan', 'pro')).code).toBe(0);
    const usage = await api.client.GET('/v1/usage');
    expect(usage.data?.data.plan).toBe('pro');
    expect((await admin('set-plan', '--plan', 'platinum')).code).toBe(1);
  });

  test('import-legacy-key makes an old wfk_ key work through X-API-Key, deprecated', async () => {
    const legacy = `wfk_${'a1B2c3D4'.repeat(4)}`;
    const result = await admin(
      'import-legacy-key',
      '--key',
      legacy,
      '--name',
      'Old integration',
      '--scopes',
      'workflows:read,runs:read',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(legacy);
    const response = await api.as(null).GET('/v1/workflows', { headers: { 'X-API-Key': legacy } });
    expect(response.status).toBe(200);
    expect(response.headers.get('deprecation')).toBeTruthy();
    expect(
      (await admin('import-legacy-key', '--key', 'wfk_short', '--name', 'x', '--scopes', 'workflows:read')).code,
    ).toBe(1);
  });

  test('rotate-signing-key --now: the running server signs with the new key once it rereads the key set', async () => {
    const before = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    const result = await admin('rotate-signing-key', '--now');
    expect(result.code).toBe(0);
    const kid = /New signing key (\S+),/.exec(result.stdout)?.[1];
    time.advance(61 * SECOND);
    const after = await login(api.server.baseUrl, api.server.owner.email, api.server.owner.password);
    expect(decodeProtectedHeader(after.token).kid).toBe(kid);
    expect((await api.as(before.token).GET('/v1/auth/verify')).status).toBe(200);
  });

  test('usage errors exit 1 with a message', async () => {
    const unknown = await admin('make-coffee');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown command');
    const missing = await admin('add-user', '--role', 'member');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--email');
    expect((await admin('add-user', '--email', 'x@example.com', '--role', 'superuser')).stderr).toContain('--role');
  });
});

describe('npm run admin: keys, accounts and projects by command', { timeout: 60_000 }, () => {
  const admin = (...args: string[]) => adminOf(api.server, ...args);
  const keyIn = (stdout: string) => /Key \(shown once, stored only as a hash\): (\S+)/.exec(stdout)?.[1];
  const workflow = {
    name: 'Tenant check',
    trigger: { type: 'manual' as const },
    steps: [{ id: 'hello', type: 'log' as const, message: 'Hello' }],
  };

  const api = useIdentityServer();

  test('create-key makes a test key like the API does: printed once, working at once, audited as the operator', async () => {
    const created = await api.client.POST('/v1/workflows', { body: workflow });
    expect(created.status).toBe(201);
    const result = await admin('create-key', '--name', 'Recovery', '--environment', 'test');
    expect(result.code, result.stderr).toBe(0);
    const key = keyIn(result.stdout);
    expect(key).toMatch(/^sk_test_[0-9A-Za-z]{38}$/);
    expect(result.stdout.split(key!).length - 1, 'the secret is printed once').toBe(1);
    expect(result.stdout).toContain('scopes read, write, workflows:execute');
    expect(result.stdout).toContain("reaches the project's test (sandbox) data");

    // The same project and environment as the first key: it sees the same workflows.
    const listed = await api.as(key).GET('/v1/workflows');
    expect(listed.status).toBe(200);
    expect(listed.data?.data.map((item: { id: string }) => item.id)).toContain(created.data?.data.id);

    const keyId = /key (key_[0-9A-Za-z]{24})/.exec(result.stdout)?.[1];
    const audit = await api
      .as(key)
      .GET('/v1/audit-logs', { params: { query: { action: 'api_key.created', resource_id: keyId } } });
    expect(audit.status).toBe(200);
    expect(audit.data?.data).toHaveLength(1);
    const entry = audit.data!.data[0];
    expect(entry).toMatchObject({
      action: 'api_key.created',
      outcome: 'success',
      environment: 'test',
      actor: { type: 'system', id: null },
      resource: { type: 'api_key', id: keyId },
    });
    expect(entry?.metadata).toMatchObject({ type: 'secret', environment: 'test', via: 'npm run admin -- create-key' });
    expect(JSON.stringify(entry)).not.toContain(key);
  });

  test('create-key --environment live --type restricted: a read-only key that sees the live data only', async () => {
    const result = await admin(
      'create-key',
      '--name',
      'Live dashboard',
      '--environment',
      'live',
      '--type',
      'restricted',
      '--expires-at',
      '2099-01-01T00:00:00Z',
    );
    expect(result.code, result.stderr).toBe(0);
    const key = keyIn(result.stdout);
    expect(key).toMatch(/^rk_live_/);
    expect(result.stdout).toMatch(/expiring 2099-01-01T00:00:00(\.000)?Z/);
    const listed = await api.as(key).GET('/v1/workflows');
    expect(listed.data?.data).toEqual([]);
    const write = await api.as(key).POST('/v1/workflows', { body: workflow });
    expect(write.status).toBe(403);
    expect(write.error?.error.code).toBe('insufficient_scope');
  });

  test('create-key refuses what the API refuses, naming the option, and creates nothing', async () => {
    const count = async () =>
      (await api.server.server.database.db.selectFrom('api_keys').select('id').execute()).length;
    const before = await count();
    const environment = await admin('create-key', '--name', 'x', '--environment', 'staging');
    expect(environment.code).toBe(1);
    expect(environment.stderr).toContain('--environment: must be one of live, test');
    const several = await admin(
      'create-key',
      '--name',
      'x'.repeat(101),
      '--environment',
      'test',
      '--scopes',
      'workflows:read,nope',
    );
    expect(several.code).toBe(1);
    expect(several.stderr).toContain('--name: must NOT have more than 100 characters');
    expect(several.stderr).toContain('--scopes (item 2): must be one of');
    const clientWrite = await admin(
      'create-key',
      '--name',
      'x',
      '--environment',
      'test',
      '--type',
      'client',
      '--scopes',
      'workflows:write',
    );
    expect(clientWrite.code).toBe(1);
    expect(clientWrite.stderr).toMatch(/client/i);
    const past = await admin(
      'create-key',
      '--name',
      'x',
      '--environment',
      'test',
      '--expires-at',
      '2020-01-01T00:00:00Z',
    );
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('expires_at must be in the future');
    expect((await admin('create-key', '--environment', 'test')).stderr).toContain('--name');
    expect(await count()).toBe(before);
  });

  test('add-account makes a second tenant: its key and its owner see nothing of the first', async () => {
    const theirs = await api.client.POST('/v1/workflows', { body: workflow });
    const result = await admin(
      'add-account',
      '--name',
      'Second tenant',
      '--plan',
      'pro',
      '--owner-email',
      'owner@second.example',
    );
    expect(result.code, result.stderr).toBe(0);
    const accountId = /Created account (acct_[0-9A-Za-z]{24})/.exec(result.stdout)?.[1];
    const password = /Password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
    expect(accountId).toBeDefined();
    expect(result.stdout).toContain(`create-key --account ${accountId}`);

    // With two accounts, the account must be named.
    const ambiguous = await admin('create-key', '--name', 'x', '--environment', 'test');
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('several accounts');

    const key = keyIn(
      (await admin('create-key', '--account', accountId!, '--name', 'First key', '--environment', 'test')).stdout,
    );
    expect((await api.as(key).GET('/v1/workflows')).data?.data).toEqual([]);
    expect(
      (
        await api
          .as(key)
          .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: theirs.data!.data.id } } })
      ).status,
    ).toBe(404);
    expect((await api.as(key).GET('/v1/usage')).data?.data.plan).toBe('pro');
    const session = await login(api.server.baseUrl, 'owner@second.example', password!);
    expect(
      (
        await api
          .as(session.token)
          .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: theirs.data!.data.id } } })
      ).status,
    ).toBe(404);
  });

  test('add-project adds a project whose keys see only it', async () => {
    const accountId = api.server.accountId;
    const result = await admin('add-project', '--name', 'Mobile app', '--account', accountId);
    expect(result.code, result.stderr).toBe(0);
    const projectId = /Created project (proj_[0-9A-Za-z]{24})/.exec(result.stdout)?.[1];
    expect(projectId).toBeDefined();
    const key = keyIn(
      (
        await admin(
          'create-key',
          '--account',
          accountId,
          '--project',
          projectId!,
          '--name',
          'Mobile',
          '--environment',
          'test',
        )
      ).stdout,
    );
    expect((await api.as(key).GET('/v1/workflows')).data?.data).toEqual([]);
    expect((await admin('add-project', '--name', '', '--account', accountId)).code).toBe(1);
    expect((await admin('add-project', '--name', 'x', '--account', 'acct_000000000000000000000000')).stderr).toContain(
      'No account',
    );
  });
});
