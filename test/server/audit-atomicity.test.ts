// A change to a workflow or a connection and its audit entry commit together or not at
// all. The database itself is made to refuse audit entries (a trigger, on SQLite or on
// PostgreSQL in CI's second pass): every such change must then fail as a whole, leaving
// nothing behind that the audit log does not show, and work again once entries are
// accepted.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createWorkflow, definition, expectError, listAtOnce } from './resource-helpers.ts';

let server: TestServer;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  key = server.secretKey;
});
afterAll(() => server.close());

const REFUSAL = 'audit entries refused by the test';

async function refuseAuditEntries(): Promise<void> {
  const { db, dialect } = server.server.database;
  if (dialect === 'sqlite') {
    await sql.raw(`create trigger refuse_audit before insert on audit_logs begin select raise(abort, '${REFUSAL}'); end`).execute(db);
  } else {
    await sql.raw(`create function refuse_audit() returns trigger language plpgsql as $$ begin raise exception '${REFUSAL}'; end $$`).execute(db);
    await sql.raw('create trigger refuse_audit before insert on audit_logs for each row execute function refuse_audit()').execute(db);
  }
}

async function acceptAuditEntries(): Promise<void> {
  const { db, dialect } = server.server.database;
  await sql.raw('drop trigger refuse_audit' + (dialect === 'sqlite' ? '' : ' on audit_logs')).execute(db);
  if (dialect !== 'sqlite') await sql.raw('drop function refuse_audit()').execute(db);
}

async function count(table: 'workflows' | 'connections' | 'audit_logs'): Promise<number> {
  const row = await server.server.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function entriesFor(resourceId: string): Promise<{ action: string }[]> {
  return listAtOnce<{ action: string }>(server, key, '/v1/audit-logs', { resource_id: resourceId });
}

const steps = definition([{ id: 'note', type: 'log', message: 'hello', level: 'info' }]);

describe('a change and its audit entry', () => {
  it('commit together or not at all, for workflows and connections', async () => {
    const workflow = await createWorkflow(server, key, { ...steps, name: 'Kept as it is' });
    const made = await call(server, 'POST', '/v1/connections', { key, body: { name: 'Kept connection', provider: 'slack', auth_type: 'bearer', credentials: { token: 'xoxb-kept' } } });
    expect(made.status, made.text).toBe(201);
    const connection = made.body.data as { id: string };
    const before = { workflows: await count('workflows'), connections: await count('connections'), audit: await count('audit_logs') };

    await refuseAuditEntries();
    try {
      const created = await call(server, 'POST', '/v1/workflows', { key, body: { ...steps, name: 'Never created' } });
      expectError(created, 500, 'internal_error');
      // The database's message stays in the server's log, never in the answer.
      expect(created.text).not.toContain(REFUSAL);

      const replaced = await call(server, 'PUT', `/v1/workflows/${workflow.id}`, { key, body: { ...steps, name: 'Never replaced' } });
      expectError(replaced, 500, 'internal_error');
      const deleted = await call(server, 'DELETE', `/v1/workflows/${workflow.id}`, { key });
      expectError(deleted, 500, 'internal_error');

      const connected = await call(server, 'POST', '/v1/connections', { key, body: { name: 'Never connected', provider: 'slack', auth_type: 'bearer', credentials: { token: 'xoxb-never' } } });
      expectError(connected, 500, 'internal_error');
      const disconnected = await call(server, 'DELETE', `/v1/connections/${connection.id}`, { key });
      expectError(disconnected, 500, 'internal_error');

      // Nothing was written: no new rows, and the existing ones are as they were.
      expect({ workflows: await count('workflows'), connections: await count('connections'), audit: await count('audit_logs') }).toEqual(before);
      const read = await call(server, 'GET', `/v1/workflows/${workflow.id}`, { key });
      expect(read.status, read.text).toBe(200);
      expect(read.body.data).toMatchObject({ name: 'Kept as it is', version: 1 });
      const readConnection = await call(server, 'GET', `/v1/connections/${connection.id}`, { key });
      expect(readConnection.status, readConnection.text).toBe(200);
      expect(await server.server.services.connections.credentials({ projectId: server.projectId, environment: 'test' }, connection.id)).toEqual({ token: 'xoxb-kept' });
    } finally {
      await acceptAuditEntries();
    }

    // Accepted again, the same changes go through, each with its entry.
    const replaced = await call(server, 'PUT', `/v1/workflows/${workflow.id}`, { key, body: { ...steps, name: 'Replaced at last' } });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.data).toMatchObject({ version: 2 });
    const deleted = await call(server, 'DELETE', `/v1/workflows/${workflow.id}`, { key });
    expect(deleted.status, deleted.text).toBe(200);
    expect((await entriesFor(workflow.id)).map((entry) => entry.action).sort()).toEqual(['workflow.created', 'workflow.deleted', 'workflow.replaced']);
    const disconnected = await call(server, 'DELETE', `/v1/connections/${connection.id}`, { key });
    expect(disconnected.status, disconnected.text).toBe(200);
    expect((await entriesFor(connection.id)).map((entry) => entry.action).sort()).toEqual(['connection.created', 'connection.deleted']);
  });
});
