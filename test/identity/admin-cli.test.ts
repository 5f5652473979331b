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

describe('npm run admin', { timeout: 60_000 }, () => {
  const time = movableClock();
  let server: IdentityServer;

  beforeAll(async () => {
    server = await startIdentityServer({ clock: time.clock });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function admin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
