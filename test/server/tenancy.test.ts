// Tenancy against the real server: a key reaches its own project and environment
// and nothing else. Another project's ids answer 404 exactly as ids that never
// existed (never 403, which would confirm them), lists hold only the caller's
// own, and live and test data never meet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, mainTenant, newTenant, type Tenant } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { createWorkflow, workflowInput } from './auth-helpers.ts';

let server: TestServer;
let projectA: Tenant;
let projectB: Tenant;
/** All-scopes test keys of each project. */
let keyA: string;
let keyB: string;
/** Project A's resources, which project B probes. */
const a = { workflow: '', eventWorkflow: '', run: '', connection: '', key: '', keySecret: '' };

const NEVER_EXISTED = {
  workflow: 'wf_000000000000000000000000',
  run: 'run_000000000000000000000000',
  connection: 'conn_000000000000000000000000',
  key: 'key_000000000000000000000000',
};

beforeAll(async () => {
  server = await startTestServer();
  projectA = mainTenant(server);
  projectB = await newTenant(server);
  keyA = server.secretKey;
  keyB = (await projectB.key({ scopes: ['read', 'write', 'workflows:execute'] })).secret;

  a.workflow = await createWorkflow(server, keyA, 'Project A workflow');
  a.eventWorkflow = await createWorkflow(server, keyA, 'Project A order listener', { type: 'event', event_type: 'order.created' });
  const run = await call(server, 'POST', `/v1/workflows/${a.workflow}/run`, { key: keyA, body: { input: { region: 'EMEA' } } });
  a.run = run.body.data.id;
  const connection = await call(server, 'POST', '/v1/connections', {
    key: keyA,
    body: { name: 'Slack (#ops-alerts)', provider: 'slack', auth_type: 'bearer', credentials: { token: 'example-only-slack-bot-token-3f9a1c7e52b04d6e' } },
  });
  a.connection = connection.body.data.id;
  const key = await projectA.key({ scopes: ['workflows:read'] });
  a.key = key.id;
  a.keySecret = key.secret;
});
afterAll(() => server.close());

/** The answer to `path` with A's id, beside the answer with an id that never existed: both must be the same 404. */
async function expectSame404(method: string, pathFor: (id: string) => string, foreignId: string, neverExisted: string, key: string, body?: unknown) {
  const foreign = await call(server, method, pathFor(foreignId), { key, ...(body !== undefined ? { body } : {}) });
  const unknown = await call(server, method, pathFor(neverExisted), { key, ...(body !== undefined ? { body } : {}) });
  expect(foreign.status, `${method} ${pathFor(':id')}`).toBe(404);
  expect(foreign.body.error.code).toBe('not_found');
  expect(unknown.status).toBe(404);
  expect(foreign.body.error.message).toBe(unknown.body.error.message);
}

const ids = (response: { body: { data: { id: string }[] } }) => response.body.data.map((item) => item.id);

describe("project A's ids, seen with project B's key", () => {
  it('answer 404 for workflows: read, replace, delete and run', async () => {
    await expectSame404('GET', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, keyB);
    await expectSame404('PUT', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, keyB, workflowInput('Hijacked'));
    await expectSame404('POST', (id) => `/v1/workflows/${id}/run`, a.workflow, NEVER_EXISTED.workflow, keyB, { input: {} });
    await expectSame404('DELETE', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, keyB);
    const stillThere = await call(server, 'GET', `/v1/workflows/${a.workflow}`, { key: keyA });
    expect(stillThere.status).toBe(200);
    expect(stillThere.body.data.name).toBe('Project A workflow');
  });

  it('answer 404 for runs: read, cancel and retry', async () => {
    await expectSame404('GET', (id) => `/v1/runs/${id}`, a.run, NEVER_EXISTED.run, keyB);
    await expectSame404('POST', (id) => `/v1/runs/${id}/cancel`, a.run, NEVER_EXISTED.run, keyB);
    await expectSame404('POST', (id) => `/v1/runs/${id}/retry`, a.run, NEVER_EXISTED.run, keyB);
  });

  it('answer 404 for connections: read and delete', async () => {
    await expectSame404('GET', (id) => `/v1/connections/${id}`, a.connection, NEVER_EXISTED.connection, keyB);
    await expectSame404('DELETE', (id) => `/v1/connections/${id}`, a.connection, NEVER_EXISTED.connection, keyB);
    expect((await call(server, 'GET', `/v1/connections/${a.connection}`, { key: keyA })).status).toBe(200);
  });

  it('answer 404 for API keys: read, revoke and rotate, and the key keeps working', async () => {
    await expectSame404('GET', (id) => `/v1/auth/api-keys/${id}`, a.key, NEVER_EXISTED.key, keyB);
    await expectSame404('DELETE', (id) => `/v1/auth/api-keys/${id}`, a.key, NEVER_EXISTED.key, keyB);
    await expectSame404('POST', (id) => `/v1/auth/api-keys/${id}/rotate`, a.key, NEVER_EXISTED.key, keyB, { grace_period_seconds: 0 });
    expect((await call(server, 'GET', '/v1/workflows', { key: a.keySecret })).status).toBe(200);
  });

});

describe('lists', () => {
  it("hold only the caller's own workflows, runs, connections, keys and audit entries", async () => {
    const ownWorkflow = await createWorkflow(server, keyB, 'Project B workflow');
    const paths = ['/v1/workflows', '/v1/runs', '/v1/connections', '/v1/auth/api-keys', '/v1/audit-logs'];
    const seenByA = new Set<string>();
    const seenByB = new Set<string>();
    for (const path of paths) {
      const listA = await call(server, 'GET', `${path}?limit=100`, { key: keyA });
      const listB = await call(server, 'GET', `${path}?limit=100`, { key: keyB });
      expect(listA.status, path).toBe(200);
      expect(listB.status, path).toBe(200);
      ids(listA).forEach((id) => seenByA.add(id));
      ids(listB).forEach((id) => seenByB.add(id));
    }
    for (const id of [a.workflow, a.eventWorkflow, a.run, a.connection, a.key]) {
      expect(seenByA.has(id), id).toBe(true);
      expect(seenByB.has(id), id).toBe(false);
    }
    expect(seenByB.has(ownWorkflow)).toBe(true);
    expect(seenByA.has(ownWorkflow)).toBe(false);
    expect([...seenByA].filter((id) => seenByB.has(id))).toEqual([]);
  });

  it("do not let a workflow_id filter reach another project's runs", async () => {
    const response = await call(server, 'GET', `/v1/runs?workflow_id=${a.workflow}`, { key: keyB });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual([]);
    expect(ids(await call(server, 'GET', `/v1/runs?workflow_id=${a.workflow}`, { key: keyA }))).toContain(a.run);
  });
});

describe('events', () => {
  it("never start another project's workflows", async () => {
    const receipt = await call(server, 'POST', '/v1/events', { key: keyB, body: { type: 'order.created', data: { order_id: 'ord_10482' } } });
    expect(receipt.status).toBe(202);
    expect(receipt.body.data.triggered_runs).toEqual([]);

    // The same event in project A does start A's listener (so the check above can fail).
    const own = await call(server, 'POST', '/v1/events', { key: keyA, body: { type: 'order.created', data: { order_id: 'ord_10483' } } });
    expect(own.body.data.triggered_runs).toHaveLength(1);
  });
});

describe('live and test data', () => {
  let liveKey: string;
  let liveWorkflow: string;

  beforeAll(async () => {
    liveKey = (await projectA.key({ environment: 'live', scopes: ['read', 'write', 'workflows:execute'] })).secret;
    liveWorkflow = await createWorkflow(server, liveKey, 'Live workflow', { type: 'event', event_type: 'invoice.paid' });
  });

  it('a test key answers 404 for a live workflow of its own project, and a live key for a test one', async () => {
    await expectSame404('GET', (id) => `/v1/workflows/${id}`, liveWorkflow, NEVER_EXISTED.workflow, keyA);
    await expectSame404('DELETE', (id) => `/v1/workflows/${id}`, liveWorkflow, NEVER_EXISTED.workflow, keyA);
    await expectSame404('POST', (id) => `/v1/workflows/${id}/run`, liveWorkflow, NEVER_EXISTED.workflow, keyA, { input: {} });
    await expectSame404('GET', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, liveKey);
    await expectSame404('GET', (id) => `/v1/runs/${id}`, a.run, NEVER_EXISTED.run, liveKey);
    await expectSame404('GET', (id) => `/v1/connections/${id}`, a.connection, NEVER_EXISTED.connection, liveKey);
    expect((await call(server, 'GET', `/v1/workflows/${liveWorkflow}`, { key: liveKey })).status).toBe(200);
  });

  it('lists of each environment hold only that environment', async () => {
    const testList = ids(await call(server, 'GET', '/v1/workflows?limit=100', { key: keyA }));
    const liveList = ids(await call(server, 'GET', '/v1/workflows?limit=100', { key: liveKey }));
    expect(liveList).toEqual([liveWorkflow]);
    expect(testList).toContain(a.workflow);
    expect(testList).not.toContain(liveWorkflow);
  });

  it('keys of one environment neither list nor manage the other environment keys', async () => {
    const liveKeys = await call(server, 'GET', '/v1/auth/api-keys?limit=100', { key: liveKey });
    expect(liveKeys.body.data.every((key: { environment: string }) => key.environment === 'live')).toBe(true);
    expect(ids(liveKeys)).not.toContain(a.key);
    const testKeys = await call(server, 'GET', '/v1/auth/api-keys?limit=100', { key: keyA });
    expect(testKeys.body.data.every((key: { environment: string }) => key.environment === 'test')).toBe(true);
    await expectSame404('DELETE', (id) => `/v1/auth/api-keys/${id}`, a.key, NEVER_EXISTED.key, liveKey);
  });

  it('a test event does not start a live workflow', async () => {
    const testEvent = await call(server, 'POST', '/v1/events', { key: keyA, body: { type: 'invoice.paid', data: {} } });
    expect(testEvent.body.data.triggered_runs).toEqual([]);
    const liveEvent = await call(server, 'POST', '/v1/events', { key: liveKey, body: { type: 'invoice.paid', data: {} } });
    expect(liveEvent.body.data.triggered_runs).toHaveLength(1);
  });

  it('the audit log of one environment does not show the other environment entries', async () => {
    const testAudit = await call(server, 'GET', '/v1/audit-logs?action=workflow.created&limit=100', { key: keyA });
    const liveAudit = await call(server, 'GET', '/v1/audit-logs?action=workflow.created&limit=100', { key: liveKey });
    const resources = (response: { body: { data: { resource: { id: string } | null }[] } }) => response.body.data.map((entry) => entry.resource?.id);
    expect(resources(liveAudit)).toEqual([liveWorkflow]);
    expect(resources(testAudit)).toContain(a.workflow);
    expect(resources(testAudit)).not.toContain(liveWorkflow);
  });
});
