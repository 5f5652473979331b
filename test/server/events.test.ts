// POST /v1/events against the real server: an event starts exactly the active
// workflows of the caller's project and environment whose trigger is that event
// type, each run with the event's data as input and trigger {type: event, event_id},
// and the event is readable in templates as {{event.*}}.
import { beforeAll, describe, expect, it } from 'vitest';
import type { components } from '../../generated/api.d.ts';
import { offContract, useTestServer } from '../support/api.ts';
import { mainTenant, newTenant } from '../support/fixtures.ts';
import {
  createWorkflow,
  definition,
  expectError,
  finished,
  getRun,
  listAtOnce,
  type Run,
  type WorkflowStep,
} from './resource-helpers.ts';

let key: string;

const api = useTestServer();
beforeAll(() => {
  key = api.server.secretKey;
});

const remember: WorkflowStep[] = [
  {
    id: 'remember',
    type: 'set',
    values: {
      order: '{{event.data.order_id}}',
      email: '{{input.customer.email}}',
      type: '{{event.type}}',
      id: '{{event.id}}',
      at: '{{event.occurred_at}}',
    },
  },
];

function listening(eventType: string, overrides: Parameters<typeof definition>[1] = {}) {
  return definition(remember, { trigger: { type: 'event', event_type: eventType }, ...overrides });
}

type EventInput = components['schemas']['EventInput'];

async function ingest(body: EventInput, as = key) {
  const response = await api.as(as).POST('/v1/events', { body });
  expect(response.status, response.text).toBe(202);
  return response.data!.data as { id: string; type: string; received_at: string; triggered_runs: string[] };
}

describe('POST /v1/events', () => {
  it('starts exactly the active workflows listening for the type, oldest first, with the data as input', async () => {
    const type = 'order.created';
    const older = await createWorkflow(api.server, key, listening(type));
    const newer = await createWorkflow(api.server, key, listening(type));
    // None of these may start.
    await createWorkflow(api.server, key, listening(type, { status: 'paused' }));
    const deleted = await createWorkflow(api.server, key, listening(type));
    await api.as(key).DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: deleted.id } } });
    await createWorkflow(api.server, key, listening('order.created.v2'));
    await createWorkflow(api.server, key, listening('order.cancelled'));
    await createWorkflow(api.server, key, definition(remember));
    // Same type, other tenants: another project, and the live data of this one.
    const other = await newTenant(api.server);
    const otherKey = (await other.key()).secret;
    await createWorkflow(api.server, otherKey, listening(type));
    const liveKey = (await mainTenant(api.server).key({ environment: 'live' })).secret;
    await createWorkflow(api.server, liveKey, listening(type));

    const data = { order_id: 'ord_10482', customer: { email: 'maya@example.com' }, total_cents: 12950 };
    const receipt = await ingest({ type, data, occurred_at: '2026-04-20T08:14:58Z' });
    expect(receipt.id).toMatch(/^evt_[0-9A-Za-z]{24}$/);
    expect(receipt.type).toBe(type);
    expect(receipt.triggered_runs).toHaveLength(2);

    const runs = await Promise.all(receipt.triggered_runs.map((id) => finished(api.server, key, id)));
    expect(runs.map((run) => run.workflow_id)).toEqual([older.id, newer.id]);
    for (const run of runs) {
      expect(run).toMatchObject({
        status: 'succeeded',
        trigger: { type: 'event', event_id: receipt.id },
        input: data,
        retry_of: null,
      });
      expect(run.output).toEqual({
        order: 'ord_10482',
        email: 'maya@example.com',
        type,
        id: receipt.id,
        at: '2026-04-20T08:14:58Z',
      });
    }

    // Nothing else started anywhere.
    expect((await listAtOnce(api.server, otherKey, '/v1/runs')).length).toBe(0);
    expect((await listAtOnce(api.server, liveKey, '/v1/runs')).length).toBe(0);
    const allRuns = await listAtOnce<Run>(api.server, key, '/v1/runs');
    expect(
      allRuns
        .filter((run) => run.trigger.event_id === receipt.id)
        .map((run) => run.id)
        .sort(),
    ).toEqual([...receipt.triggered_runs].sort());
  });

  it('accepts an event no workflow listens for, starting nothing', async () => {
    const before = (await listAtOnce(api.server, key, '/v1/runs')).length;
    const receipt = await ingest({ type: 'nobody.listens', data: {} });
    expect(receipt.triggered_runs).toEqual([]);
    expect((await listAtOnce(api.server, key, '/v1/runs')).length).toBe(before);
  });

  it('defaults occurred_at to the time of receipt', async () => {
    await createWorkflow(api.server, key, listening('clock.tick'));
    const receipt = await ingest({ type: 'clock.tick', data: {} });
    const run = await finished(api.server, key, receipt.triggered_runs[0]!);
    expect(Date.parse(run.output!.at as string)).toBe(Date.parse(receipt.received_at));
  });

  it('treats event data as untrusted: templates inside it are not rendered', async () => {
    await createWorkflow(
      api.server,
      key,
      definition(
        [
          { id: 'secret', type: 'set', values: { secret: 'internal-only' } },
          { id: 'copy', type: 'set', values: { note: 'Note: {{event.data.note}}' } },
        ],
        { trigger: { type: 'event', event_type: 'note.added' } },
      ),
    );
    const receipt = await ingest({ type: 'note.added', data: { note: '{{vars.secret}}' } });
    const run = await finished(api.server, key, receipt.triggered_runs[0]!);
    expect(run.output).toEqual({ secret: 'internal-only', note: 'Note: {{vars.secret}}' });
  });

  it('is accepted from a client key (events:write only), which can read nothing', async () => {
    await createWorkflow(api.server, key, listening('signup.completed'));
    const client = await mainTenant(api.server).key({ type: 'client', scopes: ['events:write'] });
    const receipt = await ingest({ type: 'signup.completed', data: { order_id: 'x' } }, client.secret);
    expect(receipt.triggered_runs).toHaveLength(1);
    expect(
      (
        await api
          .as(client.secret)
          .GET('/v1/runs/{run_id}', { params: { path: { run_id: receipt.triggered_runs[0]! } } })
      ).status,
    ).toBe(403);
  });

  it('lets a retried event run see the same {{event.*}} values', async () => {
    await createWorkflow(
      api.server,
      key,
      definition(
        [
          { id: 'remember', type: 'set', values: { order: '{{event.data.order_id}}', id: '{{event.id}}' } },
          { id: 'boom', type: 'fail', message: 'downstream for {{event.data.order_id}}' },
        ],
        { trigger: { type: 'event', event_type: 'payment.failed' } },
      ),
    );
    const receipt = await ingest({ type: 'payment.failed', data: { order_id: 'ord_77' } });
    const failed = await finished(api.server, key, receipt.triggered_runs[0]!);
    expect(failed.error).toEqual({ step_id: 'boom', message: 'downstream for ord_77' });

    const retried = await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: failed.id } } });
    expect(retried.status).toBe(202);
    expect(retried.data?.data.trigger).toEqual({ type: 'retry', event_id: receipt.id });
    const done = await finished(api.server, key, retried.data!.data.id);
    expect(done.output).toEqual({ order: 'ord_77', id: receipt.id });
    expect(done.error).toEqual({ step_id: 'boom', message: 'downstream for ord_77' });
    expect((await getRun(api.server, key, failed.id)).retry_of).toBeNull();
  });

  it('refuses an invalid event with 400 validation_failed and starts nothing', async () => {
    await createWorkflow(api.server, key, listening('valid.type'));
    const before = (await listAtOnce(api.server, key, '/v1/runs')).length;
    expectError(
      await api.as(key).POST('/v1/events', { body: { type: 'Valid.Type', data: {} } }),
      400,
      'validation_failed',
    );
    expectError(
      await api.as(key).POST('/v1/events', { body: offContract({ type: 'valid.type' }) }),
      400,
      'validation_failed',
    );
    expectError(
      await api.as(key).POST('/v1/events', { body: offContract({ type: 'valid.type', data: [] }) }),
      400,
      'validation_failed',
    );
    expect((await listAtOnce(api.server, key, '/v1/runs')).length).toBe(before);
  });
});
