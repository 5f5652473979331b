// Tenancy of the resources (workflows, runs, connections, events, audit log):
// every query a request makes on a resource table carries the caller's project
// and environment in its WHERE clause and every insert writes them, so no code
// path reaches another tenant's rows by id alone; seen over HTTP, another
// project's (or environment's) ids answer 404 like ids that never existed, never
// 403. (tenancy.test.ts covers the same boundary for keys, lists and events.)
import { beforeAll, expect, it } from 'vitest';
import { useTestServer } from '../support/api.ts';
import { untypedRequest, mainTenant, newTenant } from '../support/fixtures.ts';
import { createWorkflow, definition, expectError, startRun } from './resource-helpers.ts';

const statements: string[] = [];
let recording = false;

const api = useTestServer({ observeQueries: (sql) => void (recording && statements.push(sql)) });
beforeAll(async () => {
  await api.server.server.runner.stop();
});

it('scopes every resource query of every resource operation by project and environment', async () => {
  const key = api.server.secretKey;
  const trigger = { type: 'event', event_type: 'scoped.check' } as const;
  recording = true;
  const workflow = await createWorkflow(
    api.server,
    key,
    definition([{ id: 'a', type: 'set', values: { a: 1 } }], { trigger }),
  );
  await api.as(key).GET('/v1/workflows');
  await api.as(key).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
  await api.as(key).PUT('/v1/workflows/{workflow_id}', {
    params: { path: { workflow_id: workflow.id } },
    body: definition([{ id: 'b', type: 'set', values: { b: 1 } }], { trigger }),
  });
  const run = await startRun(api.server, key, workflow.id);
  await api.as(key).GET('/v1/runs', { params: { query: { workflow_id: workflow.id, status: 'queued' } } });
  await api.as(key).GET('/v1/runs/{run_id}', { params: { path: { run_id: run.id } } });
  expect((await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } })).status).toBe(
    200,
  );
  expect((await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: run.id } } })).status).toBe(
    202,
  );
  expect(
    (await api.as(key).POST('/v1/events', { body: { type: 'scoped.check', data: {} } })).data?.data.triggered_runs,
  ).toHaveLength(1);
  const connection = await api.as(key).POST('/v1/connections', {
    body: { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: 't' } },
  });
  await api.as(key).GET('/v1/connections');
  await api
    .as(key)
    .GET('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.data!.data.id } } });
  await api
    .as(key)
    .DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: connection.data!.data.id } } });
  await api.as(key).DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
  await api.as(key).GET('/v1/audit-logs', { params: { query: { action: 'workflow.created' } } });
  recording = false;

  const onResourceTable = /\b(from|update)\s+"(workflows|runs|connections|events|audit_logs)"/i;
  const reads = statements.filter((sql) => /^(select|update|delete)\b/i.test(sql) && onResourceTable.test(sql));
  // The check sees real traffic: reads, updates and deletes of each table.
  for (const table of ['workflows', 'runs', 'connections', 'audit_logs'])
    expect(reads.some((sql) => sql.includes(`"${table}"`))).toBe(true);
  // Placeholders are `?` on SQLite and `$n` on PostgreSQL.
  const unscoped = reads.filter(
    (sql) => !/"project_id" = (\?|\$\d+)/.test(sql) || !/"environment" = (\?|\$\d+)/.test(sql),
  );
  expect(unscoped.join('\n')).toBe('');

  const inserts = statements.filter((sql) => /^insert into "(workflows|runs|connections|events)"/i.test(sql));
  expect(inserts.length).toBeGreaterThanOrEqual(5);
  for (const insert of inserts) expect(insert).toMatch(/"project_id".*"environment"/);
});

it.each([
  ['a key of another project', async () => (await (await newTenant(api.server)).key()).secret],
  ['a live key of the same project', async () => (await mainTenant(api.server).key({ environment: 'live' })).secret],
])('answers %s 404 not_found, never 403, for every resource operation on these ids', async (_name, keyOf) => {
  const key = api.server.secretKey;
  const intruder = await keyOf();
  const workflow = await createWorkflow(api.server, key, definition([{ id: 'a', type: 'set', values: { a: 1 } }]));
  const run = await startRun(api.server, key, workflow.id); // stays queued: the runner is stopped
  const connection = (
    await api.as(key).POST('/v1/connections', {
      body: { name: 'Slack', provider: 'slack', auth_type: 'bearer', credentials: { token: 't' } },
    })
  ).data!.data.id;
  const attempts: Array<[string, string, unknown?]> = [
    ['GET', `/v1/workflows/${workflow.id}`],
    ['PUT', `/v1/workflows/${workflow.id}`, definition([{ id: 'x', type: 'log', message: 'taken over' }])],
    ['POST', `/v1/workflows/${workflow.id}/run`, {}],
    ['DELETE', `/v1/workflows/${workflow.id}`],
    ['GET', `/v1/runs/${run.id}`],
    ['POST', `/v1/runs/${run.id}/cancel`],
    ['POST', `/v1/runs/${run.id}/retry`],
    ['GET', `/v1/connections/${connection}`],
    ['DELETE', `/v1/connections/${connection}`],
  ];
  for (const [method, path, body] of attempts) {
    const response = await untypedRequest(api.server, method, path, {
      key: intruder,
      ...(body === undefined ? {} : { body }),
    });
    expect(`${method} ${path} -> ${response.status}`).toBe(`${method} ${path} -> 404`);
    expectError(response, 404, 'not_found');
  }
  // Untouched for their owner.
  expect(
    (await api.as(key).GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } })).data
      ?.data.version,
  ).toBe(1);
  expect((await api.as(key).GET('/v1/runs/{run_id}', { params: { path: { run_id: run.id } } })).data?.data.status).toBe(
    'queued',
  );
  expect(
    (await api.as(key).GET('/v1/connections/{connection_id}', { params: { path: { connection_id: connection } } }))
      .status,
  ).toBe(200);
  expect(
    (await api.as(intruder).GET('/v1/runs', { params: { query: { workflow_id: workflow.id } } })).data?.data,
  ).toEqual([]);
});
