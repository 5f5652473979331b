// Tenancy against the real server: a key reaches its own project and environment
// and nothing else. Another project's ids answer 404 exactly as ids that never
// existed (never 403, which would confirm them), lists hold only the caller's
// own, and live and test data never meet.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../support/api.ts';
import { untypedRequest, mainTenant, newTenant, type Tenant } from '../support/fixtures.ts';
import { createWorkflow, workflowInput } from './auth-helpers.ts';

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

const api = useTestServer();
beforeAll(async () => {
  projectA = mainTenant(api.server);
  projectB = await newTenant(api.server);
  keyA = api.server.secretKey;
  keyB = (await projectB.key({ scopes: ['read', 'write', 'workflows:execute'] })).secret;

  a.workflow = await createWorkflow(api.server, keyA, 'Project A workflow');
  a.eventWorkflow = await createWorkflow(api.server, keyA, 'Project A order listener', {
    type: 'event',
    event_type: 'order.created',
  });
  const run = await api.as(keyA).POST('/v1/workflows/{workflow_id}/run', {
    params: { path: { workflow_id: a.workflow } },
    body: { input: { region: 'EMEA' } },
  });
  a.run = run.data!.data.id;
  const connection = await api.as(keyA).POST('/v1/connections', {
    body: {
      name: 'Slack (#ops-alerts)',
      provider: 'slack',
      auth_type: 'bearer',
      credentials: { token: 'example-only-slack-bot-token-3f9a1c7e52b04d6e' },
    },
  });
  a.connection = connection.data!.data.id;
  const key = await projectA.key({ scopes: ['workflows:read'] });
  a.key = key.id;
  a.keySecret = key.secret;
});

/** The answer to `path` with A's id, beside the answer with an id that never existed: both must be the same 404. */
async function expectSame404(
  method: string,
  pathFor: (id: string) => string,
  foreignId: string,
  neverExisted: string,
  key: string,
  body?: unknown,
) {
  const foreign = await untypedRequest(api.server, method, pathFor(foreignId), {
    key,
    ...(body !== undefined ? { body } : {}),
  });
  const unknown = await untypedRequest(api.server, method, pathFor(neverExisted), {
    key,
    ...(body !== undefined ? { body } : {}),
  });
  expect(foreign.status, `${method} ${pathFor(':id')}`).toBe(404);
  expect(foreign.error?.error.code).toBe('not_found');
  expect(unknown.status).toBe(404);
  expect(foreign.error?.error.message).toBe(unknown.error?.error.message);
}

const ids = (response: { data?: { data: { id: string }[] } }) => response.data!.data.map((item) => item.id);

describe("project A's ids, seen with project B's key", () => {
  it('answer 404 for workflows: read, replace, delete and run', async () => {
    await expectSame404('GET', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, keyB);
    await expectSame404(
      'PUT',
      (id) => `/v1/workflows/${id}`,
      a.workflow,
      NEVER_EXISTED.workflow,
      keyB,
      workflowInput('Hijacked'),
    );
    await expectSame404('POST', (id) => `/v1/workflows/${id}/run`, a.workflow, NEVER_EXISTED.workflow, keyB, {
      input: {},
    });
    await expectSame404('DELETE', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, keyB);
    const stillThere = await api
      .as(keyA)
      .GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: a.workflow } } });
    expect(stillThere.status).toBe(200);
    expect(stillThere.data?.data.name).toBe('Project A workflow');
  });

  it('answer 404 for runs: read, cancel and retry', async () => {
    await expectSame404('GET', (id) => `/v1/runs/${id}`, a.run, NEVER_EXISTED.run, keyB);
    await expectSame404('POST', (id) => `/v1/runs/${id}/cancel`, a.run, NEVER_EXISTED.run, keyB);
    await expectSame404('POST', (id) => `/v1/runs/${id}/retry`, a.run, NEVER_EXISTED.run, keyB);
  });

  it('answer 404 for connections: read and delete', async () => {
    await expectSame404('GET', (id) => `/v1/connections/${id}`, a.connection, NEVER_EXISTED.connection, keyB);
    await expectSame404('DELETE', (id) => `/v1/connections/${id}`, a.connection, NEVER_EXISTED.connection, keyB);
    expect(
      (await api.as(keyA).GET('/v1/connections/{connection_id}', { params: { path: { connection_id: a.connection } } }))
        .status,
    ).toBe(200);
  });

  it('answer 404 for API keys: read, revoke and rotate, and the key keeps working', async () => {
    await expectSame404('GET', (id) => `/v1/auth/api-keys/${id}`, a.key, NEVER_EXISTED.key, keyB);
    await expectSame404('DELETE', (id) => `/v1/auth/api-keys/${id}`, a.key, NEVER_EXISTED.key, keyB);
    await expectSame404('POST', (id) => `/v1/auth/api-keys/${id}/rotate`, a.key, NEVER_EXISTED.key, keyB, {
      grace_period_seconds: 0,
    });
    expect((await api.as(a.keySecret).GET('/v1/workflows')).status).toBe(200);
  });
});

describe('lists', () => {
  it("hold only the caller's own workflows, runs, connections, keys and audit entries", async () => {
    const ownWorkflow = await createWorkflow(api.server, keyB, 'Project B workflow');
    const paths = ['/v1/workflows', '/v1/runs', '/v1/connections', '/v1/auth/api-keys', '/v1/audit-logs'];
    const seenByA = new Set<string>();
    const seenByB = new Set<string>();
    for (const path of paths) {
      const listA = await untypedRequest(api.server, 'GET', `${path}?limit=100`, { key: keyA });
      const listB = await untypedRequest(api.server, 'GET', `${path}?limit=100`, { key: keyB });
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
    const response = await api.as(keyB).GET('/v1/runs', { params: { query: { workflow_id: a.workflow } } });
    expect(response.status).toBe(200);
    expect(response.data?.data).toEqual([]);
    expect(ids(await api.as(keyA).GET('/v1/runs', { params: { query: { workflow_id: a.workflow } } }))).toContain(
      a.run,
    );
  });
});

describe('events', () => {
  it("never start another project's workflows", async () => {
    const receipt = await api
      .as(keyB)
      .POST('/v1/events', { body: { type: 'order.created', data: { order_id: 'ord_10482' } } });
    expect(receipt.status).toBe(202);
    expect(receipt.data?.data.triggered_runs).toEqual([]);

    // The same event in project A does start A's listener (so the check above can fail).
    const own = await api
      .as(keyA)
      .POST('/v1/events', { body: { type: 'order.created', data: { order_id: 'ord_10483' } } });
    expect(own.data?.data.triggered_runs).toHaveLength(1);
  });
});

describe('live and test data', () => {
  let liveKey: string;
  let liveWorkflow: string;

  beforeAll(async () => {
    liveKey = (await projectA.key({ environment: 'live', scopes: ['read', 'write', 'workflows:execute'] })).secret;
    liveWorkflow = await createWorkflow(api.server, liveKey, 'Live workflow', {
      type: 'event',
      event_type: 'invoice.paid',
    });
  });

  it('a test key answers 404 for a live workflow of its own project, and a live key for a test one', async () => {
    await expectSame404('GET', (id) => `/v1/workflows/${id}`, liveWorkflow, NEVER_EXISTED.workflow, keyA);
    await expectSame404('DELETE', (id) => `/v1/workflows/${id}`, liveWorkflow, NEVER_EXISTED.workflow, keyA);
    await expectSame404('POST', (id) => `/v1/workflows/${id}/run`, liveWorkflow, NEVER_EXISTED.workflow, keyA, {
      input: {},
    });
    await expectSame404('GET', (id) => `/v1/workflows/${id}`, a.workflow, NEVER_EXISTED.workflow, liveKey);
    await expectSame404('GET', (id) => `/v1/runs/${id}`, a.run, NEVER_EXISTED.run, liveKey);
    await expectSame404('GET', (id) => `/v1/connections/${id}`, a.connection, NEVER_EXISTED.connection, liveKey);
    expect(
      (await api.as(liveKey).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: liveWorkflow } } }))
        .status,
    ).toBe(200);
  });

  it('lists of each environment hold only that environment', async () => {
    const testList = ids(await api.as(keyA).GET('/v1/workflows', { params: { query: { limit: 100 } } }));
    const liveList = ids(await api.as(liveKey).GET('/v1/workflows', { params: { query: { limit: 100 } } }));
    expect(liveList).toEqual([liveWorkflow]);
    expect(testList).toContain(a.workflow);
    expect(testList).not.toContain(liveWorkflow);
  });

  it('keys of one environment neither list nor manage the other environment keys', async () => {
    const liveKeys = await api.as(liveKey).GET('/v1/auth/api-keys', { params: { query: { limit: 100 } } });
    expect(liveKeys.data?.data.every((key: { environment: string }) => key.environment === 'live')).toBe(true);
    expect(ids(liveKeys)).not.toContain(a.key);
    const testKeys = await api.as(keyA).GET('/v1/auth/api-keys', { params: { query: { limit: 100 } } });
    expect(testKeys.data?.data.every((key: { environment: string }) => key.environment === 'test')).toBe(true);
    await expectSame404('DELETE', (id) => `/v1/auth/api-keys/${id}`, a.key, NEVER_EXISTED.key, liveKey);
  });

  it('a test event does not start a live workflow', async () => {
    const testEvent = await api.as(keyA).POST('/v1/events', { body: { type: 'invoice.paid', data: {} } });
    expect(testEvent.data?.data.triggered_runs).toEqual([]);
    const liveEvent = await api.as(liveKey).POST('/v1/events', { body: { type: 'invoice.paid', data: {} } });
    expect(liveEvent.data?.data.triggered_runs).toHaveLength(1);
  });

  it('the audit log of one environment does not show the other environment entries', async () => {
    const testAudit = await api
      .as(keyA)
      .GET('/v1/audit-logs', { params: { query: { action: 'workflow.created', limit: 100 } } });
    const liveAudit = await api
      .as(liveKey)
      .GET('/v1/audit-logs', { params: { query: { action: 'workflow.created', limit: 100 } } });
    const resources = (response: { data?: { data: { resource: { id: string } | null }[] } }) =>
      response.data!.data.map((entry) => entry.resource?.id);
    expect(resources(liveAudit)).toEqual([liveWorkflow]);
    expect(resources(testAudit)).toContain(a.workflow);
    expect(resources(testAudit)).not.toContain(liveWorkflow);
  });
});
