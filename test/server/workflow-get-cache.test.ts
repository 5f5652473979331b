// GET /v1/workflows/{id} and GET /v1/workflows answer kept workflow versions without
// reading the database (src/domain/workflows.ts, CURRENT and PAGES). These tests warm those
// caches first, then change the workflows, and check that the very next GET sees the
// change: a create, a replace and a delete through the API, and on SQLite another process
// writing the file. They also show both caches are keyed by tenant, so an id alone never
// reaches another project's workflow and a page never lists another tenant's.
import type { operations } from '../../generated/api.d.ts';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/api.ts';
import { onSqlite, otherConnection, sqliteOnly } from '../support/other-process.ts';
import { createWorkflow, workflowInput } from './auth-helpers.ts';

const statements: string[] = [];

const api = useTestServer({ observeQueries: (sql) => statements.push(sql) });

/** GETs the workflow twice, so that its version is kept and known as current. */
async function warm(id: string): Promise<void> {
  for (let i = 0; i < 2; i++)
    expect(
      (await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).status,
    ).toBe(200);
}

const readsOfWorkflows = () => statements.filter((sql) => /from "workflows"/.test(sql));

describe('GET /v1/workflows/{id}, answered from what is kept', () => {
  it('reads nothing from the workflows table once warm on SQLite, and reads it every time on PostgreSQL', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Kept');
    await warm(id);
    statements.length = 0;
    const answer = await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } });
    expect(answer.status).toBe(200);
    expect(answer.data?.data).toMatchObject({ id, name: 'Kept', version: 1 });
    // Across instances (PostgreSQL) a change reaches the others a moment after its commit:
    // a write through one and a read through another must agree, so nothing is kept there.
    expect(readsOfWorkflows()).toHaveLength(onSqlite ? 0 : 1);
  });

  it('answers the new version on the very next GET after a PUT', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Before');
    await warm(id);
    const replaced = await api.client.PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: id } },
      body: workflowInput('After'),
    });
    expect(replaced.status).toBe(200);
    const answer = await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } });
    expect(answer.data?.data).toMatchObject({ id, name: 'After', version: 2 });
    // And the version after that, from the cache again.
    expect(
      (
        await api.client.PUT('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: id } },
          body: workflowInput('Again'),
        })
      ).status,
    ).toBe(200);
    await warm(id);
    expect(
      (await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).data?.data,
    ).toMatchObject({ name: 'Again', version: 3 });
  });

  it('answers 404 on the very next GET after a DELETE', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Doomed');
    await warm(id);
    expect(
      (await api.client.DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).status,
    ).toBe(200);
    const answer = await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } });
    expect(answer.status).toBe(404);
    expect(answer.error?.error.code).toBe('not_found');
  });

  it('keeps answering the current version when a PUT is refused, and follows the next one', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Steady');
    await warm(id);
    // Refused by the service (step ids must be unique), past the contract's validation: nothing is written.
    const twice = {
      ...workflowInput('Broken'),
      steps: [
        { id: 'same', type: 'log' as const, message: 'a' },
        { id: 'same', type: 'log' as const, message: 'b' },
      ],
    };
    expect(
      (await api.client.PUT('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } }, body: twice }))
        .status,
    ).toBe(400);
    expect(
      (await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).data?.data,
    ).toMatchObject({ name: 'Steady', version: 1 });
    expect(
      (
        await api.client.PUT('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: id } },
          body: workflowInput('Moved on'),
        })
      ).status,
    ).toBe(200);
    expect(
      (await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).data?.data,
    ).toMatchObject({ name: 'Moved on', version: 2 });
  });

  it('is kept per tenant: a warm id asked for from another environment or project is not found', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Tenant');
    await warm(id);
    const workflows = api.server.server.services.workflows;
    await expect(workflows.get({ projectId: api.server.projectId, environment: 'test' }, id)).resolves.toMatchObject({
      id,
      name: 'Tenant',
    });
    for (const scope of [
      { projectId: api.server.projectId, environment: 'live' as const },
      { projectId: 'prj_someoneelse0000000000', environment: 'test' as const },
    ]) {
      await expect(workflows.get(scope, id)).rejects.toMatchObject({ code: 'not_found' });
    }
  });

  sqliteOnly('sees a change another process commits to the SQLite file on the very next GET', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Outside');
    await warm(id);
    const other = otherConnection(api.server);
    try {
      other.prepare("update workflows set name = 'Changed outside', version = version + 1 where id = ?").run(id);
      expect(
        (await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).data?.data,
      ).toMatchObject({ name: 'Changed outside', version: 2 });
      await warm(id);
      other.prepare("update workflows set deleted_at = '2026-11-24T00:00:00.000Z' where id = ?").run(id);
      expect(
        (await api.client.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).status,
      ).toBe(404);
    } finally {
      other.close();
    }
  });
});

describe('GET /v1/workflows, answered from what is kept', () => {
  const list = async (query: NonNullable<operations['listWorkflows']['parameters']['query']> = {}) => {
    const answer = await api.client.GET('/v1/workflows', { params: { query } });
    expect(answer.status).toBe(200);
    return answer.data!;
  };
  const warmList = async (query: NonNullable<operations['listWorkflows']['parameters']['query']> = {}) => {
    await list(query);
    return list(query);
  };

  it('reads nothing from the workflows table once warm on SQLite, and reads it every time on PostgreSQL', async () => {
    await createWorkflow(api.server, api.server.secretKey, 'Listed');
    const warmed = await warmList({ limit: 5 });
    statements.length = 0;
    expect(await list({ limit: 5 })).toEqual(warmed);
    expect(readsOfWorkflows()).toHaveLength(onSqlite ? 0 : 1);
  });

  it('lists a workflow created, replaced or deleted on the very next GET', async () => {
    await warmList();
    const id = await createWorkflow(api.server, api.server.secretKey, 'Newest');
    expect((await list()).data.find((workflow) => workflow.id === id)).toMatchObject({ name: 'Newest', version: 1 });
    await warmList();
    expect(
      (
        await api.client.PUT('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: id } },
          body: workflowInput('Renamed'),
        })
      ).status,
    ).toBe(200);
    expect((await list()).data.find((workflow) => workflow.id === id)).toMatchObject({ name: 'Renamed', version: 2 });
    await warmList();
    expect(
      (await api.client.DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: id } } })).status,
    ).toBe(200);
    expect((await list()).data.map((workflow) => workflow.id)).not.toContain(id);
  });

  it('follows a change on every page of the tenant, whatever its filter and position', async () => {
    for (let i = 0; i < 4; i++) await createWorkflow(api.server, api.server.secretKey, `Paged ${i}`);
    const first = await warmList({ limit: 2 });
    const second = await warmList({ limit: 2, cursor: first.next_cursor! });
    await warmList({ status: 'active', limit: 2 });
    const moved = second.data[0]!;
    expect(
      (
        await api.client.PUT('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: moved.id } },
          body: { ...workflowInput('Paused now'), status: 'paused' },
        })
      ).status,
    ).toBe(200);
    expect((await list({ limit: 2, cursor: first.next_cursor! })).data[0]).toMatchObject({
      id: moved.id,
      name: 'Paused now',
      version: moved.version + 1,
    });
    expect((await list({ status: 'paused', limit: 100 })).data.map((workflow) => workflow.id)).toContain(moved.id);
    expect((await list({ status: 'active', limit: 100 })).data.map((workflow) => workflow.id)).not.toContain(moved.id);
  });

  it('is kept per tenant: another environment or project never gets this one page', async () => {
    await createWorkflow(api.server, api.server.secretKey, 'Test only');
    await warmList();
    const workflows = api.server.server.services.workflows;
    for (const scope of [
      { projectId: api.server.projectId, environment: 'live' as const },
      { projectId: 'prj_someoneelse0000000000', environment: 'test' as const },
    ]) {
      const page = await workflows.list(scope, undefined, 20);
      expect(page.items.map((workflow) => workflow.name)).not.toContain('Test only');
    }
  });

  sqliteOnly('sees a workflow another process adds or deletes in the SQLite file on the very next GET', async () => {
    const id = await createWorkflow(api.server, api.server.secretKey, 'Outside list');
    await warmList();
    const other = otherConnection(api.server);
    try {
      other.prepare("update workflows set deleted_at = '2026-11-24T00:00:00.000Z' where id = ?").run(id);
      expect((await list()).data.map((workflow) => workflow.id)).not.toContain(id);
      await warmList();
      other
        .prepare("update workflows set deleted_at = null, name = 'Back', version = version + 1 where id = ?")
        .run(id);
      expect((await list()).data.find((workflow) => workflow.id === id)).toMatchObject({ name: 'Back', version: 2 });
    } finally {
      other.close();
    }
  });
});
