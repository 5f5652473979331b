// Workflows CRUD against the real server: a definition checked by the contract
// (400 validation_failed with details) and by the server (unique step ids, 400
// invalid_workflow_definition, nothing stored), replace bumps the version,
// delete hides the workflow but keeps its runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createWorkflow, definition, expectError, finished, listAtOnce, startRun, type Workflow } from './resource-helpers.ts';

let server: TestServer;
let key: string;

beforeAll(async () => {
  server = await startTestServer();
  key = server.secretKey;
});
afterAll(() => server.close());

const steps = [
  { id: 'remember', type: 'set', values: { region: '{{input.region}}' } },
  { id: 'announce', type: 'log', message: 'Region {{vars.region}}' },
] as const;

async function workflowCount(): Promise<number> {
  return (await listAtOnce(server, key, '/v1/workflows')).length;
}

describe('create', () => {
  it('stores a valid definition at version 1 with its defaults filled in', async () => {
    const response = await call(server, 'POST', '/v1/workflows', { key, body: definition([...steps]) });
    expect(response.status).toBe(201);
    const workflow = response.body.data as Workflow;
    expect(workflow).toMatchObject({ name: 'Order confirmation', description: null, status: 'active', trigger: { type: 'manual' }, environment: 'test', version: 1 });
    expect(workflow.id).toMatch(/^wf_[0-9A-Za-z]{24}$/);
    expect(workflow.updated_at).toBe(workflow.created_at);
    // `level` defaults to info and is always present in responses.
    expect(workflow.steps).toEqual([steps[0], { ...steps[1], level: 'info' }]);

    const read = await call(server, 'GET', `/v1/workflows/${workflow.id}`, { key });
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual(workflow);
  });

  it('keeps an event trigger, a description and a paused status', async () => {
    const workflow = await createWorkflow(server, key, definition([...steps], { description: 'Line one\nline two', status: 'paused', trigger: { type: 'event', event_type: 'order.created' } }));
    expect(workflow).toMatchObject({ description: 'Line one\nline two', status: 'paused', trigger: { type: 'event', event_type: 'order.created' } });
  });

  it.each([
    ['no steps', { name: 'x', trigger: { type: 'manual' }, steps: [] }, 'body.steps'],
    ['a missing name', { trigger: { type: 'manual' }, steps: [...steps] }, 'body'],
    ['an unknown step type', definition([{ id: 'call', type: 'http', url: 'https://example.com' } as never]), 'body.steps'],
    ['an upper-case step id', definition([{ id: 'Announce', type: 'log', message: 'x' }]), 'body.steps'],
    ['a wait longer than five minutes', definition([{ id: 'pause', type: 'wait', seconds: 301 }]), 'body.steps'],
    ['a string where seconds is a number', definition([{ id: 'pause', type: 'wait', seconds: '5' as never }]), 'body.steps'],
    ['an unknown top-level field', { ...definition([...steps]), owner: 'me' }, 'body'],
    ['an event trigger without event_type', definition([...steps], { trigger: { type: 'event' } as never }), 'body.trigger'],
  ])('refuses %s with 400 validation_failed and details, storing nothing', async (_name, body, location) => {
    const before = await workflowCount();
    const response = await call(server, 'POST', '/v1/workflows', { key, body });
    expectError(response, 400, 'validation_failed');
    const details = response.body.error.details as Array<{ location: string; message: string }>;
    expect(details.length).toBeGreaterThan(0);
    expect(details.some((issue) => issue.location.startsWith(location))).toBe(true);
    for (const issue of details) expect(issue.message).toBeTruthy();
    expect(await workflowCount()).toBe(before);
  });

  it('refuses duplicate step ids with 400 invalid_workflow_definition and stores nothing', async () => {
    const before = await workflowCount();
    const response = await call(server, 'POST', '/v1/workflows', {
      key,
      body: definition([
        { id: 'same', type: 'log', message: 'one' },
        { id: 'same', type: 'wait', seconds: 0 },
      ]),
    });
    expectError(response, 400, 'invalid_workflow_definition');
    expect(response.body.error.message).toContain('same');
    expect(await workflowCount()).toBe(before);
  });

  it('answers 404 for an unknown workflow id', async () => {
    expectError(await call(server, 'GET', '/v1/workflows/wf_000000000000000000000000', { key }), 404, 'not_found');
  });
});

describe('replace', () => {
  it('replaces the whole definition and increments the version, even when nothing changes', async () => {
    const created = await createWorkflow(server, key, definition([...steps], { description: 'First', status: 'paused' }));
    const input = definition([{ id: 'only', type: 'log', message: 'replaced', level: 'warn' }], { name: 'Renamed' });

    const replaced = await call(server, 'PUT', `/v1/workflows/${created.id}`, { key, body: input });
    expect(replaced.status).toBe(200);
    // Not a patch: the omitted description and status take their defaults.
    expect(replaced.body.data).toMatchObject({ id: created.id, name: 'Renamed', description: null, status: 'active', version: 2, created_at: created.created_at });
    expect(replaced.body.data.steps).toEqual([{ id: 'only', type: 'log', message: 'replaced', level: 'warn' }]);

    const again = await call(server, 'PUT', `/v1/workflows/${created.id}`, { key, body: input });
    expect(again.body.data.version).toBe(3);
    const read = await call(server, 'GET', `/v1/workflows/${created.id}`, { key });
    expect(read.body.data).toEqual(again.body.data);
  });

  it('refuses duplicate step ids and leaves the stored workflow as it was', async () => {
    const created = await createWorkflow(server, key, definition([...steps]));
    const response = await call(server, 'PUT', `/v1/workflows/${created.id}`, {
      key,
      body: definition([
        { id: 'twice', type: 'log', message: 'a' },
        { id: 'twice', type: 'log', message: 'b' },
      ]),
    });
    expectError(response, 400, 'invalid_workflow_definition');
    const read = await call(server, 'GET', `/v1/workflows/${created.id}`, { key });
    expect(read.body.data).toEqual(created);
  });

  it('refuses an invalid definition with 400 validation_failed and keeps the version', async () => {
    const created = await createWorkflow(server, key, definition([...steps]));
    expectError(await call(server, 'PUT', `/v1/workflows/${created.id}`, { key, body: { name: 'x', trigger: { type: 'manual' }, steps: [] } }), 400, 'validation_failed');
    expect((await call(server, 'GET', `/v1/workflows/${created.id}`, { key })).body.data.version).toBe(1);
  });

  it('answers 404 for an unknown workflow', async () => {
    expectError(await call(server, 'PUT', '/v1/workflows/wf_000000000000000000000000', { key, body: definition([...steps]) }), 404, 'not_found');
  });

  // Found by the bad-input corpus on PostgreSQL: the loser of a race was a 500.
  it('applies concurrent replaces one after the other: every one succeeds and counts one version', async () => {
    const created = await createWorkflow(server, key, definition([...steps]));
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(server, 'PUT', `/v1/workflows/${created.id}`, { key, body: definition([...steps], { name: `Concurrent ${i}` }) })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(200));
    expect(new Set(answers.map((answer) => answer.body.data.version)).size).toBe(12);
    const read = await call(server, 'GET', `/v1/workflows/${created.id}`, { key });
    expect(read.body.data.version).toBe(13);
  });
});

describe('list', () => {
  it('filters by status', async () => {
    const paused = await createWorkflow(server, key, definition([...steps], { status: 'paused' }));
    const active = await createWorkflow(server, key, definition([...steps]));
    const pausedIds = (await listAtOnce(server, key, '/v1/workflows', { status: 'paused' })).map((w) => w.id);
    const activeIds = (await listAtOnce(server, key, '/v1/workflows', { status: 'active' })).map((w) => w.id);
    expect(pausedIds).toContain(paused.id);
    expect(pausedIds).not.toContain(active.id);
    expect(activeIds).toContain(active.id);
    expect(activeIds).not.toContain(paused.id);
  });
});

describe('delete', () => {
  it('hides the workflow from GET, PUT, DELETE, run and the list, but keeps its runs', async () => {
    const workflow = await createWorkflow(server, key, definition([...steps]));
    const run = await startRun(server, key, workflow.id, { region: 'EMEA' });
    await finished(server, key, run.id);

    const deleted = await call(server, 'DELETE', `/v1/workflows/${workflow.id}`, { key });
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id: workflow.id, deleted: true });

    expectError(await call(server, 'GET', `/v1/workflows/${workflow.id}`, { key }), 404, 'not_found');
    expectError(await call(server, 'PUT', `/v1/workflows/${workflow.id}`, { key, body: definition([...steps]) }), 404, 'not_found');
    expectError(await call(server, 'DELETE', `/v1/workflows/${workflow.id}`, { key }), 404, 'not_found');
    expectError(await call(server, 'POST', `/v1/workflows/${workflow.id}/run`, { key, body: {} }), 404, 'not_found');
    expect((await listAtOnce(server, key, '/v1/workflows')).map((w) => w.id)).not.toContain(workflow.id);

    // Its runs stay readable and listed, also when filtered by the deleted workflow.
    const readRun = await call(server, 'GET', `/v1/runs/${run.id}`, { key });
    expect(readRun.status).toBe(200);
    expect(readRun.body.data).toMatchObject({ id: run.id, workflow_id: workflow.id, status: 'succeeded' });
    expect((await listAtOnce(server, key, '/v1/runs', { workflow_id: workflow.id })).map((r) => r.id)).toEqual([run.id]);
    expect((await listAtOnce(server, key, '/v1/runs')).map((r) => r.id)).toContain(run.id);
  });
});
