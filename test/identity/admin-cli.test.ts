// `npm run admin`: run as a separate process against a running server's database,
// as an operator would, and each change checked through the API.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, login, movableClock, SECOND, startIdentityServer, type IdentityServer } from './support.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** `npm run admin -- ...args` against `server`'s database, as a separate process. */
async function adminOf(server: IdentityServer, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), NODE_ENV: 'test', DATA_DIR: server.dataDir, PUBLIC_URL: server.issuer, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  if (server.server.config.databaseUrl) env.DATABASE_URL = server.server.config.databaseUrl;
  try {
    const { stdout, stderr } = await run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'src', 'cli', 'admin.ts'), ...args], { cwd: ROOT, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run admin', { timeout: 60_000 }, () => {
  const time = movableClock();
  let server: IdentityServer;

  beforeAll(async () => {
    server = await startIdentityServer({ clock: time.clock });
  });
  afterAll(async () => {
    await server?.close();
  });

  const admin = (...args: string[]) => adminOf(server, ...args);

  test('add-user prints a generated password once; the user logs in with the role\'s scopes', async () => {
    const result = await admin('add-user', '--email', 'Dana@Example.com', '--name', 'Dana', '--role', 'member');
    expect(result.code).toBe(0);
    const password = /Password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
    expect(password).toBeDefined();
    const session = await login(server.baseUrl, 'dana@example.com', password!);
    expect(session.scopes).not.toContain('keys:write');
    expect(session.scopes).toContain('workflows:read');
    const again = await admin('add-user', '--email', 'dana@example.com', '--role', 'member');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  test('reset-password sets the new password and ends the user\'s sessions', async () => {
    await admin('add-user', '--email', 'erin@example.com', '--role', 'admin', '--password', 'first password 123');
    const session = await login(server.baseUrl, 'erin@example.com', 'first password 123');
    const result = await admin('reset-password', '--email', 'erin@example.com', '--password', 'second password 456');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 session');
    expect((await api(server.baseUrl, 'GET', '/v1/auth/verify', { token: session.token })).body.error.code).toBe('token_revoked');
    expect((await api(server.baseUrl, 'POST', '/v1/auth/refresh', { body: { refresh_token: session.refresh_token } })).status).toBe(401);
    expect((await api(server.baseUrl, 'POST', '/v1/auth/login', { body: { email: 'erin@example.com', password: 'first password 123' } })).status).toBe(401);
    expect((await login(server.baseUrl, 'erin@example.com', 'second password 456')).token).toEqual(expect.any(String));
    expect((await admin('reset-password', '--email', 'erin@example.com', '--password', 'short')).code).toBe(1);
  });

  test('set-plan changes the account\'s plan', async () => {
    expect((await admin('set-plan', '--plan', 'pro')).code).toBe(0);
    const usage = await api(server.baseUrl, 'GET', '/v1/usage', { token: server.secretKey });
    expect(usage.body.data.plan).toBe('pro');
    expect((await admin('set-plan', '--plan', 'platinum')).code).toBe(1);
  });

  test('import-legacy-key makes an old wfk_ key work through X-API-Key, deprecated', async () => {
    const legacy = `wfk_${'a1B2c3D4'.repeat(4)}`;
    const result = await admin('import-legacy-key', '--key', legacy, '--name', 'Old integration', '--scopes', 'workflows:read,runs:read');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(legacy);
    const response = await api(server.baseUrl, 'GET', '/v1/workflows', { headers: { 'X-API-Key': legacy } });
    expect(response.status).toBe(200);
    expect(response.headers.get('deprecation')).toBeTruthy();
    expect((await admin('import-legacy-key', '--key', 'wfk_short', '--name', 'x', '--scopes', 'workflows:read')).code).toBe(1);
  });

  test('rotate-signing-key --now: the running server signs with the new key once it rereads the key set', async () => {
    const before = await login(server.baseUrl, server.owner.email, server.owner.password);
    const result = await admin('rotate-signing-key', '--now');
    expect(result.code).toBe(0);
    const kid = /New signing key (\S+),/.exec(result.stdout)?.[1];
    time.advance(61 * SECOND);
    const after = await login(server.baseUrl, server.owner.email, server.owner.password);
    expect(decodeProtectedHeader(after.token).kid).toBe(kid);
    expect((await api(server.baseUrl, 'GET', '/v1/auth/verify', { token: before.token })).status).toBe(200);
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
  let server: IdentityServer;
  const admin = (...args: string[]) => adminOf(server, ...args);
  const keyIn = (stdout: string) => /Key \(shown once, stored only as a hash\): (\S+)/.exec(stdout)?.[1];
  const workflow = { name: 'Tenant check', trigger: { type: 'manual' }, steps: [{ id: 'hello', type: 'log', message: 'Hello' }] };

  beforeAll(async () => {
    server = await startIdentityServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  test('create-key makes a test key like the API does: printed once, working at once, audited as the operator', async () => {
    const created = await api(server.baseUrl, 'POST', '/v1/workflows', { token: server.secretKey, body: workflow });
    expect(created.status).toBe(201);
    const result = await admin('create-key', '--name', 'Recovery', '--environment', 'test');
    expect(result.code, result.stderr).toBe(0);
    const key = keyIn(result.stdout);
    expect(key).toMatch(/^sk_test_[0-9A-Za-z]{38}$/);
    expect(result.stdout.split(key!).length - 1, 'the secret is printed once').toBe(1);
    expect(result.stdout).toContain('scopes read, write, workflows:execute');
    expect(result.stdout).toContain("reaches the project's test (sandbox) data");

    // The same project and environment as the first key: it sees the same workflows.
    const listed = await api(server.baseUrl, 'GET', '/v1/workflows', { token: key });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((item: { id: string }) => item.id)).toContain(created.body.data.id);

    const keyId = /key (key_[0-9A-Za-z]{24})/.exec(result.stdout)?.[1];
    const audit = await api(server.baseUrl, 'GET', `/v1/audit-logs?action=api_key.created&resource_id=${keyId}`, { token: key });
    expect(audit.status).toBe(200);
    expect(audit.body.data).toHaveLength(1);
    const entry = audit.body.data[0];
    expect(entry).toMatchObject({ action: 'api_key.created', outcome: 'success', environment: 'test', actor: { type: 'system', id: null }, resource: { type: 'api_key', id: keyId } });
    expect(entry.metadata).toMatchObject({ type: 'secret', environment: 'test', via: 'npm run admin -- create-key' });
    expect(JSON.stringify(entry)).not.toContain(key);
  });

  test('create-key --environment live --type restricted: a read-only key that sees the live data only', async () => {
    const result = await admin('create-key', '--name', 'Live dashboard', '--environment', 'live', '--type', 'restricted', '--expires-at', '2099-01-01T00:00:00Z');
    expect(result.code, result.stderr).toBe(0);
    const key = keyIn(result.stdout);
    expect(key).toMatch(/^rk_live_/);
    expect(result.stdout).toMatch(/expiring 2099-01-01T00:00:00(\.000)?Z/);
    const listed = await api(server.baseUrl, 'GET', '/v1/workflows', { token: key });
    expect(listed.body.data).toEqual([]);
    const write = await api(server.baseUrl, 'POST', '/v1/workflows', { token: key, body: workflow });
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe('insufficient_scope');
  });

  test('create-key refuses what the API refuses, naming the option, and creates nothing', async () => {
    const count = async () => (await server.server.database.db.selectFrom('api_keys').select('id').execute()).length;
    const before = await count();
    const environment = await admin('create-key', '--name', 'x', '--environment', 'staging');
    expect(environment.code).toBe(1);
    expect(environment.stderr).toContain('--environment: must be one of live, test');
    const several = await admin('create-key', '--name', 'x'.repeat(101), '--environment', 'test', '--scopes', 'workflows:read,nope');
    expect(several.code).toBe(1);
    expect(several.stderr).toContain('--name: must NOT have more than 100 characters');
    expect(several.stderr).toContain('--scopes (item 2): must be one of');
    const clientWrite = await admin('create-key', '--name', 'x', '--environment', 'test', '--type', 'client', '--scopes', 'workflows:write');
    expect(clientWrite.code).toBe(1);
    expect(clientWrite.stderr).toMatch(/client/i);
    const past = await admin('create-key', '--name', 'x', '--environment', 'test', '--expires-at', '2020-01-01T00:00:00Z');
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('expires_at must be in the future');
    expect((await admin('create-key', '--environment', 'test')).stderr).toContain('--name');
    expect(await count()).toBe(before);
  });

  test('add-account makes a second tenant: its key and its owner see nothing of the first', async () => {
    const theirs = await api(server.baseUrl, 'POST', '/v1/workflows', { token: server.secretKey, body: workflow });
    const result = await admin('add-account', '--name', 'Second tenant', '--plan', 'pro', '--owner-email', 'owner@second.example');
    expect(result.code, result.stderr).toBe(0);
    const accountId = /Created account (acct_[0-9A-Za-z]{24})/.exec(result.stdout)?.[1];
    const password = /Password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
    expect(accountId).toBeDefined();
    expect(result.stdout).toContain(`create-key --account ${accountId}`);

    // With two accounts, the account must be named.
    const ambiguous = await admin('create-key', '--name', 'x', '--environment', 'test');
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('several accounts');

    const key = keyIn((await admin('create-key', '--account', accountId!, '--name', 'First key', '--environment', 'test')).stdout);
    expect((await api(server.baseUrl, 'GET', '/v1/workflows', { token: key })).body.data).toEqual([]);
    expect((await api(server.baseUrl, 'GET', `/v1/workflows/${theirs.body.data.id}`, { token: key })).status).toBe(404);
    expect((await api(server.baseUrl, 'GET', '/v1/usage', { token: key })).body.data.plan).toBe('pro');
    const session = await login(server.baseUrl, 'owner@second.example', password!);
    expect((await api(server.baseUrl, 'GET', `/v1/workflows/${theirs.body.data.id}`, { token: session.token })).status).toBe(404);
  });

  test('add-project adds a project whose keys see only it', async () => {
    const accountId = server.accountId;
    const result = await admin('add-project', '--name', 'Mobile app', '--account', accountId);
    expect(result.code, result.stderr).toBe(0);
    const projectId = /Created project (proj_[0-9A-Za-z]{24})/.exec(result.stdout)?.[1];
    expect(projectId).toBeDefined();
    const key = keyIn((await admin('create-key', '--account', accountId, '--project', projectId!, '--name', 'Mobile', '--environment', 'test')).stdout);
    expect((await api(server.baseUrl, 'GET', '/v1/workflows', { token: key })).body.data).toEqual([]);
    expect((await admin('add-project', '--name', '', '--account', accountId)).code).toBe(1);
    expect((await admin('add-project', '--name', 'x', '--account', 'acct_000000000000000000000000')).stderr).toContain('No account');
  });
});

