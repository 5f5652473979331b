// Rotating the server's secrets without losing anything: a new hash secret with
// the old one as previous keeps every API key working (each is re-hashed under
// the new secret on use); a new encryption key with the old one as previous keeps
// every credential readable until `admin reencrypt` reseals it; after that the
// old secrets can be removed.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { bootstrap } from '../../src/bootstrap.ts';
import { reencrypt } from '../../src/cli/admin-commands.ts';
import { composeServer, type Server } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import { aesGcmEncryptor } from '../../src/crypto/aes-gcm.ts';
import { keyedHasher } from '../../src/crypto/keyed-hash.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { generousRateLimits } from '../support/server.ts';
import { freshPostgresDatabase, testDatabaseUrl } from '../support/services.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-rotation-'));
const postgres = testDatabaseUrl ? await freshPostgresDatabase() : null;
afterAll(async () => {
  await postgres?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const secret = () => randomBytes(32).toString('base64');
const [hashOld, hashNew, keyOld, keyNew] = [secret(), secret(), secret(), secret()];
const password = 'correct horse battery staple';

async function serve(env: Record<string, string>): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    AETHERFLOW_OWNER_PASSWORD: password,
    VALIDATE_RESPONSES: 'true',
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...env,
  });
  const server = await composeServer(config, {
    logger: createLogger({ level: 'silent' }),
    rateLimitConfig: generousRateLimits(),
  });
  const listener = http.createServer(server.app);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`,
    async stop() {
      listener.closeAllConnections();
      await new Promise((resolve) => listener.close(resolve));
      await server.close();
    },
  };
}

const get = (url: string, key: string) => fetch(url, { headers: { Authorization: `Bearer ${key}` } });

test(
  'hash secret and encryption key rotate without losing a key, a credential or a session',
  { timeout: 60_000 },
  async () => {
    // 1. Running on the old secrets: a key, a connection, a signing key exist.
    const before = await serve({ AETHERFLOW_HASH_SECRET: hashOld, AETHERFLOW_ENCRYPTION_KEY: keyOld });
    const first = await bootstrap(
      before.server.config,
      before.server.services.accounts,
      before.server.services.apiKeys,
      before.server.services.transaction,
    );
    const key = first!.testKey;
    const scope = { projectId: first!.projectId, environment: 'test' as const };
    const { transaction, connections } = before.server.services;
    const connection = await transaction((tx) =>
      connections.create(
        scope,
        { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: 'xoxb-rotation-check' } },
        tx,
      ),
    );
    expect((await get(`${before.url}/v1/workflows`, key)).status).toBe(200);
    await before.stop();

    // 2. New secrets, the old ones as previous: everything still works.
    const during = await serve({
      AETHERFLOW_HASH_SECRET: hashNew,
      AETHERFLOW_HASH_SECRET_PREVIOUS: hashOld,
      AETHERFLOW_ENCRYPTION_KEY: keyNew,
      AETHERFLOW_ENCRYPTION_KEY_PREVIOUS: keyOld,
    });
    const { db } = during.server.database;
    const stored = async () => (await db.selectFrom('api_key_secrets').select('hash').execute()).map((row) => row.hash);
    const underNew = keyedHasher(Buffer.from(hashNew, 'base64'), 'api-key')(key);
    expect(await stored()).not.toContain(underNew);
    expect((await get(`${during.url}/v1/workflows`, key)).status).toBe(200);
    expect(await stored(), 'the key was re-hashed under the new secret when used').toContain(underNew);
    expect(await during.server.services.connections.credentials(scope, connection.id)).toEqual({
      token: 'xoxb-rotation-check',
    });
    const login = await fetch(`${during.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'owner@example.com', password }),
    });
    expect(login.status, 'the signing key, sealed under the old key, still signs').toBe(200);
    const lines = await reencrypt({
      db,
      encryptor: aesGcmEncryptor(Buffer.from(keyNew, 'base64'), [Buffer.from(keyOld, 'base64')]),
    });
    expect(lines[0]).toMatch(/^Resealed 1 connection credential and 1 signing key/);
    await during.stop();

    // 3. The old secrets removed: nothing depends on them any more.
    const after = await serve({ AETHERFLOW_HASH_SECRET: hashNew, AETHERFLOW_ENCRYPTION_KEY: keyNew });
    expect((await get(`${after.url}/v1/workflows`, key)).status).toBe(200);
    expect(await after.server.services.connections.credentials(scope, connection.id)).toEqual({
      token: 'xoxb-rotation-check',
    });
    const again = await fetch(`${after.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'owner@example.com', password }),
    });
    expect(again.status).toBe(200);
    await after.stop();
  },
);

test('without the previous encryption key, old ciphertext is refused, never misread', () => {
  const old = aesGcmEncryptor(Buffer.from(keyOld, 'base64'));
  const sealed = old.encrypt('secret', 'conn_x');
  expect(() => aesGcmEncryptor(Buffer.from(keyNew, 'base64')).decrypt(sealed, 'conn_x')).toThrow(/unknown key/);
  expect(
    aesGcmEncryptor(Buffer.from(keyNew, 'base64'), [Buffer.from(keyOld, 'base64')]).decrypt(sealed, 'conn_x'),
  ).toBe('secret');
});
