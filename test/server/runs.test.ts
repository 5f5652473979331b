// Runs against the real server and its step runner: the lifecycle
// queued -> running -> succeeded | failed | cancelled, templates exactly as the
// WorkflowStep schema says, `fail` steps, cancel (during a wait, while queued,
// twice, too late), retry (a new run on the workflow's current version), paused
// workflows, and a run that survives a restart of the server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeServer } from '../../src/compose.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { useTestServer } from '../support/api.ts';
import { generousRateLimits, type TestServer } from '../support/server.ts';
import {
  createWorkflow,
  definition,
  expectError,
  finished,
  getRun,
  startRun,
  stepReached,
  type Run,
  type WorkflowStep,
} from './resource-helpers.ts';

let key: string;

const api = useTestServer();
beforeAll(() => {
  key = api.server.secretKey;
});

async function runToEnd(steps: WorkflowStep[], input?: Record<string, unknown>): Promise<Run> {
  const workflow = await createWorkflow(api.server, key, definition(steps));
  const run = await startRun(api.server, key, workflow.id, input);
  return finished(api.server, key, run.id);
}

function statuses(run: Run): string[] {
  return run.steps.map((step) => step.status);
}

describe('lifecycle', () => {
  it('creates a run queued and the step runner takes it to succeeded, step by step', async () => {
    const workflow = await createWorkflow(
      api.server,
      key,
      definition([
        { id: 'first', type: 'set', values: { a: 1 } },
        { id: 'second', type: 'log', message: 'a is {{vars.a}}' },
      ]),
    );
    const queued = await startRun(api.server, key, workflow.id);
    expect(queued).toMatchObject({
      workflow_id: workflow.id,
      workflow_version: 1,
      status: 'queued',
      trigger: { type: 'manual', event_id: null },
      input: {},
      output: null,
      error: null,
      retry_of: null,
      environment: 'test',
      started_at: null,
      finished_at: null,
    });
    expect(queued.id).toMatch(/^run_[0-9A-Za-z]{24}$/);
    expect(queued.steps).toEqual([
      {
        step_id: 'first',
        type: 'set',
        status: 'pending',
        started_at: null,
        finished_at: null,
        error: null,
        output: null,
      },
      {
        step_id: 'second',
        type: 'log',
        status: 'pending',
        started_at: null,
        finished_at: null,
        error: null,
        output: null,
      },
    ]);

    const done = await finished(api.server, key, queued.id);
    expect(done.status).toBe('succeeded');
    expect(done.output).toEqual({ a: 1 });
    // Each step shows what it produced: the values a set step stored, the message a log step wrote.
    expect(done.steps.map((step) => step.output)).toEqual([{ a: 1 }, { message: 'a is 1', level: 'info' }]);
    expect(done.error).toBeNull();
    expect(statuses(done)).toEqual(['succeeded', 'succeeded']);
    for (const step of done.steps) {
      expect(step.started_at).not.toBeNull();
      expect(Date.parse(step.finished_at!)).toBeGreaterThanOrEqual(Date.parse(step.started_at!));
    }
    expect(Date.parse(done.started_at!)).toBeGreaterThanOrEqual(Date.parse(done.created_at));
    expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
  });

  it('is running, with no output yet, while a step is in progress', async () => {
    const workflow = await createWorkflow(
      api.server,
      key,
      definition([
        { id: 'remember', type: 'set', values: { a: 'x' } },
        { id: 'pause', type: 'wait', seconds: 1 },
      ]),
    );
    const run = await startRun(api.server, key, workflow.id);
    const running = await stepReached(api.server, key, run.id, 'pause', 'running');
    expect(running.status).toBe('running');
    expect(running.output).toBeNull();
    expect(running.finished_at).toBeNull();
    expect(running.started_at).not.toBeNull();
    expect(statuses(running)).toEqual(['succeeded', 'running']);

    const done = await finished(api.server, key, run.id);
    expect(done.status).toBe('succeeded');
    // The wait really waited.
    const wait = done.steps[1]!;
    expect(Date.parse(wait.finished_at!) - Date.parse(wait.started_at!)).toBeGreaterThanOrEqual(990);
  });

  it('makes output the variables at the end, set by a shallow merge', async () => {
    const done = await runToEnd([
      { id: 'one', type: 'set', values: { a: 1, keep: { x: 1 } } },
      { id: 'two', type: 'set', values: { a: 2, b: [true, null] } },
    ]);
    expect(done.output).toEqual({ a: 2, keep: { x: 1 }, b: [true, null] });
  });

  it('keeps variables named __proto__ and constructor as variables (they are valid names)', async () => {
    const done = await runToEnd([
      { id: 'one', type: 'set', values: JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "c"}') },
      { id: 'two', type: 'set', values: { seen: '{{vars.__proto__}} {{vars.polluted}}' } },
    ]);
    expect(done.output).toEqual(
      JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "c", "seen": "{\\"polluted\\":\\"yes\\"} "}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('executes the version it was created with, even when the workflow is replaced meanwhile', async () => {
    const workflow = await createWorkflow(
      api.server,
      key,
      definition([
        { id: 'pause', type: 'wait', seconds: 1 },
        { id: 'mark', type: 'set', values: { version: 'one' } },
      ]),
    );
    const run = await startRun(api.server, key, workflow.id);
    await stepReached(api.server, key, run.id, 'pause', 'running');
    const replaced = await api.as(key).PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: workflow.id } },
      body: definition([{ id: 'other', type: 'set', values: { version: 'two' } }]),
    });
    expect(replaced.data?.data.version).toBe(2);
    const done = await finished(api.server, key, run.id);
    expect(done).toMatchObject({ status: 'succeeded', workflow_version: 1, output: { version: 'one' } });
    expect(done.steps.map((step) => step.step_id)).toEqual(['pause', 'mark']);
  });

  it('answers 404 for an unknown run', async () => {
    expectError(
      await api.as(key).GET('/v1/runs/{run_id}', { params: { path: { run_id: 'run_000000000000000000000000' } } }),
      404,
      'not_found',
    );
  });
});

describe('templates in a run', () => {
  it('renders input and vars, numbers and objects as JSON text, missing paths as empty, in a single pass', async () => {
    const done = await runToEnd(
      [
        { id: 'secret', type: 'set', values: { secret: 'hush-7f3a' } },
        {
          id: 'render',
          type: 'set',
          values: {
            region: '{{input.region}}',
            count: '{{ input.count }}',
            nested: '{{input.nested}}',
            sku: '{{input.items.1.sku}}',
            copied: '{{input.text}}',
            missing: '<{{input.nope}}|{{vars.unset}}|{{event.data.x}}>',
            not_a_template: '{{input.region',
            untouched: 42,
            deep: { list: ['{{vars.secret}}'] },
          },
        },
        { id: 'combine', type: 'set', values: { label: '{{vars.region}}/{{vars.count}}' } },
      ],
      {
        region: 'EMEA',
        count: 42,
        nested: { a: [1, 'b'] },
        items: [{ sku: 'A-1' }, { sku: 'B-2' }],
        text: '{{vars.secret}}',
      },
    );
    expect(done.status).toBe('succeeded');
    expect(done.output).toEqual({
      secret: 'hush-7f3a',
      region: 'EMEA',
      count: '42',
      nested: '{"a":[1,"b"]}',
      sku: 'B-2',
      // The input held a template: it is inserted as text, never rendered again.
      copied: '{{vars.secret}}',
      missing: '<||>',
      not_a_template: '{{input.region',
      untouched: 42,
      deep: { list: ['hush-7f3a'] },
      label: 'EMEA/42',
    });
  });

  it('writes a log step to the runner log, rendered and tagged with the run and step', async () => {
    const marker = `marker-${Date.now()}`;
    const done = await runToEnd(
      [{ id: 'shout', type: 'log', level: 'warn', message: 'Order {{input.order}} from {{input.who}}' }],
      { order: marker, who: 'Maya' },
    );
    expect(done.status).toBe('succeeded');
    const lines = api.server.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.run_id === done.id);
    expect(lines).toEqual([expect.objectContaining({ msg: `Order ${marker} from Maya`, step_id: 'shout', level: 40 })]);
    expect(done.steps[0]!.output).toEqual({ message: `Order ${marker} from Maya`, level: 'warn' });
  });
});

describe('fail steps', () => {
  it('fail the run with error {step_id, message}, skip the later steps and keep the variables as output', async () => {
    const done = await runToEnd(
      [
        { id: 'before', type: 'set', values: { order: '{{input.order}}' } },
        { id: 'outage', type: 'fail', message: 'Simulated outage for {{input.merchant}} ({{vars.order}})' },
        { id: 'after', type: 'set', values: { never: true } },
        { id: 'later', type: 'log', message: 'never' },
      ],
      { order: 'ord_1', merchant: 'Northwind Outfitters' },
    );
    expect(done.status).toBe('failed');
    const message = 'Simulated outage for Northwind Outfitters (ord_1)';
    expect(done.error).toEqual({ step_id: 'outage', message });
    expect(done.output).toEqual({ order: 'ord_1' });
    expect(statuses(done)).toEqual(['succeeded', 'failed', 'skipped', 'skipped']);
    expect(done.steps[1]).toMatchObject({ error: message });
    expect(done.steps[1]!.finished_at).not.toBeNull();
    for (const skipped of done.steps.slice(2))
      expect(skipped).toMatchObject({ started_at: null, finished_at: null, error: null, output: null });
    // The set step before the failure shows its values; the fail step produced nothing but its error.
    expect(done.steps.slice(0, 2).map((step) => step.output)).toEqual([{ order: 'ord_1' }, null]);
    expect(done.finished_at).not.toBeNull();
  });
});

describe('cancel', () => {
  it('stops a run during a wait at once: the wait becomes cancelled, later steps skipped, output = vars so far', async () => {
    const workflow = await createWorkflow(
      api.server,
      key,
      definition([
        { id: 'remember', type: 'set', values: { a: 1 } },
        { id: 'pause', type: 'wait', seconds: 60 },
        { id: 'after', type: 'set', values: { b: 2 } },
      ]),
    );
    const run = await startRun(api.server, key, workflow.id);
    await stepReached(api.server, key, run.id, 'pause', 'running');

    const startedCancel = Date.now();
    const response = await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });
    expect(response.status).toBe(200);
    const cancelled = response.data!.data;
    expect(cancelled.status).toBe('cancelled');
    expect(statuses(cancelled)).toEqual(['succeeded', 'cancelled', 'skipped']);
    expect(cancelled.steps[1]!.finished_at).not.toBeNull();
    expect(cancelled.steps[2]).toMatchObject({ started_at: null, finished_at: null });
    expect(cancelled.output).toEqual({ a: 1 });
    expect(cancelled.finished_at).not.toBeNull();
    expect(cancelled.error).toBeNull();

    // The runner lets go of the run at once (not after the 60-second wait) and does not overwrite it.
    await api.server.server.runner.idle();
    expect(Date.now() - startedCancel).toBeLessThan(5000);
    expect(await getRun(api.server, key, run.id)).toEqual(cancelled);
  });

  it('is idempotent: cancelling a cancelled run returns it unchanged', async () => {
    const workflow = await createWorkflow(api.server, key, definition([{ id: 'pause', type: 'wait', seconds: 60 }]));
    const run = await startRun(api.server, key, workflow.id);
    await stepReached(api.server, key, run.id, 'pause', 'running');
    const first = await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });
    const second = await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.data?.data).toEqual(first.data?.data);
  });

  it('refuses a succeeded or failed run with 409 run_not_cancellable and leaves it as it was', async () => {
    const succeeded = await runToEnd([{ id: 'ok', type: 'set', values: { a: 1 } }]);
    const failed = await runToEnd([{ id: 'no', type: 'fail', message: 'nope' }]);
    for (const run of [succeeded, failed]) {
      expectError(
        await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } }),
        409,
        'run_not_cancellable',
      );
      expect(await getRun(api.server, key, run.id)).toEqual(run);
    }
  });

  it('answers 404 for an unknown run', async () => {
    expectError(
      await api
        .as(key)
        .POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: 'run_000000000000000000000000' } } }),
      404,
      'not_found',
    );
  });
});

describe('cancel while queued', () => {
  const idle = useTestServer();
  beforeAll(async () => {
    await idle.server.server.runner.stop();
  });

  it('skips every step, leaves started_at null and sets output to {}', async () => {
    const workflow = await createWorkflow(
      idle.server,
      idle.server.secretKey,
      definition([
        { id: 'one', type: 'set', values: { a: 1 } },
        { id: 'two', type: 'log', message: 'x' },
      ]),
    );
    const run = await startRun(idle.server, idle.server.secretKey, workflow.id);
    expect((await getRun(idle.server, idle.server.secretKey, run.id)).status).toBe('queued');

    const response = await idle.client.POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });
    expect(response.status).toBe(200);
    expect(response.data?.data).toMatchObject({ status: 'cancelled', started_at: null, output: {}, error: null });
    expect(response.data?.data.finished_at).not.toBeNull();
    expect(statuses(response.data?.data as Run)).toEqual(['skipped', 'skipped']);
    for (const step of response.data!.data.steps) expect(step).toMatchObject({ started_at: null, finished_at: null });
  });
});

describe('retry', () => {
  it("starts a NEW run linked by retry_of, with the same input, on the workflow's current version", async () => {
    const workflow = await createWorkflow(
      api.server,
      key,
      definition([{ id: 'broken', type: 'fail', message: 'broken for {{input.customer}}' }]),
    );
    const original = await finished(
      api.server,
      key,
      (await startRun(api.server, key, workflow.id, { customer: 'Maya' })).id,
    );
    expect(original.status).toBe('failed');

    // The fix: version 2.
    await api.as(key).PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: workflow.id } },
      body: definition([{ id: 'fixed', type: 'set', values: { greeted: '{{input.customer}}' } }]),
    });

    const response = await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: original.id } } });
    expect(response.status).toBe(202);
    const retry = response.data!.data;
    expect(retry.id).not.toBe(original.id);
    expect(retry).toMatchObject({
      status: 'queued',
      retry_of: original.id,
      trigger: { type: 'retry', event_id: null },
      input: { customer: 'Maya' },
      workflow_id: workflow.id,
      workflow_version: 2,
      output: null,
    });

    const done = await finished(api.server, key, retry.id);
    expect(done).toMatchObject({ status: 'succeeded', output: { greeted: 'Maya' } });
    expect(done.steps.map((step) => step.step_id)).toEqual(['fixed']);
    // The original is left as it was.
    expect(await getRun(api.server, key, original.id)).toEqual(original);
  });

  it('retries a cancelled run, and a retry can itself be retried, each linking to the run it retries', async () => {
    const workflow = await createWorkflow(api.server, key, definition([{ id: 'pause', type: 'wait', seconds: 60 }]));
    const run = await startRun(api.server, key, workflow.id, { n: 1 });
    await stepReached(api.server, key, run.id, 'pause', 'running');
    await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: run.id } } });

    const first = await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: run.id } } });
    expect(first.status).toBe(202);
    expect(first.data?.data).toMatchObject({ retry_of: run.id, input: { n: 1 } });
    await stepReached(api.server, key, first.data!.data.id, 'pause', 'running');
    await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: first.data!.data.id } } });

    const second = await api
      .as(key)
      .POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: first.data!.data.id } } });
    expect(second.status).toBe(202);
    expect(second.data?.data).toMatchObject({ retry_of: first.data?.data.id, trigger: { type: 'retry' } });
    await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: second.data!.data.id } } });
  });

  it('refuses a succeeded run, and a running one, with 409 run_not_retryable', async () => {
    const succeeded = await runToEnd([{ id: 'ok', type: 'set', values: { a: 1 } }]);
    expectError(
      await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: succeeded.id } } }),
      409,
      'run_not_retryable',
    );

    const workflow = await createWorkflow(api.server, key, definition([{ id: 'pause', type: 'wait', seconds: 60 }]));
    const running = await startRun(api.server, key, workflow.id);
    await stepReached(api.server, key, running.id, 'pause', 'running');
    expectError(
      await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: running.id } } }),
      409,
      'run_not_retryable',
    );
    await api.as(key).POST('/v1/runs/{run_id}/cancel', { params: { path: { run_id: running.id } } });
  });

  it('refuses a run whose workflow was deleted with 409 run_not_retryable', async () => {
    const workflow = await createWorkflow(api.server, key, definition([{ id: 'no', type: 'fail', message: 'no' }]));
    const failed = await finished(api.server, key, (await startRun(api.server, key, workflow.id)).id);
    await api.as(key).DELETE('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } } });
    expectError(
      await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: failed.id } } }),
      409,
      'run_not_retryable',
    );
  });

  it('answers 404 for an unknown run', async () => {
    expectError(
      await api
        .as(key)
        .POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: 'run_000000000000000000000000' } } }),
      404,
      'not_found',
    );
  });
});

describe('paused workflows', () => {
  it('start no run (409 workflow_not_active) and their failed runs cannot be retried until active again', async () => {
    const steps: WorkflowStep[] = [{ id: 'no', type: 'fail', message: 'no' }];
    const workflow = await createWorkflow(api.server, key, definition(steps));
    const failed = await finished(api.server, key, (await startRun(api.server, key, workflow.id)).id);
    await api.as(key).PUT('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: workflow.id } },
      body: definition(steps, { status: 'paused' }),
    });

    const before = (await api.as(key).GET('/v1/runs', { params: { query: { workflow_id: workflow.id } } })).data!.data
      .length;
    expectError(
      await api
        .as(key)
        .POST('/v1/workflows/{workflow_id}/run', { params: { path: { workflow_id: workflow.id } }, body: {} }),
      409,
      'workflow_not_active',
    );
    expectError(
      await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: failed.id } } }),
      409,
      'workflow_not_active',
    );
    expect(
      (await api.as(key).GET('/v1/runs', { params: { query: { workflow_id: workflow.id } } })).data?.data.length,
    ).toBe(before);

    await api
      .as(key)
      .PUT('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: workflow.id } }, body: definition(steps) });
    expect(
      (await api.as(key).POST('/v1/runs/{run_id}/retry', { params: { path: { run_id: failed.id } } })).status,
    ).toBe(202);
  });
});

describe('a restart', () => {
  const first = useTestServer();

  /** A second server process on the same data directory, as src/main.ts would start after a crash. */
  async function startAgain(previous: TestServer) {
    const logs: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write: (chunk: Buffer, _encoding, done) => (logs.push(chunk.toString('utf8')), done()),
      }),
    });
    const again = await composeServer(previous.server.config, { logger, rateLimitConfig: generousRateLimits() });
    const listener = http.createServer(again.app);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const view: TestServer = {
      ...previous,
      server: again,
      logs,
      baseUrl: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`,
    };
    return {
      view,
      async close() {
        listener.closeAllConnections();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
        await again.close();
      },
    };
  }

  it('resumes a run interrupted mid-wait where it was, and finishes it', async () => {
    const firstKey = first.server.secretKey;
    const marker = `before-${Date.now()}`;
    const workflow = await createWorkflow(
      first.server,
      firstKey,
      definition([
        { id: 'hello', type: 'log', message: '{{input.marker}}' },
        { id: 'pause', type: 'wait', seconds: 2 },
        { id: 'done', type: 'set', values: { done: 'yes', marker: '{{input.marker}}' } },
      ]),
    );
    const run = await startRun(first.server, firstKey, workflow.id, { marker });
    const midWait = await stepReached(first.server, firstKey, run.id, 'pause', 'running');

    // The first server stops mid-wait, as on shutdown: the run stays `running` in the database.
    // (Its database handle stays open until afterAll; a second handle on a WAL database is fine.)
    await first.server.server.runner.stop();
    expect(
      (
        await first.server.server.database.db
          .selectFrom('runs')
          .select('status')
          .where('id', '=', run.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('running');

    const second = await startAgain(first.server);
    try {
      const resumed = await getRun(second.view, firstKey, run.id);
      expect(resumed.status).toBe('running');
      const done = await finished(second.view, firstKey, run.id);
      expect(done).toMatchObject({ status: 'succeeded', output: { done: 'yes', marker } });
      expect(statuses(done)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      // Resumed, not restarted: the steps that had finished keep their times and are not executed again,
      // and the wait keeps its start (only what remained of it was waited).
      expect(done.steps[0]).toEqual(midWait.steps[0]);
      expect(done.steps[1]!.started_at).toBe(midWait.steps[1]!.started_at);
      expect(first.server.logs.filter((line) => line.includes(marker))).toHaveLength(1);
      expect(second.view.logs.filter((line) => line.includes(marker))).toHaveLength(0);
    } finally {
      await second.close();
    }
  });
});
