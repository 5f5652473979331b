// Connections against the real server: credentials are encrypted with
// AES-256-GCM (the connection id bound in as associated data) and never returned,
// logged or audited; only the names of their fields are shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBytes as databaseBytesOf } from '../support/database-bytes.ts';
import { call } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { expectError, listAtOnce } from './resource-helpers.ts';

let server: TestServer;
let key: string;
const scope = () => ({ projectId: server.projectId, environment: 'test' as const });

beforeAll(async () => {
  server = await startTestServer();
  key = server.secretKey;
});
afterAll(() => server.close());

/** Credential values unlikely to occur anywhere by chance. */
function credential(label: string): string {
  return `${label}-CREDENTIAL-${Math.random().toString(36).slice(2)}-${Date.now()}`;
}

async function createConnection(credentials: Record<string, string>, name = 'Slack (#ops-alerts)') {
  const response = await call(server, 'POST', '/v1/connections', { key, body: { name, provider: 'slack', auth_type: 'bearer', credentials } });
  expect(response.status, response.text).toBe(201);
  return response;
}

/** The database's bytes: the SQLite file and its WAL, or a pg_dump on PostgreSQL. */
function databaseBytes(): Buffer {
  return Buffer.from(databaseBytesOf(server), 'latin1');
}

describe('create, read, list', () => {
  it('returns the connection with its credential field names, sorted, and never a value', async () => {
    const token = credential('token');
    const signing = credential('signing');
    const created = await createConnection({ token, signing_secret: signing, app_id: credential('app') });
    const connection = created.body.data;
    expect(connection).toMatchObject({ name: 'Slack (#ops-alerts)', provider: 'slack', auth_type: 'bearer', environment: 'test' });
    expect(connection.id).toMatch(/^conn_[0-9A-Za-z]{24}$/);
    expect(connection.credential_fields).toEqual(['app_id', 'signing_secret', 'token']);
    expect(connection).not.toHaveProperty('credentials');

    const read = await call(server, 'GET', `/v1/connections/${connection.id}`, { key });
    expect(read.body.data).toEqual(connection);
    const list = await call(server, 'GET', '/v1/connections', { key });
    expect(list.body.data).toContainEqual(connection);
    for (const response of [created, read, list]) {
      expect(response.text).not.toContain(token);
      expect(response.text).not.toContain(signing);
    }
  });

  it('refuses invalid credentials with 400 validation_failed, without echoing them', async () => {
    const token = credential('echo');
    for (const credentials of [{}, { token: 42 }, { token: '' }, { 'bad name': token }]) {
      const response = await call(server, 'POST', '/v1/connections', { key, body: { name: 'Bad', provider: 'slack', auth_type: 'bearer', credentials } });
      expectError(response, 400, 'validation_failed');
      expect(response.text).not.toContain(token);
    }
  });
});

describe('at rest', () => {
  it('keeps no credential value in the database (SQLite file and WAL, or a pg_dump), nor in logs or audit entries', async () => {
    const values = [credential('slack'), credential('stripe'), credential('github')];
    await createConnection({ token: values[0]! });
    await createConnection({ api_key: values[1]!, webhook_secret: values[2]! }, 'Stripe');
    await server.server.runner.idle();

    const bytes = databaseBytes();
    // The scan reads real data: the connection rows are in these bytes.
    expect(bytes.includes('Slack (#ops-alerts)')).toBe(true);
    expect(bytes.includes('webhook_secret')).toBe(true);
    for (const value of values) {
      expect(bytes.includes(value), 'credential in the database (utf-8)').toBe(false);
      expect(bytes.includes(Buffer.from(value, 'utf16le')), 'credential in the database (utf-16)').toBe(false);
      expect(server.logs.join('\n')).not.toContain(value);
    }
    const audit = await call(server, 'GET', '/v1/audit-logs?resource_type=connection&limit=100', { key });
    expect(audit.body.data.length).toBeGreaterThanOrEqual(2);
    for (const value of values) expect(audit.text).not.toContain(value);
  });

  it('stores an AES-GCM envelope that decrypts only for its own row', async () => {
    const token = credential('bound');
    const mine = (await createConnection({ token })).body.data.id as string;
    const other = (await createConnection({ token: credential('other') }, 'Other')).body.data.id as string;
    const connections = server.server.services.connections;
    const { db } = server.server.database;

    // Decrypting works for the real row...
    expect(await connections.credentials(scope(), mine)).toEqual({ token });

    const stored = await db.selectFrom('connections').select('credentials_encrypted').where('id', '=', mine).executeTakeFirstOrThrow();
    expect(stored.credentials_encrypted).toMatch(/^v2\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(stored.credentials_encrypted).not.toContain(token);

    // ...the same ciphertext copied onto another row does not (the id is the associated data)...
    await db.updateTable('connections').set({ credentials_encrypted: stored.credentials_encrypted }).where('id', '=', other).execute();
    await expect(connections.credentials(scope(), other)).rejects.toThrow();

    // ...and neither does a ciphertext with one byte flipped.
    const [version, keyId, iv, tag, body] = stored.credentials_encrypted.split('.') as [string, string, string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 0x01;
    await db.updateTable('connections').set({ credentials_encrypted: [version, keyId, iv, tag, flipped.toString('base64url')].join('.') }).where('id', '=', mine).execute();
    await expect(connections.credentials(scope(), mine)).rejects.toThrow();
  });

  it('encrypts the same credentials differently each time (a fresh IV)', async () => {
    const token = credential('same');
    const a = (await createConnection({ token })).body.data.id as string;
    const b = (await createConnection({ token })).body.data.id as string;
    const rows = await server.server.database.db.selectFrom('connections').select(['id', 'credentials_encrypted']).where('id', 'in', [a, b]).execute();
    // v2.<key id>.<iv>.<tag>.<ciphertext>: same key, different IVs.
    const [keyA, keyB] = rows.map((row) => row.credentials_encrypted.split('.')[1]);
    const [ivA, ivB] = rows.map((row) => row.credentials_encrypted.split('.')[2]);
    expect(keyA).toBe(keyB);
    expect(ivA).not.toBe(ivB);
  });
});

describe('delete', () => {
  it('hides the connection and destroys its ciphertext', async () => {
    const id = (await createConnection({ token: credential('gone') })).body.data.id as string;
    const deleted = await call(server, 'DELETE', `/v1/connections/${id}`, { key });
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id, deleted: true });

    expectError(await call(server, 'GET', `/v1/connections/${id}`, { key }), 404, 'not_found');
    expectError(await call(server, 'DELETE', `/v1/connections/${id}`, { key }), 404, 'not_found');
    expect((await listAtOnce(server, key, '/v1/connections')).map((c) => c.id)).not.toContain(id);
    await expect(server.server.services.connections.credentials(scope(), id)).rejects.toThrow();
    const row = await server.server.database.db.selectFrom('connections').select('credentials_encrypted').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.credentials_encrypted).toBe('');
  });

  it('answers 404 for an unknown connection', async () => {
    expectError(await call(server, 'GET', '/v1/connections/conn_000000000000000000000000', { key }), 404, 'not_found');
  });
});
