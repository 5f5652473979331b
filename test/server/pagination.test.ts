// Cursor pagination on every list (workflows, runs with filters, connections,
// API keys, audit logs), against the real server: a walk with limit=2 sees every
// item once, newest first (ties on the timestamp broken by id); a cursor only
// works for the list and filters it came from; a garbage cursor is a 400.
import { beforeAll, describe, expect, it } from 'vitest';
import { offContract, useTestServer, type ListPath } from '../support/api.ts';
import { untypedRequest, mainTenant } from '../support/fixtures.ts';
import {
  createWorkflow,
  definition,
  expectError,
  finished,
  listAtOnce,
  manualClock,
  startRun,
  walkPages,
} from './resource-helpers.ts';

const time = manualClock(Date.parse('2026-04-20T08:00:00Z'));
let key: string;
const created = {
  workflows: [] as string[],
  succeeded: [] as string[],
  failed: [] as string[],
  connections: [] as string[],
  keys: [] as string[],
};
let passing: string;
let failing: string;

/** Sets the server's clock to `seconds` after the start, so several items can share a timestamp. */
function at(seconds: number) {
  time.set(Date.parse('2026-04-20T08:00:00Z') + seconds * 1000);
}

const api = useTestServer({ clock: time.clock });
beforeAll(async () => {
  key = api.server.secretKey;
  // Three items in the same millisecond, then one per second: ties and order both matter.
  for (const seconds of [1, 1, 1, 2, 3]) {
    at(seconds);
    created.workflows.push(
      (
        await createWorkflow(
          api.server,
          key,
          definition([{ id: 'a', type: 'set', values: { a: 1 } }], { status: seconds === 1 ? 'paused' : 'active' }),
        )
      ).id,
    );
  }
  at(10);
  passing = (await createWorkflow(api.server, key, definition([{ id: 'ok', type: 'set', values: { a: 1 } }]))).id;
  failing = (await createWorkflow(api.server, key, definition([{ id: 'no', type: 'fail', message: 'no' }]))).id;
  created.workflows.push(passing, failing);
  for (const seconds of [11, 11, 11, 12, 13]) {
    at(seconds);
    created.succeeded.push((await startRun(api.server, key, passing)).id);
    created.failed.push((await startRun(api.server, key, failing)).id);
  }
  for (const id of [...created.succeeded, ...created.failed]) await finished(api.server, key, id);
  for (const seconds of [20, 20, 21, 22, 22]) {
    at(seconds);
    const response = await api.as(key).POST('/v1/connections', {
      body: {
        name: `Connection ${seconds}`,
        provider: 'slack',
        auth_type: 'bearer',
        credentials: { token: 'example' },
      },
    });
    created.connections.push(response.data!.data.id);
  }
  for (const seconds of [30, 30, 31, 32]) {
    at(seconds);
    created.keys.push(
      (
        await mainTenant(api.server).key({
          name: `Key ${seconds}`,
          type: seconds === 30 ? 'restricted' : 'secret',
          scopes: ['read'],
        })
      ).id,
    );
  }
  at(40);
});

/** Newest first by (timestamp, id), both descending, in binary (code unit) order as the database compares. */
function expectNewestFirst(items: Array<{ id: string } & Record<string, unknown>>, field: string) {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  for (let i = 1; i < items.length; i++) {
    const [newer, older] = [items[i - 1]!, items[i]!];
    const order = compare(String(newer[field]), String(older[field])) || compare(newer.id, older.id);
    expect(order, `${newer.id} listed before ${older.id}`).toBeGreaterThan(0);
  }
}

/** Walks the list with limit=2 and checks it against the whole list in one page and the expected ids. */
async function expectCompleteWalk(
  path: ListPath,
  query: Record<string, string>,
  expected: string[] | null,
  field = 'created_at',
) {
  const pages = await walkPages(api.server, key, path, query);
  const walked = pages.flat();
  const whole = await listAtOnce<{ id: string } & Record<string, unknown>>(api.server, key, path, query);
  expect(new Set(walked).size, 'no duplicates').toBe(walked.length);
  expect(walked, 'no gaps, same order as one page').toEqual(whole.map((item) => item.id));
  expectNewestFirst(whole, field);
  if (expected !== null) expect([...walked].sort()).toEqual([...expected].sort());
  expect(pages.length).toBe(Math.max(1, Math.ceil(walked.length / 2)));
  return walked;
}

describe('walking every page with limit=2', () => {
  it('workflows, with and without a status filter', async () => {
    await expectCompleteWalk('/v1/workflows', {}, created.workflows);
    await expectCompleteWalk('/v1/workflows', { status: 'paused' }, created.workflows.slice(0, 3));
    await expectCompleteWalk('/v1/workflows', { status: 'active' }, created.workflows.slice(3));
  });

  it('runs, with every combination of filters', async () => {
    await expectCompleteWalk('/v1/runs', {}, [...created.succeeded, ...created.failed]);
    await expectCompleteWalk('/v1/runs', { workflow_id: passing }, created.succeeded);
    await expectCompleteWalk('/v1/runs', { status: 'failed' }, created.failed);
    await expectCompleteWalk('/v1/runs', { workflow_id: failing, status: 'failed' }, created.failed);
    await expectCompleteWalk('/v1/runs', { workflow_id: passing, status: 'failed' }, []);
  });

  it('connections', async () => {
    await expectCompleteWalk('/v1/connections', {}, created.connections);
  });

  it('API keys, with and without a type filter', async () => {
    const all = await expectCompleteWalk('/v1/auth/api-keys', {}, null);
    for (const id of created.keys) expect(all).toContain(id);
    await expectCompleteWalk('/v1/auth/api-keys', { type: 'restricted' }, created.keys.slice(0, 2));
  });

  it('audit logs, with and without filters', async () => {
    await expectCompleteWalk('/v1/audit-logs', {}, null, 'occurred_at');
    const workflowEntries = await expectCompleteWalk(
      '/v1/audit-logs',
      { action: 'workflow.created' },
      null,
      'occurred_at',
    );
    expect(workflowEntries).toHaveLength(created.workflows.length);
    await expectCompleteWalk('/v1/audit-logs', { action: 'run.started', resource_type: 'run' }, null, 'occurred_at');
  });

  it('answers an empty list with one empty page and next_cursor null', async () => {
    const response = await api
      .as(key)
      .GET('/v1/runs', { params: { query: { workflow_id: passing, status: 'cancelled', limit: 2 } } });
    expect(response.data).toEqual({ success: true, data: [], next_cursor: null });
  });

  it('neither repeats nor skips items when new ones are created during the walk', async () => {
    const first = await api.as(key).GET('/v1/connections', { params: { query: { limit: 2 } } });
    at(50);
    const newer = await api.as(key).POST('/v1/connections', {
      body: { name: 'Newer', provider: 'slack', auth_type: 'bearer', credentials: { token: 'example' } },
    });
    const rest = await walkPages(api.server, key, '/v1/connections', { cursor: first.data!.next_cursor! });
    const walked = [...first.data!.data.map((c: { id: string }) => c.id), ...rest.flat()];
    expect([...walked].sort()).toEqual([...created.connections].sort());
    expect(walked).not.toContain(newer.data?.data.id);
    // Leave the list as the other tests expect it.
    await api
      .as(key)
      .DELETE('/v1/connections/{connection_id}', { params: { path: { connection_id: newer.data!.data.id } } });
  });
});

describe('cursors', () => {
  async function cursorOf(path: string): Promise<string> {
    const response = await untypedRequest(api.server, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=1`, {
      key,
    });
    expect(response.data?.next_cursor).toEqual(expect.any(String));
    return response.data!.next_cursor as string;
  }

  const lists = ['/v1/workflows', '/v1/runs', '/v1/connections', '/v1/auth/api-keys', '/v1/audit-logs'];

  it.each(lists)('%s refuses a garbage cursor with 400 invalid_cursor', async (path) => {
    for (const garbage of [
      'garbage',
      'eyJub3QiOiJhIGN1cnNvciJ9',
      Buffer.from('["workflows:","x"]').toString('base64url'),
    ]) {
      expectError(await untypedRequest(api.server, 'GET', `${path}?cursor=${garbage}`, { key }), 400, 'invalid_cursor');
    }
  });

  it.each(lists)('%s refuses a cursor of another list with 400 invalid_cursor', async (path) => {
    for (const other of lists.filter((list) => list !== path)) {
      const cursor = await cursorOf(other);
      expectError(await untypedRequest(api.server, 'GET', `${path}?cursor=${cursor}`, { key }), 400, 'invalid_cursor');
    }
  });

  it.each([
    ['/v1/workflows?status=paused', ['/v1/workflows?status=active', '/v1/workflows']],
    [
      '/v1/runs?status=failed',
      ['/v1/runs?status=succeeded', '/v1/runs', `/v1/runs?status=failed&workflow_id=${'wf_'.padEnd(27, '0')}`],
    ],
    ['/v1/auth/api-keys?type=secret', ['/v1/auth/api-keys?type=restricted', '/v1/auth/api-keys?status=active']],
    [
      '/v1/audit-logs?action=workflow.created',
      ['/v1/audit-logs?action=run.started', '/v1/audit-logs', '/v1/audit-logs?action=workflow.created&outcome=success'],
    ],
  ])('a cursor of %s is refused with other filters', async (path, others) => {
    const cursor = await cursorOf(path);
    expect((await untypedRequest(api.server, 'GET', `${path}&cursor=${cursor}`, { key })).status).toBe(200);
    for (const other of others) {
      expectError(
        await untypedRequest(api.server, 'GET', `${other}${other.includes('?') ? '&' : '?'}cursor=${cursor}`, { key }),
        400,
        'invalid_cursor',
      );
    }
  });

  it('refuses a run list cursor used with another workflow_id', async () => {
    const cursor = await cursorOf(`/v1/runs?workflow_id=${passing}`);
    expectError(
      await api.as(key).GET('/v1/runs', { params: { query: { workflow_id: failing, cursor } } }),
      400,
      'invalid_cursor',
    );
  });

  it('refuses a limit outside 1..100 with 400 validation_failed', async () => {
    for (const limit of ['0', '101', 'two']) {
      expectError(
        await api.as(key).GET('/v1/workflows', { params: { query: { limit: offContract(limit) } } }),
        400,
        'validation_failed',
      );
    }
  });
});
