// Connections against the real server: credentials are encrypted with
// AES-256-GCM (the connection id bound in as associated data) and never returned,
// logged or audited; only the names of their fields are shown.
import { beforeAll, describe, expect, it } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { databaseBytes as databaseBytesOf } from '../support/database-bytes.ts';
import { expectError, listAtOnce } from './resource-helpers.ts';

let key: string;
const scope = () => ({ projectId: api.server.projectId, environment: 'test' as const });

const api = useTestServer();
beforeAll(() => {
  key = api.server.secretKey;
});

/** Credential values unlikely to occur anywhere by chance. */
function credential(label: string): string {
  return `${label}-CREDENTIAL-${Math.random().toString(36).slice(2)}-${Date.now()}`;
}

async function createConnection(credentials: Record<string, string>, name = 'Slack (#ops-alerts)') {
  const response = await api
    .as(key)
    .POST('/v1/connections', { body: { name, provider: 'slack', auth_type: 'bearer', credentials } });
  expect(response.status, response.text).toBe(201);
  return response;
}

/** The database's bytes: the SQLite file and its WAL, or a pg_dump on PostgreSQL. */
function databaseBytes(): Buffer {
  return Buffer.from(databaseBytesOf(api.server), 'latin1');
}

describe('create, read, list', () => {
  it('returns the connection with its credential field names, sorted, and never a value', async () => {
    const token = credential('token');
    const signing = credential('signing');
    const created = await createConnection({ token, signing_secret: signing, app_id: credential('app') });
    const connection = created.data!.data;
    expect(connection).toMatchObject({
      name: 'Slack (#ops-alerts)',
      provider: 'slack',
      auth_type: 'bearer',
      environment: 'test',
    });
    expect(connection.id).toMatch(/^conn_[0-9A-Za-z]{24}$/);
    expect(connection.credential_fields).toEqual(['app_id', 'signing_secret', 'token']);
    expect(connection).not.toHaveProperty('credentials');

    const read = await api
      .as(key)
      .GET('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.id } } });
    expect(read.data?.data).toEqual(connection);
    const list = await api.as(key).GET('/v1/connections');
    expect(list.data?.data).toContainEqual(connection);
    for (const response of [created, read, list]) {
      expect(response.text).not.toContain(token);
      expect(response.text).not.toContain(signing);
    }
  });

  it('refuses invalid credentials with 400 validation_failed, without echoing them', async () => {
    const token = credential('echo');
    for (const credentials of [{}, { token: 42 }, { token: '' }, { 'bad name': token }]) {
      const response = await api.as(key).POST('/v1/connections', {
        body: { name: 'Bad', provider: 'slack', auth_type: 'bearer', credentials: offContract(credentials) },
      });
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
    await api.server.server.runner.idle();

    const bytes = databaseBytes();
    // The scan reads real data: the connection rows are in these bytes.
    expect(bytes.includes('Slack (#ops-alerts)')).toBe(true);
    expect(bytes.includes('webhook_secret')).toBe(true);
    for (const value of values) {
      expect(bytes.includes(value), 'credential in the database (utf-8)').toBe(false);
      expect(bytes.includes(Buffer.from(value, 'utf16le')), 'credential in the database (utf-16)').toBe(false);
      expect(api.server.logs.join('\n')).not.toContain(value);
    }
    const audit = await api
      .as(key)
      .GET('/v1/audit-logs', { params: { query: { resource_type: 'connection', limit: 100 } } });
    expect(audit.data?.data.length).toBeGreaterThanOrEqual(2);
    for (const value of values) expect(audit.text).not.toContain(value);
  });

  it('stores an AES-GCM envelope that decrypts only for its own row', async () => {
    const token = credential('bound');
    const mine = (await createConnection({ token })).data!.data.id;
    const other = (await createConnection({ token: credential('other') }, 'Other')).data!.data.id;
    const connections = api.server.server.services.connections;
    const { db } = api.server.server.database;

    // Decrypting works for the real row...
    expect(await connections.credentials(scope(), mine)).toEqual({ token });

    const stored = await db
      .selectFrom('connections')
      .select('credentials_encrypted')
      .where('id', '=', mine)
      .executeTakeFirstOrThrow();
    expect(stored.credentials_encrypted).toMatch(
      /^v2\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/,
    );
    expect(stored.credentials_encrypted).not.toContain(token);

    // ...the same ciphertext copied onto another row does not (the id is the associated data)...
    await db
      .updateTable('connections')
      .set({ credentials_encrypted: stored.credentials_encrypted })
      .where('id', '=', other)
      .execute();
    await expect(connections.credentials(scope(), other)).rejects.toThrow();

    // ...and neither does a ciphertext with one byte flipped.
    const [version, keyId, iv, tag, body] = stored.credentials_encrypted.split('.') as [
      string,
      string,
      string,
      string,
      string,
    ];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 0x01;
    await db
      .updateTable('connections')
      .set({ credentials_encrypted: [version, keyId, iv, tag, flipped.toString('base64url')].join('.') })
      .where('id', '=', mine)
      .execute();
    await expect(connections.credentials(scope(), mine)).rejects.toThrow();
  });

  it('encrypts the same credentials differently each time (a fresh IV)', async () => {
    const token = credential('same');
    const a = (await createConnection({ token })).data!.data.id;
    const b = (await createConnection({ token })).data!.data.id;
    const rows = await api.server.server.database.db
      .selectFrom('connections')
      .select(['id', 'credentials_encrypted'])
      .where('id', 'in', [a, b])
      .execute();
    // v2.<key id>.<iv>.<tag>.<ciphertext>: same key, different IVs.
    const [keyA, keyB] = rows.map((row) => row.credentials_encrypted.split('.')[1]);
    const [ivA, ivB] = rows.map((row) => row.credentials_encrypted.split('.')[2]);
    expect(keyA).toBe(keyB);
    expect(ivA).not.toBe(ivB);
  });
});

describe('delete', () => {
  it('hides the connection and destroys its ciphertext', async () => {
    const id = (await createConnection({ token: credential('gone') })).data!.data.id;
    const deleted = await api
      .as(key)
      .DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: id } } });
    expect(deleted.status).toBe(200);
    expect(deleted.data?.data).toEqual({ id, deleted: true });

    expectError(
      await api.as(key).GET('/v1/connections/{connection_id}', { params: { path: { connection_id: id } } }),
      404,
      'not_found',
    );
    expectError(
      await api.as(key).DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: id } } }),
      404,
      'not_found',
    );
    expect((await listAtOnce(api.server, key, '/v1/connections')).map((c) => c.id)).not.toContain(id);
    await expect(api.server.server.services.connections.credentials(scope(), id)).rejects.toThrow();
    const row = await api.server.server.database.db
      .selectFrom('connections')
      .select('credentials_encrypted')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.credentials_encrypted).toBe('');
  });

  it('answers 404 for an unknown connection', async () => {
    expectError(
      await api.as(key).GET('/v1/connections/{connection_id}', {
        params: { path: { connection_id: 'conn_000000000000000000000000' } },
      }),
      404,
      'not_found',
    );
  });
});
