// Workflows CRUD against the real server: a definition checked by the contract
// (400 validation_failed with details) and by the server (unique step ids, 400
// invalid_workflow_definition, nothing stored), replace bumps the version,
// delete hides the workflow but keeps its runs.
import { beforeAll, describe, expect, it } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { createWorkflow, definition, expectError, finished, listAtOnce, startRun } from './resource-helpers.ts';

let key: string;

const api = useTestServer();
beforeAll(() => {
  key = api.server.secretKey;
});

const steps = [
  { id: 'remember', type: 'set', values: { region: '{{input.region}}' } },
  { id: 'announce', type: 'log', message: 'Region {{vars.region}}' },
] as const;

async function workflowCount(): Promise<number> {
  return (await listAtOnce(api.server, key, '/v1/workflows')).length;
}

describe('create', () => {
  it('stores a valid definition at version 1 with its defaults filled in', async () => {
    const response = await api.as(key).POST('/v1/workflows', { body: definition([...steps]) });
    expect(response.status).toBe(201);
    const workflow = response.data!.data;
    expect(workflow).toMatchObject({
      name: 'Order confirmation',
      description: null,
      status: 'active',
      trigger: { type: 'manual' },
      environment: 'test',
      version: 1,
    });
    expect(workflow.id).toMatch(/^wf_[0-9A-Za-z]{24}$/);
    expect(workflow.updated_at).toBe(workflow.created_at);
    // `level` defaults to info and is always present in responses.
    expect(workflow.steps).toEqual([steps[0], { ...steps[1], level: 'info' }]);

    const read = await api
      .as(key)
      .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
    expect(read.status).toBe(200);
    expect(read.data?.data).toEqual(workflow);
  });

  it('keeps an event trigger, a description and a paused status', async () => {
    const workflow = await createWorkflow(
      api.server,
      key,
      definition([...steps], {
        description: 'Line one\nline two',
        status: 'paused',
        trigger: { type: 'event', event_type: 'order.created' },
      }),
    );
    expect(workflow).toMatchObject({
      description: 'Line one\nline two',
      status: 'paused',
      trigger: { type: 'event', event_type: 'order.created' },
    });
  });

  it.each([
    ['no steps', { name: 'x', trigger: { type: 'manual' }, steps: [] }, 'body.steps'],
    ['a missing name', { trigger: { type: 'manual' }, steps: [...steps] }, 'body'],
    [
      'an unknown step type',
      definition([{ id: 'call', type: 'http', url: 'https://example.com' } as never]),
      'body.steps',
    ],
    ['an upper-case step id', definition([{ id: 'Announce', type: 'log', message: 'x' }]), 'body.steps'],
    ['a wait longer than five minutes', definition([{ id: 'pause', type: 'wait', seconds: 301 }]), 'body.steps'],
    [
      'a string where seconds is a number',
      definition([{ id: 'pause', type: 'wait', seconds: '5' as never }]),
      'body.steps',
    ],
    ['an unknown top-level field', { ...definition([...steps]), owner: 'me' }, 'body'],
    [
      'an event trigger without event_type',
      definition([...steps], { trigger: { type: 'event' } as never }),
      'body.trigger',
    ],
  ])('refuses %s with 400 validation_failed and details, storing nothing', async (_name, body, location) => {
    const before = await workflowCount();
    const response = await api.as(key).POST('/v1/workflows', { body: offContract(body) });
    expectError(response, 400, 'validation_failed');
    const details = response.error!.error.details as Array<{ location: string; message: string }>;
    expect(details.length).toBeGreaterThan(0);
    expect(details.some((issue) => issue.location.startsWith(location))).toBe(true);
    for (const issue of details) expect(issue.message).toBeTruthy();
    expect(await workflowCount()).toBe(before);
  });

  it('refuses duplicate step ids with 400 invalid_workflow_definition and stores nothing', async () => {
    const before = await workflowCount();
    const response = await api.as(key).POST('/v1/workflows', {
      body: definition([
        { id: 'same', type: 'log', message: 'one' },
        { id: 'same', type: 'wait', seconds: 0 },
      ]),
    });
    expectError(response, 400, 'invalid_workflow_definition');
    expect(response.error?.error.message).toContain('same');
    expect(await workflowCount()).toBe(before);
  });

  it('answers 404 for an unknown workflow id', async () => {
    expectError(
      await api
        .as(key)
        .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: 'wf_000000000000000000000000' } } }),
      404,
      'not_found',
    );
  });
});

describe('replace', () => {
  it('replaces the whole definition and increments the version, even when nothing changes', async () => {
    const created = await createWorkflow(
      api.server,
      key,
      definition([...steps], { description: 'First', status: 'paused' }),
    );
    const input = definition([{ id: 'only', type: 'log', message: 'replaced', level: 'warn' }], { name: 'Renamed' });

    const replaced = await api
      .as(key)
      .PUT('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: created.id } }, body: input });
    expect(replaced.status).toBe(200);
    // Not a patch: the omitted description and status take their defaults.
    expect(replaced.data?.data).toMatchObject({
      id: created.id,
      name: 'Renamed',
      description: null,
      status: 'active',
      version: 2,
      created_at: created.created_at,
    });
    expect(replaced.data?.data.steps).toEqual([{ id: 'only', type: 'log', message: 'replaced', level: 'warn' }]);

    const again = await api
      .as(key)
      .PUT('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: created.id } }, body: input });
    expect(again.data?.data.version).toBe(3);
    const read = await api
      .as(key)
      .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: created.id } } });
    expect(read.data?.data).toEqual(again.data?.data);
  });

  it('refuses duplicate step ids and leaves the stored workflow as it was', async () => {
    const created = await createWorkflow(api.server, key, definition([...steps]));
    const response = await api.as(key).PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: created.id } },
      body: definition([
        { id: 'twice', type: 'log', message: 'a' },
        { id: 'twice', type: 'log', message: 'b' },
      ]),
    });
    expectError(response, 400, 'invalid_workflow_definition');
    const read = await api
      .as(key)
      .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: created.id } } });
    expect(read.data?.data).toEqual(created);
  });

  it('refuses an invalid definition with 400 validation_failed and keeps the version', async () => {
    const created = await createWorkflow(api.server, key, definition([...steps]));
    expectError(
      await api.as(key).PUT('/v1/workflows/{workflow_id}', {
        params: { path: { workflow_id: created.id } },
        body: { name: 'x', trigger: { type: 'manual' }, steps: [] },
      }),
      400,
      'validation_failed',
    );
    expect(
      (await api.as(key).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: created.id } } })).data
        ?.data.version,
    ).toBe(1);
  });

  it('answers 404 for an unknown workflow', async () => {
    expectError(
      await api.as(key).PUT('/v1/workflows/{workflow_id}', {
        params: { path: { workflow_id: 'wf_000000000000000000000000' } },
        body: definition([...steps]),
      }),
      404,
      'not_found',
    );
  });

  // Found by the bad-input corpus on PostgreSQL: the loser of a race was a 500.
  it('applies concurrent replaces one after the other: every one succeeds and counts one version', async () => {
    const created = await createWorkflow(api.server, key, definition([...steps]));
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        api.as(key).PUT('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: created.id } },
          body: definition([...steps], { name: `Concurrent ${i}` }),
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
    expect(new Set(answers.map((answer) => answer.data?.data.version)).size).toBe(12);
    const read = await api
      .as(key)
      .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: created.id } } });
    expect(read.data?.data.version).toBe(13);
  });
});

describe('list', () => {
  it('filters by status', async () => {
    const paused = await createWorkflow(api.server, key, definition([...steps], { status: 'paused' }));
    const active = await createWorkflow(api.server, key, definition([...steps]));
    const pausedIds = (await listAtOnce(api.server, key, '/v1/workflows', { status: 'paused' })).map((w) => w.id);
    const activeIds = (await listAtOnce(api.server, key, '/v1/workflows', { status: 'active' })).map((w) => w.id);
    expect(pausedIds).toContain(paused.id);
    expect(pausedIds).not.toContain(active.id);
    expect(activeIds).toContain(active.id);
    expect(activeIds).not.toContain(paused.id);
  });
});

describe('delete', () => {
  it('hides the workflow from GET, PUT, DELETE, run and the list, but keeps its runs', async () => {
    const workflow = await createWorkflow(api.server, key, definition([...steps]));
    const run = await startRun(api.server, key, workflow.id, { region: 'EMEA' });
    await finished(api.server, key, run.id);

    const deleted = await api
      .as(key)
      .DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
    expect(deleted.status).toBe(200);
    expect(deleted.data?.data).toEqual({ id: workflow.id, deleted: true });

    expectError(
      await api.as(key).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } }),
      404,
      'not_found',
    );
    expectError(
      await api.as(key).PUT('/v1/workflows/{workflow_id}', {
        params: { path: { workflow_id: workflow.id } },
        body: definition([...steps]),
      }),
      404,
      'not_found',
    );
    expectError(
      await api.as(key).DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } }),
      404,
      'not_found',
    );
    expectError(
      await api
        .as(key)
        .POST('/v1/workflows/{workflow_id}/run', { params: { path: { workflow_id: workflow.id } }, body: {} }),
      404,
      'not_found',
    );
    expect((await listAtOnce(api.server, key, '/v1/workflows')).map((w) => w.id)).not.toContain(workflow.id);

    // Its runs stay readable and listed, also when filtered by the deleted workflow.
    const readRun = await api.as(key).GET('/v1/runs/{run_id}', { params: { path: { run_id: run.id } } });
    expect(readRun.status).toBe(200);
    expect(readRun.data?.data).toMatchObject({ id: run.id, workflow_id: workflow.id, status: 'succeeded' });
    expect((await listAtOnce(api.server, key, '/v1/runs', { workflow_id: workflow.id })).map((r) => r.id)).toEqual([
      run.id,
    ]);
    expect((await listAtOnce(api.server, key, '/v1/runs')).map((r) => r.id)).toContain(run.id);
  });
});
